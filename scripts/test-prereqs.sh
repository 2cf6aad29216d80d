#!/usr/bin/env bash
# Installs the system tools the test suite uses on a bare Debian machine (CI starts on one).
# Idempotent: installs only what is missing.
set -euo pipefail

declare -A package_of=(
  [dash]=dash          # fix scripts are checked with a strict POSIX shell
  [getcap]=libcap2-bin # subid.tools reads file capabilities
  [setpriv]=util-linux # runs the fix script as a regular user
  [mknod]=coreutils    # device nodes in fixture host trees
  [zsh]=zsh            # rootlet completion zsh, run in a real zsh
  [fish]=fish          # rootlet completion fish, run in a real fish
)

missing=()
for tool in "${!package_of[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null 2>&1 || missing+=("${package_of[$tool]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "test-prereqs: missing ${missing[*]}; install them as root: apt-get install -y ${missing[*]}" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
