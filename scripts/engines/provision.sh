#!/usr/bin/env bash
# Provisions real rootless engines on a bare Debian machine for the engine tests, as root:
# one local user per engine, each with its own runtime dir and API socket (../shared/ENVIRONMENT.md).
#   rootlet-podman: rootless Podman, socket /run/user/UID/podman/podman.sock
#   rootlet-docker: rootless Docker, socket /run/user/UID/docker.sock
# and two more users that act as remote hosts for the multi-host tests, reached over SSH through a test
# sshd on 127.0.0.1:2222 (../ssh/provision-sshd.sh; the machine's own sshd and port 22 are left alone):
#   rootlet-remote1: rootless Podman, socket /run/user/UID/podman/podman.sock
#   rootlet-remote2: rootless Docker, socket /run/user/UID/docker.sock
# and one user for the fault tests, whose engines they kill and start again (faults-engine.sh), so no other test
# loses its engine:
#   rootlet-faults: rootless Podman and rootless Docker both, at the two sockets above (ROOTLET_TEST_FAULTS_..._SOCKET)
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

LOG_NAME=provision
# shellcheck source=engine-lib.sh
source "$HERE/engine-lib.sh"

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
  # The fault tests' user: both engines of its own, which they kill and start again (faults-engine.sh).
  echo "ROOTLET_TEST_FAULTS_USER=$FAULTS_USER"
  start_podman "$FAULTS_USER" ROOTLET_TEST_FAULTS_PODMAN_SOCKET
  start_docker "$FAULTS_USER" ROOTLET_TEST_FAULTS_DOCKER_SOCKET
  # The local engine users run the CLI in the tests (the control host of a multi-host test): they get the client
  # key. Every test user, the local ones too, accepts it, so any of them can be a remote host.
  bash "$HERE/../ssh/provision-sshd.sh" "${ADDRESSES[@]/#/--listen=}" --client "$PODMAN_USER" --client "$DOCKER_USER" --login "$REMOTE1_USER" --login "$REMOTE2_USER"
} | tee "$ENV_FILE.new"
# Replaced at once: tests running meanwhile read the old file or the new one, never a half-written one.
mv "$ENV_FILE.new" "$ENV_FILE"
