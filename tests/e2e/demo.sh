#!/usr/bin/env bash
# tests/e2e/demo.sh — the README's quick-start demo: on a bare Debian 12 machine (as root) it
# installs what is missing, builds the release preset, makes sample data, creates a key, mounts
# the encrypted view, backs it up with rsync, unmounts, then restores the backup twice (through
# `encfsr mount --decrypt` and with `encfsr restore`) and shows both are identical to the data.
#   bash tests/e2e/demo.sh [--no-install] [--no-build] [--bin PATH/TO/encfsr]
set -euo pipefail
cd "$(dirname -- "$0")/../.."

install=1 build=1 bin=build/release/encfsr
while [ $# -gt 0 ]; do
  case "$1" in
    --no-install) install=0 ;;
    --no-build) build=0 ;;
    --bin) bin=${2:?--bin needs a path}; shift ;;
    *) echo "usage: tests/e2e/demo.sh [--no-install] [--no-build] [--bin PATH]" >&2; exit 2 ;;
  esac
  shift
done
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }
run() { printf '    $ %s\n' "$*"; "$@"; }

if [ "$install" = 1 ]; then
  packages=(build-essential cmake pkg-config fuse3 libfuse3-dev libsodium-dev libyaml-cpp-dev
            libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev python3 rsync tar diffutils
            restic borgbackup bup rdiff-backup procps util-linux attr)
  missing=()
  for p in "${packages[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    step "installing ${missing[*]}"
    [ "$(id -u)" = 0 ] || { echo "run as root to install packages" >&2; exit 1; }
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    step "all needed packages are installed"
  fi
fi
if [ "$build" = 1 ]; then
  step "building encfsr (release preset)"
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$(nproc)" --target encfsr
fi
encfsr=$(realpath "$bin")
[ -x "$encfsr" ] || { echo "no encfsr binary at $bin" >&2; exit 1; }
if [ ! -c /dev/fuse ]; then
  echo "/dev/fuse is missing: the demo needs FUSE" >&2
  [ "${CI:-}" = true ] && exit 1
  exit 77
fi

demo=$(mktemp -d /tmp/encfsr-demo.XXXXXX)
cleanup() {
  local m
  for m in "$demo/view" "$demo/restore-view"; do
    if awk -v m="$m" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo; then
      "$encfsr" umount "$m" 2>/dev/null || fusermount3 -uz "$m"
    fi
  done
  rm -rf --one-file-system "$demo"
}
trap cleanup EXIT
cd "$demo"

step "sample data in $demo/data"
mkdir -p data/documents data/photos data/notes
printf 'Dear reader,\nthis letter is private.\n' >data/documents/letter.txt
head -c 300000 /dev/urandom >data/photos/holiday.jpg
head -c 4097 /dev/urandom >data/photos/thumbnail.jpg
printf 'Grüße aus Köln\n' >'data/notes/Grüße.txt'
ln -s ../documents/letter.txt data/notes/letter-link
find data | sed 's/^/    /'

step "a new key, its password in a file (encfsr init)"
printf 'demo password\n' >password
chmod 600 password
run "$encfsr" init --key demo.key --password-file password --quiet
cat >config.yaml <<YAML
key: $demo/demo.key
password_file: $demo/password
sources:
  - name: data
    path: $demo/data
YAML
printf '    config.yaml:\n'; sed 's/^/      /' config.yaml

step "mount the encrypted view and look at it"
mkdir view
run "$encfsr" mount config.yaml view
head -12 <(find view) | sed 's/^/    /'

step "back the view up with rsync, then unmount"
run rsync -a --delete view/ backup/
run "$encfsr" umount view
echo "    backup/ holds $(find backup -type f | wc -l) encrypted files, $(du -sh backup | cut -f1)"

step "restore 1: mount the backup decrypted (encfsr mount --decrypt) and compare"
mkdir restore-view
run "$encfsr" mount --decrypt --password-file password backup restore-view
status=0
if run diff -r --no-dereference data restore-view/data; then
  echo "    identical"
else
  echo "    DIFFERENT"; status=1
fi
run "$encfsr" umount restore-view

step "restore 2: decrypt the backup without FUSE (encfsr restore) and compare"
run "$encfsr" restore --password-file password backup restored
if run diff -r --no-dereference data restored/data; then
  echo "    identical"
else
  echo "    DIFFERENT"; status=1
fi

if [ $status = 0 ]; then
  step "done: both restores are identical to the original data"
else
  step "FAILED: a restore differs from the original data"
fi
exit $status
