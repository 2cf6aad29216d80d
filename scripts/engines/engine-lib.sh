#!/usr/bin/env bash
# The functions provision.sh and faults-engine.sh share, sourced (as root): a test user with its own runtime dir, and
# its rootless Podman service or rootless Docker daemon started (and, for the fault tests, killed) as that user.
# ../shared/ENVIRONMENT.md has the facts these are built on.

# The user whose engines the fault tests kill and start again (faults-engine.sh); no other test uses it.
FAULTS_USER=rootlet-faults

log() { printf '%s: %s\n' "${LOG_NAME:-engines}" "$*" >&2; }

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

# detached LOG COMMAND...: COMMAND in the background, its output in LOG, holding no other descriptor of ours. Whoever
# reads this script's output (a test's execa, provision's tee) waits for its end: an engine that kept a copy (a
# descriptor bash saved around a redirected function call, one the caller leaked) would make it wait forever.
detached() {
  local log=$1 fd; shift
  (
    exec >"$log" 2>&1 </dev/null
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
    done
    "$@"
  ) &
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
    detached "$log" as_user "$user" setsid podman system service --time=0 "unix://$socket"
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
    detached "$log" as_user "$user" setsid dockerd-rootless.sh
    wait_for "$socket" "$log"
  fi
  echo "$var=$socket"
}

# gone SOCKET USER PGREP_ARGS...: waits up to 30 s until no process of USER matches and SOCKET does not answer.
gone() {
  local socket=$1 user=$2; shift 2
  for _ in $(seq 1 150); do
    if ! pgrep -u "$user" "$@" >/dev/null && ! answers "$socket"; then return 0; fi
    sleep 0.2
  done
  log "the engine at $socket still runs after 30 s"
  return 1
}

# kill_podman USER: SIGKILLs USER's Podman service, as a crash would (its containers, run by conmon, live on).
kill_podman() {
  local user=$1 uid
  uid=$(id -u "$user")
  pkill -KILL -u "$user" -f '^podman system service' || true
  gone "/run/user/$uid/podman/podman.sock" "$user" -f '^podman system service'
}

SHIM='^/usr/bin/containerd-shim-runc-v2 '

# kill_docker USER: SIGKILLs USER's rootless Docker daemon and its RootlessKit, as a crash would. Their containerd goes
# with them; the containers' shims outlive it (noted in /run/rootlet-faults-docker-shims for start_docker_again).
kill_docker() {
  local user=$1 uid
  uid=$(id -u "$user")
  pkill -KILL -u "$user" -x rootlesskit || true
  pkill -KILL -u "$user" -x dockerd || true
  gone "/run/user/$uid/docker.sock" "$user" -x dockerd
  pgrep -u "$user" -f "$SHIM" >>/run/rootlet-faults-docker-shims || true
}

# start_docker_again USER VAR: start_docker, then ends the shims the killed daemon left: the new one restarts the
# containers in shims of its own (restart policy always) and leaves the old ones idle, with no process under them.
start_docker_again() {
  start_docker "$@"
  local pid shims
  shims=" $(pgrep -u "$1" -f "$SHIM" | tr '\n' ' ' || true) "
  for pid in $(cat /run/rootlet-faults-docker-shims 2>/dev/null); do
    # Only a shim of that user with nothing under it: a reused pid, or a shim still running a container, stays.
    case "$shims" in *" $pid "*) pgrep -P "$pid" >/dev/null || kill -KILL "$pid" 2>/dev/null || true ;; esac
  done
  rm -f /run/rootlet-faults-docker-shims
}
