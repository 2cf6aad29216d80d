#!/usr/bin/env bash
# A real sshd for the multi-host tests, as root (../shared/ENVIRONMENT.md, "Several hosts on one machine"):
# Debian's openssh-server run as a separate daemon on 127.0.0.1:2222 with its own config, host key and pid file
# under /etc/rootlet-test-sshd/. The machine's own sshd, its config and port 22 are never touched.
#   provision-sshd.sh [--listen=ADDRESS]... [--client USER]... [--login USER]...
# --listen=ADDRESS: sshd also listens on ADDRESS:2222 (an address of this machine), so tests reach "hosts" at
#   addresses of their own.
# --login USER: USER accepts the test client key (~/.ssh/authorized_keys) and may log in; only these users may.
# --client USER: as --login, and USER also gets a copy of the client key as ~/.ssh/id_ed25519 (the users that
#   run the CLI in the tests). The users must exist. known_hosts of the users is left alone (host-key checking is
#   under test); the server's line is in /etc/rootlet-test-sshd/known_hosts for tests to build their own from.
# Idempotent: creates the keys once, rewrites only what differs, starts sshd only when it is not answering
# (re-reads its config when that changed). Prints ROOTLET_TEST_SSH_...=... lines.
set -euo pipefail

DIR=/etc/rootlet-test-sshd
CONFIG=$DIR/sshd_config
HOST_KEY=$DIR/ssh_host_ed25519_key
CLIENT_KEY=$DIR/client_ed25519
KNOWN_HOSTS=$DIR/known_hosts
PID_FILE=/run/rootlet-test-sshd.pid
LOG=/var/log/rootlet-test-sshd.log
HOST=127.0.0.1
PORT=2222

log() { printf 'provision-sshd: %s\n' "$*" >&2; }
usage() { echo "usage: provision-sshd.sh [--listen=ADDRESS]... [--client USER]... [--login USER]..." >&2; exit 2; }

[ "$(id -u)" = 0 ] || { echo "provision-sshd: run as root (it installs packages and starts sshd)" >&2; exit 1; }

clients=()
logins=()
listen=("$HOST")
while [ $# -gt 0 ]; do
  case $1 in
    --listen=*) listen+=("${1#--listen=}"); shift ;;
    --client) [ $# -ge 2 ] || usage; clients+=("$2"); logins+=("$2"); shift 2 ;;
    --login) [ $# -ge 2 ] || usage; logins+=("$2"); shift 2 ;;
    *) usage ;;
  esac
