#!/usr/bin/env bash
# Provisions real rootless engines on a bare Debian machine for the engine tests, as root:
# one local user per engine, each with its own runtime dir and API socket (../shared/ENVIRONMENT.md).
#   rootlet-podman: rootless Podman, socket /run/user/UID/podman/podman.sock
#   rootlet-docker: rootless Docker, socket /run/user/UID/docker.sock
# and two more users that act as remote hosts for the multi-host tests, reached over SSH through a test
# sshd on 127.0.0.1:2222 (../ssh/provision-sshd.sh; the machine's own sshd and port 22 are left alone):
#   rootlet-remote1: rootless Podman, socket /run/user/UID/podman/podman.sock
#   rootlet-remote2: rootless Docker, socket /run/user/UID/docker.sock
# Each test user also gets an address of its own on lo (10.77.0.1-4/32, ROOTLET_TEST_..._ADDRESS): the address other
# "hosts" reach it at, as each machine of a real cluster has its own. Rootless containers cannot reach 127.x on the
# host (the engine's network has its own loopback), but reach these, and publish ports on them.
# Idempotent: installs what is missing, starts what is not answering. Prints the sockets as
# ROOTLET_TEST_PODMAN_SOCKET=... / ROOTLET_TEST_DOCKER_SOCKET=... lines, then the remote hosts'
# ROOTLET_TEST_REMOTE1...=... and the sshd's ROOTLET_TEST_SSH_...=... lines (all also written to
# /run/rootlet-test-engines.env; test/support/engines.ts and test/support/ssh.ts read them).
set -euo pipefail

PODMAN_USER=rootlet-podman
DOCKER_USER=rootlet-docker
REMOTE1_USER=rootlet-remote1
REMOTE2_USER=rootlet-remote2
ENV_FILE=/run/rootlet-test-engines.env
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf 'provision: %s\n' "$*" >&2; }

[ "$(id -u)" = 0 ] || { echo "provision: run as root (it installs packages and creates users)" >&2; exit 1; }

# busybox-static: the one binary of the stand-in node image built by the tests (no registry is reachable).
packages=(podman uidmap slirp4netns runc fuse-overlayfs docker.io rootlesskit curl util-linux busybox-static)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# slirp4netns (Podman) and RootlessKit (Docker) open /dev/net/tun as the user; desktop distributions ship it 0666.
chmod 666 /dev/net/tun

ensure_user() {
  local user=$1
  if ! id "$user" >/dev/null 2>&1; then
    log "creating user $user"
    useradd -m -s /bin/bash "$user"
  fi
  # useradd leaves the account locked ("!"), which sshd refuses without PAM; "*" unlocks it without a password.
  [ "$(getent shadow "$user" | cut -d: -f2)" = '*' ] || usermod -p '*' "$user"
  grep -q "^$user:" /etc/subuid || usermod --add-subuids "$(next_free /etc/subuid)" "$user"
  grep -q "^$user:" /etc/subgid || usermod --add-subgids "$(next_free /etc/subgid)" "$user"
  local uid; uid=$(id -u "$user")
  # Real hosts with logind give each user /run/user/UID; these machines have no logind.
  install -d -m 700 -o "$user" -g "$user" "/run/user/$uid"
}

next_free() {
  awk -F: 'BEGIN { end = 100000 } { if ($2 + $3 > end) end = $2 + $3 } END { printf "%d-%d", end, end + 65535 }' "$1"
}

