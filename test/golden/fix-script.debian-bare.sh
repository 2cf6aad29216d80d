#!/bin/sh
# Written by `rootlet doctor --fix-script` for user alice on host local.
# Review it, then run it as root: sudo sh ./rootlet-fix.sh
# Every step is idempotent: running the script again changes nothing.
# ROOT is the directory files are written under (empty: this host); steps that act on the
# running system are skipped when ROOT is set.
set -eu
[ -n "${ROOT+set}" ] || ROOT=''
if [ "$(id -u)" != 0 ]; then echo "rootlet fix script: run it as root (sudo sh $0)" >&2; exit 1; fi
# Steps that act on the running system go through now(): a failure is reported, the rest still runs.
not_applied=''
now() {
  "$@" || { echo "rootlet fix script: '$*' failed (see above); run it again once the system allows it" >&2; not_applied="$not_applied; $*"; }
}

# cgroup.delegation (fail): cpu, cpuset, io not delegated (delegated to user@1000.service: memory pids)
# Delegate every controller the kubelet needs to user services.
mkdir -p "$ROOT"/etc/systemd/system/user@.service.d
cat > "$ROOT"/etc/systemd/system/user@.service.d/delegate.conf <<'ROOTLET_EOF'
[Service]
Delegate=cpu cpuset io memory pids
ROOTLET_EOF
# Make systemd read the drop-in (skipped when ROOT is set: it acts on the running system)
[ -n "$ROOT" ] || now systemctl daemon-reload

# kernel.modules (fail): not loaded: br_netfilter, vxlan
# Load the modules the nodes need at every boot (a user namespace cannot load them).
mkdir -p "$ROOT"/etc/modules-load.d
cat > "$ROOT"/etc/modules-load.d/rootlet.conf <<'ROOTLET_EOF'
br_netfilter
vxlan
ip_tables
iptable_nat
ip6_tables
ip6table_nat
overlay
ROOTLET_EOF
# Load them now (skipped when ROOT is set: it acts on the running system)
[ -n "$ROOT" ] || now modprobe -a br_netfilter vxlan

# sysctl.network (warn): net.ipv4.conf.default.rp_filter = 1 (strict) drops VXLAN traffic between nodes on different hosts
# Network settings for nodes in rootless containers.
mkdir -p "$ROOT"/etc/sysctl.d
cat > "$ROOT"/etc/sysctl.d/60-rootlet-network.conf <<'ROOTLET_EOF'
net.ipv4.conf.default.rp_filter = 2
ROOTLET_EOF
# Apply them now (skipped when ROOT is set: it acts on the running system)
[ -n "$ROOT" ] || now sysctl -p /etc/sysctl.d/60-rootlet-network.conf

# sysctl.inotify (warn): max_user_watches = 8192, max_user_instances = 128: below 524288 and 512, pods fail with "too many open files"
# Enough inotify watches and instances for several nodes.
mkdir -p "$ROOT"/etc/sysctl.d
cat > "$ROOT"/etc/sysctl.d/60-rootlet-inotify.conf <<'ROOTLET_EOF'
fs.inotify.max_user_watches = 524288
fs.inotify.max_user_instances = 512
ROOTLET_EOF
# Apply them now (skipped when ROOT is set: it acts on the running system)
[ -n "$ROOT" ] || now sysctl -p /etc/sysctl.d/60-rootlet-inotify.conf

# subid.range (fail): alice has no range in /etc/subuid; alice has no range in /etc/subgid
# Give alice 65536 subordinate ids in /etc/subuid, above every range already there.
grep -qxF alice:165536:65536 "$ROOT/etc/subuid" 2>/dev/null || usermod ${ROOT:+--prefix "$ROOT"} --add-subuids 165536-231071 -- alice
# Give alice 65536 subordinate ids in /etc/subgid, above every range already there.
grep -qxF alice:165536:65536 "$ROOT/etc/subgid" 2>/dev/null || usermod ${ROOT:+--prefix "$ROOT"} --add-subgids 165536-231071 -- alice

# subid.tools (fail): /usr/bin/newuidmap is neither setuid root nor has cap_setuid
# Let newuidmap write id maps for regular users.
chown root "$ROOT"/usr/bin/newuidmap && chmod u+s "$ROOT"/usr/bin/newuidmap

# limits.nofile (warn): open-files limit of this session: soft 1024, hard 4096: below 64000, containerd and the kubelet in a node run out of file descriptors
# Raise alice's open-files limit for login sessions (user services get systemd's 524288 already).
mkdir -p "$ROOT"/etc/security/limits.d
cat > "$ROOT"/etc/security/limits.d/60-rootlet-alice.conf <<'ROOTLET_EOF'
alice soft nofile 1048576
alice hard nofile 1048576
ROOTLET_EOF

# systemd.linger (warn): lingering is off for alice (no /var/lib/systemd/linger/alice): the engine and the cluster stop when alice logs out
# Keep alice's services (the engine, the nodes) running without a login session.
if [ -z "$ROOT" ]; then now loginctl enable-linger -- alice; else mkdir -p "$ROOT/var/lib/systemd/linger" && : > "$ROOT"/var/lib/systemd/linger/alice; fi

# dev.tun (fail): /dev/net/tun is mode 0600, owner 0:0: alice cannot open it; slirp4netns and pasta need it for rootless networking
# Keep /dev/net/tun open to every user across reboots (the usual mode on desktop distributions).
mkdir -p "$ROOT"/etc/udev/rules.d
cat > "$ROOT"/etc/udev/rules.d/60-rootlet-tun.rules <<'ROOTLET_EOF'
KERNEL=="tun", MODE="0666"
ROOTLET_EOF
# Open it now.
[ ! -e "$ROOT/dev/net/tun" ] || chmod 666 "$ROOT/dev/net/tun"

# Not fixed by this script (needs your decision, another kernel or other hardware):
#   dev.fuse: as root: modprobe fuse
#   userns.pods: only needed for hostUsers: false pods: as root, give alice 7274496 sub-ids (usermod --add-subuids FIRST-LAST --add-subgids FIRST-LAST alice with an unused range of that size); ordinary pods work without

echo 'rootlet: applied fixes for cgroup.delegation, kernel.modules, sysctl.network, sysctl.inotify, subid.range, subid.tools, limits.nofile, systemd.linger, dev.tun.'
echo 'then: log out and back in as alice (or: loginctl terminate-user alice) so user@1000.service gets the delegated controllers'
echo 'then: if alice already ran a rootless engine: podman system migrate (or restart rootless Docker) as alice'
echo 'then: log in again as alice for the new open-files limit'
if [ -n "$not_applied" ]; then echo "rootlet fix script: not applied to the running system:${not_applied#;}" >&2; exit 1; fi