done
[ ${#logins[@]} -gt 0 ] || usage

cleanup=()
trap 'rm -f "${cleanup[@]}"' EXIT
for user in "${logins[@]}"; do id "$user" >/dev/null 2>&1 || { log "no such user: $user"; exit 1; }; done

packages=(openssh-server openssh-client)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  # Without a policy-rc.d, the package's postinst would start the machine's own sshd on port 22: forbid that for
  # this install only (policy-rc.d exit 101 = "action not allowed"), keeping a policy the machine already has.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    cleanup+=(/usr/sbin/policy-rc.d)
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ -d "$DIR" ] || install -d -m 755 "$DIR"
[ -f "$HOST_KEY" ] || { log "creating the test sshd's host key"; ssh-keygen -q -t ed25519 -N '' -C rootlet-test-sshd -f "$HOST_KEY"; }
[ -f "$CLIENT_KEY" ] || { log "creating the test client key"; ssh-keygen -q -t ed25519 -N '' -C rootlet-test-client -f "$CLIENT_KEY"; }
chmod 600 "$HOST_KEY" "$CLIENT_KEY"

# write_if_changed FILE MODE [OWNER]: stdin becomes FILE unless FILE already holds exactly that; status 0 = written.
write_if_changed() {
  local file=$1 mode=$2 owner=${3:-root} tmp
  tmp=$(mktemp)
  cat > "$tmp"
  if [ -f "$file" ] && cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
    [ "$(stat -c %a:%U:%G "$file")" = "$mode:$owner:$owner" ] || { chmod "$mode" "$file"; chown "$owner:$owner" "$file"; }
    return 1
  fi
  install -m "$mode" -o "$owner" -g "$owner" "$tmp" "$file"
  rm -f "$tmp"
}

host_key_line() { printf '[%s]:%s %s\n' "$HOST" "$PORT" "$(cut -d' ' -f1,2 "$HOST_KEY.pub")"; }

# The privilege-separation directory sshd needs (Debian's init script makes it; nothing does here).
mkdir -p /run/sshd
chmod 755 /run/sshd

config() {
  cat <<CONF
# rootlet's test sshd (scripts/ssh/provision-sshd.sh): addresses on lo only, keys only, the test users only.
# Not the machine's sshd: its own port, host key and pid file; /etc/ssh is not read.
Port $PORT
$(printf 'ListenAddress %s\n' "${listen[@]}")
HostKey $HOST_KEY
PidFile $PID_FILE
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AuthorizedKeysFile .ssh/authorized_keys
PermitRootLogin no
AllowUsers ${logins[*]}
# rootlet forwards the engine's unix socket over SSH (direct-streamlocal). OpenSSH 9.2 gates that on
# AllowTcpForwarding too: "no" or "remote", and any PermitOpen list, refuse it ("administratively prohibited"),
# so local forwarding stays allowed here; rootlet itself opens no TCP forwards.
AllowStreamLocalForwarding yes
AllowTcpForwarding local
AllowAgentForwarding no
X11Forwarding no
PermitTunnel no
PrintMotd no
# Tests join several hosts at once and run test files in parallel.
MaxStartups 64:30:128
MaxSessions 32
LoginGraceTime 30
Subsystem sftp internal-sftp
CONF
}
candidate=$(mktemp)
cleanup+=("$candidate")
config > "$candidate"
/usr/sbin/sshd -t -f "$candidate" || { log "the test sshd's config does not check (sshd -t)"; exit 1; }
# OpenSSH 9.8+ penalises sources with failed logins; the tests fail logins from 127.0.0.1 on purpose.
if /usr/sbin/sshd -t -f "$candidate" -o PerSourcePenalties=no 2>/dev/null; then
  printf 'PerSourcePenalties no\n' >> "$candidate"
fi
config_changed=no
write_if_changed "$CONFIG" 644 < "$candidate" && config_changed=yes

# Ours: the pid file's process runs our config. Anything else answering on the port is not ours.
served_key() { ssh-keyscan -T 3 -t ed25519 -p "$PORT" "$HOST" 2>/dev/null | grep -v '^#' | cut -d' ' -f2,3 || true; }
our_key=$(cut -d' ' -f1,2 "$HOST_KEY.pub")
pid=$(cat "$PID_FILE" 2>/dev/null || true)
if [ -n "$pid" ] && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-f $CONFIG"; then
  if [ "$config_changed" = yes ] || [ "$(served_key)" != "$our_key" ]; then
    log "reloading the test sshd (pid $pid): its config or host key changed"
    kill -HUP "$pid"
    sleep 1
  fi
else
  served=$(served_key)
  if [ -n "$served" ]; then
    log "$HOST:$PORT answers with another host key ($served): something else holds the port"
    exit 1
  fi
  log "starting the test sshd on $HOST:$PORT (log $LOG)"
  /usr/sbin/sshd -f "$CONFIG" -E "$LOG"
fi
for _ in $(seq 1 50); do [ "$(served_key)" = "$our_key" ] && break; sleep 0.2; done
if [ "$(served_key)" != "$our_key" ]; then
  log "the test sshd does not answer on $HOST:$PORT; its log ($LOG):"
  tail -n 30 "$LOG" >&2 || true
  exit 1
fi

host_key_line | write_if_changed "$KNOWN_HOSTS" 644 || true

client_pub=$(cat "$CLIENT_KEY.pub")
for user in "${logins[@]}"; do
  home=$(getent passwd "$user" | cut -d: -f6)
  install -d -m 700 -o "$user" -g "$user" "$home/.ssh"
  keys=$home/.ssh/authorized_keys
  [ -e "$keys" ] || install -m 600 -o "$user" -g "$user" /dev/null "$keys"
  grep -qxF "$client_pub" "$keys" || { log "authorizing the test client key for $user"; printf '%s\n' "$client_pub" >> "$keys"; }
  [ "$(stat -c %a:%U:%G "$keys")" = "600:$user:$user" ] || { chown "$user:$user" "$keys"; chmod 600 "$keys"; }
done
for user in "${clients[@]}"; do
  home=$(getent passwd "$user" | cut -d: -f6)
  write_if_changed "$home/.ssh/id_ed25519" 600 "$user" < "$CLIENT_KEY" && log "installed the test client key as ~$user/.ssh/id_ed25519"
  write_if_changed "$home/.ssh/id_ed25519.pub" 644 "$user" < "$CLIENT_KEY.pub" || true
done

join() { local IFS=,; echo "$*"; }
echo "ROOTLET_TEST_SSH_HOST=$HOST"
echo "ROOTLET_TEST_SSH_PORT=$PORT"
echo "ROOTLET_TEST_SSH_KEY=$CLIENT_KEY"
echo "ROOTLET_TEST_SSH_KNOWN_HOSTS=$KNOWN_HOSTS"
echo "ROOTLET_TEST_SSH_LOGINS=$(join "${logins[@]}")"
echo "ROOTLET_TEST_SSH_CLIENTS=$(join "${clients[@]}")"