as_user() {
  local user=$1; shift
  local uid; uid=$(id -u "$user")
  setpriv --reuid="$user" --regid="$user" --init-groups --reset-env \
    env HOME="$(getent passwd "$user" | cut -d: -f6)" USER="$user" XDG_RUNTIME_DIR="/run/user/$uid" \
    PATH=/usr/share/docker.io/contrib:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

answers() { curl -sf --max-time 3 --unix-socket "$1" http://engine/_ping >/dev/null 2>&1; }

wait_for() {
  local socket=$1 log=$2
  for _ in $(seq 1 120); do answers "$socket" && return 0; sleep 0.5; done
  log "the engine at $socket did not answer within 60 s; its log ($log):"
  tail -n 30 "$log" >&2 || true
  return 1
}

# write_config USER FILE: stdin becomes FILE, owned by USER, unless it already holds exactly that (re-runs change nothing).
write_config() {
  local user=$1 file=$2 tmp
  tmp=$(mktemp)
  cat > "$tmp"
  cmp -s "$tmp" "$file" || install -m 644 -o "$user" -g "$user" "$tmp" "$file"
  rm -f "$tmp"
}

# start_podman USER VAR: rootless Podman for USER; prints VAR=SOCKET.
start_podman() {
  local user=$1 var=$2
  ensure_user "$user"
  local uid home socket log
  uid=$(id -u "$user"); home=$(getent passwd "$user" | cut -d: -f6)
  socket=/run/user/$uid/podman/podman.sock; log=/run/user/$uid/podman-service.log
  install -d -o "$user" -g "$user" "$home/.config" "$home/.config/containers"
  # runc, not crun: crun 1.8 refuses hybrid cgroup hosts. Explicit ulimits: the engine cannot raise them here.
  write_config "$user" "$home/.config/containers/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
CONF
  printf '[storage]\ndriver = "overlay"\n' | write_config "$user" "$home/.config/containers/storage.conf"
  if ! answers "$socket"; then
    log "starting rootless Podman for $user"
    as_user "$user" mkdir -p "/run/user/$uid/podman"
    as_user "$user" setsid podman system service --time=0 "unix://$socket" >"$log" 2>&1 < /dev/null &
    wait_for "$socket" "$log"
  fi
  echo "$var=$socket"
}

# start_docker USER VAR: rootless Docker for USER; prints VAR=SOCKET.
start_docker() {
  local user=$1 var=$2
  ensure_user "$user"
  local uid socket log
  uid=$(id -u "$user")
  socket=/run/user/$uid/docker.sock; log=/run/user/$uid/dockerd-rootless.log
  # With --iptables=false nothing masquerades the containers' traffic inside RootlessKit's namespace: nodes reach
  # their own network, but no published port of another host (measured: SYNs leave, replies never return).
  # A daemon an earlier version of this script started that way is restarted.
  if answers "$socket" && pgrep -u "$user" -f 'dockerd.*--iptables=false' >/dev/null; then
    log "restarting rootless Docker for $user with iptables"
    pkill -u "$user" -f dockerd-rootless.sh || true
    pkill -u "$user" -x rootlesskit || true
    pkill -u "$user" -x dockerd || true
    for _ in $(seq 100); do pgrep -u "$user" -x dockerd >/dev/null || break; sleep 0.2; done
    rm -f "$socket" "/run/user/$uid/docker.pid"
  fi
  if ! answers "$socket"; then
    log "starting rootless Docker for $user"
    as_user "$user" setsid dockerd-rootless.sh >"$log" 2>&1 < /dev/null &
    wait_for "$socket" "$log"
  fi
  echo "$var=$socket"
}

# remote_host VAR USER ENGINE ADDRESS: a user that plays a remote host; prints VAR=USER, VAR_ENGINE=...,
# VAR_SOCKET=..., VAR_ADDRESS=...
remote_host() {
  local var=$1 user=$2 engine=$3 address=$4
  echo "$var=$user"
  echo "${var}_ENGINE=$engine"
  "start_$engine" "$user" "${var}_SOCKET"
  echo "${var}_ADDRESS=$address"
}

# host_address ADDRESS: ADDRESS/32 on lo (no dummy interfaces: this kernel has no CONFIG_DUMMY).
host_address() {
  # Not `ip ... | grep -q`: under pipefail, grep quitting at the first match can fail the pipeline (SIGPIPE).
  local addresses
  addresses=$(ip -4 -o addr show dev lo)
  case "$addresses" in *" $1/32 "*) ;; *) log "adding $1/32 to lo"; ip addr add "$1/32" dev lo ;; esac
}
ADDRESSES=(10.77.0.1 10.77.0.2 10.77.0.3 10.77.0.4)
for address in "${ADDRESSES[@]}"; do host_address "$address"; done

{
  start_podman "$PODMAN_USER" ROOTLET_TEST_PODMAN_SOCKET
  echo "ROOTLET_TEST_PODMAN_ADDRESS=${ADDRESSES[0]}"
  start_docker "$DOCKER_USER" ROOTLET_TEST_DOCKER_SOCKET
  echo "ROOTLET_TEST_DOCKER_ADDRESS=${ADDRESSES[3]}"
  remote_host ROOTLET_TEST_REMOTE1 "$REMOTE1_USER" podman "${ADDRESSES[1]}"
  remote_host ROOTLET_TEST_REMOTE2 "$REMOTE2_USER" docker "${ADDRESSES[2]}"
  # The local engine users run the CLI in the tests (the control host of a multi-host test): they get the client
  # key. Every test user, the local ones too, accepts it, so any of them can be a remote host.
  bash "$HERE/../ssh/provision-sshd.sh" "${ADDRESSES[@]/#/--listen=}" --client "$PODMAN_USER" --client "$DOCKER_USER" --login "$REMOTE1_USER" --login "$REMOTE2_USER"
} | tee "$ENV_FILE"
