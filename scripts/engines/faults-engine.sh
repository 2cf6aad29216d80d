#!/usr/bin/env bash
# The engines the fault tests kill (test/e2e/engine-death.test.ts), as root: the rootless Podman service and the
# rootless Docker daemon of rootlet-faults, a user no other test uses, so killing them breaks no test running alongside.
#   faults-engine.sh kill podman|docker    SIGKILL the engine, as a crash would; returns once its socket no longer answers
#   faults-engine.sh start podman|docker   start it again; returns once its socket answers
# Both idempotent (killing a dead engine or starting a running one does nothing). provision.sh creates the user and
# starts both engines; their sockets are ROOTLET_TEST_FAULTS_PODMAN_SOCKET and ROOTLET_TEST_FAULTS_DOCKER_SOCKET.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOG_NAME=faults-engine
# shellcheck source=engine-lib.sh
source "$HERE/engine-lib.sh"

usage() { echo "usage: faults-engine.sh kill|start podman|docker" >&2; exit 2; }
[ $# -eq 2 ] || usage
[ "$(id -u)" = 0 ] || { echo "faults-engine: run as root (it acts as $FAULTS_USER)" >&2; exit 1; }
id "$FAULTS_USER" >/dev/null 2>&1 || { echo "faults-engine: no user $FAULTS_USER: run scripts/engines/provision.sh first" >&2; exit 1; }

case "$1 $2" in
  'kill podman') kill_podman "$FAULTS_USER" ;;
  'kill docker') kill_docker "$FAULTS_USER" ;;
  'start podman') start_podman "$FAULTS_USER" ROOTLET_TEST_FAULTS_PODMAN_SOCKET >/dev/null ;;
  'start docker') start_docker_again "$FAULTS_USER" ROOTLET_TEST_FAULTS_DOCKER_SOCKET >/dev/null ;;
  *) usage ;;
esac
