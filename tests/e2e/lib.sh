# tests/e2e/lib.sh — shared helpers of the end-to-end scripts (source it, do not run it).
#
# Gives: strict bash, $ENCFSR (the binary: first script argument or ENCFSR_BIN), a temporary
# $WORK directory removed on exit (kept with E2E_KEEP=1), an EXIT trap that ALWAYS unmounts
# everything mounted under $WORK (`encfsr umount`, then `fusermount3 -uz`), and helpers:
#   make_tree DIR                  a small varied plaintext tree
#   init_key KEY PASSFILE          a new key with cheap Argon2 costs and a password file
#   write_config CFG KEY PASS SRC  a config with one source named "data"
#   mount_view CFG MNT             `encfsr mount` (daemon mode: returns when ready)
#   mount_decrypt COPY MNT [ARGS]  `encfsr mount --decrypt` of a ciphertext copy
#   unmount MNT                    `encfsr umount`
#   compare A B [ARGS]             diff -r plus compare_trees.py (modes, mtimes, links, types)
#   check DESC CMD...              run CMD, record ok/FAIL, go on; finish exits 1 on any FAIL
#   expect_rc DESC CODES CMD...    CMD's exit code must match CODES (e.g. "4|5")
# If /dev/fuse is unusable: exit 1 under CI=true, else 77 (ctest SKIP_RETURN_CODE).
set -euo pipefail
shopt -s nullglob

E2E_DIR=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ENCFSR=${1:-${ENCFSR_BIN:-}}
if [ -z "$ENCFSR" ] || [ ! -x "$ENCFSR" ]; then
  echo "usage: $0 PATH/TO/encfsr (or set ENCFSR_BIN)" >&2
  exit 2
fi
ENCFSR=$(cd "$(dirname -- "$ENCFSR")" && pwd)/$(basename -- "$ENCFSR")
export ENCFSR

say() { printf '== %s\n' "$*"; }
die() { printf 'FATAL: %s\n' "$*" >&2; exit 1; }

fuse_usable() {
  [ -c /dev/fuse ] && [ -r /dev/fuse ] && [ -w /dev/fuse ] && command -v fusermount3 >/dev/null
}
require_fuse() {
  if ! fuse_usable; then
    if [ "${CI:-}" = true ]; then
      echo "FAIL: /dev/fuse or fusermount3 unusable and CI=true" >&2
      exit 1
    fi
    echo "SKIP: /dev/fuse or fusermount3 unusable" >&2
    exit 77
  fi
}
require_tool() {  # require_tool NAME...: a missing tool fails (tests/run.sh installs them)
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || die "$t is not installed (apt-get install it; tests/run.sh does)"
  done
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/encfsr-e2e.XXXXXX")
export WORK
E2E_MOUNTS=()
E2E_FAILS=0

is_mounted() {  # is_mounted PATH: listed in mountinfo (also a dead daemon's mount)
  awk -v m="$1" '$5 == m { found = 1 } END { exit !found }' /proc/self/mountinfo
}
mounts_under_work() {
  awk -v w="$WORK" 'index($5, w "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}
force_unmount() {
  local m=$1 i
  is_mounted "$m" || return 0
  "$ENCFSR" umount "$m" >/dev/null 2>&1 || true
  for i in 1 2 3 4 5; do
    is_mounted "$m" || return 0
    sleep 0.2
  done
  fusermount3 -uz "$m" >/dev/null 2>&1 || umount -l "$m" >/dev/null 2>&1 || true
}
_e2e_cleanup() {
  local rc=$? i m
  set +e
  for ((i = ${#E2E_MOUNTS[@]} - 1; i >= 0; i--)); do
    force_unmount "${E2E_MOUNTS[$i]}"
  done
  for m in $(mounts_under_work); do force_unmount "$m"; done
  if [ -n "$(mounts_under_work)" ]; then
    echo "WARNING: mounts left under $WORK, not removing it" >&2
  elif [ "${E2E_KEEP:-0}" = 1 ]; then
    echo "kept $WORK" >&2
  else
    rm -rf --one-file-system "$WORK"
  fi
  exit $rc
}
trap _e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- results ---------------------------------------------------------------------------------
check() {  # check DESCRIPTION CMD...
  local desc=$1; shift
  if "$@"; then
    echo "ok   - $desc"
  else
    echo "FAIL - $desc"
    E2E_FAILS=$((E2E_FAILS + 1))
  fi
}
fail() { echo "FAIL - $*"; E2E_FAILS=$((E2E_FAILS + 1)); }
pass() { echo "ok   - $*"; }
# expect_rc DESC CODES CMD...: CMD's stdout+stderr kept in $OUT; $RC its code; RC_OK 1/0.
# Always returns 0 (safe under set -e).
expect_rc() {
  local desc=$1 codes=$2; shift 2
  RC=0
  "$@" >"$WORK/out" 2>&1 || RC=$?
  OUT=$(cat "$WORK/out")
  if [[ "$RC" =~ ^($codes)$ ]]; then
    echo "ok   - $desc (exit $RC)"
    RC_OK=1
    return 0
  fi
  echo "FAIL - $desc: exit $RC, expected $codes; output:"
  head -30 "$WORK/out" | sed 's/^/       | /'
  E2E_FAILS=$((E2E_FAILS + 1))
  RC_OK=0
}
finish() {
  if [ "$E2E_FAILS" -gt 0 ]; then
    echo "== $(basename -- "$0"): $E2E_FAILS check(s) FAILED"
    exit 1
  fi
  echo "== $(basename -- "$0"): all checks passed"
  exit 0
}

# --- trees -----------------------------------------------------------------------------------
LONG_NAME=long_$(printf 'x%.0s' $(seq 195))     # 200 bytes: a long-name side file
LONG_DIR=dir_$(printf 'd%.0s' $(seq 226))       # 230 bytes, a directory
UTF8_NAME='Grüße_日本語_ñandú_ü.txt'
FIXED_TIME='2001-02-03 04:05:06'

make_tree() {  # make_tree DIR
  local d=$1
  mkdir -p "$d/docs/deep/deeper/deepest" "$d/empty_dir" "$d/bin" "$d/private" "$d/$LONG_DIR"
  printf 'hello world\n' >"$d/docs/hello.txt"
  printf 'deep\n' >"$d/docs/deep/deeper/deepest/leaf.txt"
  head -c 4095 /dev/urandom >"$d/f4095.bin"
  head -c 4096 /dev/urandom >"$d/f4096.bin"
  head -c 4097 /dev/urandom >"$d/f4097.bin"
  head -c 1048576 /dev/urandom >"$d/big.bin"
  head -c 3000 /dev/urandom >"$d/docs/same_a.bin"
  head -c 3000 /dev/urandom >"$d/docs/same_b.bin"
  : >"$d/empty"
  head -c 5000 <(seq 1 1100 | sed 's/$/ some text/') >"$d/docs/text5000.txt"
  printf 'long name content\n' >"$d/docs/$LONG_NAME"
  printf 'in a long dir\n' >"$d/$LONG_DIR/inner.txt"
  printf 'utf8 content\n' >"$d/docs/$UTF8_NAME"
  printf 'secret\n' >"$d/private/secret.txt"
  printf 'read only\n' >"$d/docs/readonly.txt"
  printf '#!/bin/sh\necho hi\n' >"$d/bin/tool.sh"
  ln "$d/docs/hello.txt" "$d/docs/hardlink.txt"
  ln -s ../f4095.bin "$d/docs/rel_link"
  ln -s /etc/hostname "$d/abs_link"
  ln -s does/not/exist "$d/dangling_link"
  ln -s docs "$d/dir_link"
  chmod 0600 "$d/private/secret.txt"
  chmod 0444 "$d/docs/readonly.txt"
  chmod 0755 "$d/bin/tool.sh"
  chmod 0700 "$d/private"
  touch -d "$FIXED_TIME" "$d/f4096.bin" "$d/docs/hello.txt" "$d/empty"
  touch -h -d "$FIXED_TIME" "$d/docs/rel_link" "$d/abs_link"
  touch -d '2010-06-07 08:09:10' "$d/docs/deep/deeper/deepest" "$d/docs/deep" "$d/empty_dir" "$d"
}

# change_tree DIR: the small change set of the incremental runs (sizes kept, mtimes moved).
change_tree() {
  local d=$1
  printf 'XYZ' | dd of="$d/big.bin" bs=1 seek=500000 conv=notrunc status=none
  printf 'Q' | dd of="$d/f4097.bin" bs=1 seek=10 conv=notrunc status=none
  printf 'changed' | dd of="$d/docs/text5000.txt" bs=1 seek=4500 conv=notrunc status=none
  touch -d '2021-01-01 00:00:00' "$d/big.bin" "$d/f4097.bin" "$d/docs/text5000.txt"
}

# --- keys, configs, mounts -------------------------------------------------------------------
PASSWORD='correct horse battery staple'
init_key() {  # init_key KEY PASSFILE
  printf '%s\n' "$PASSWORD" >"$2"
  chmod 600 "$2"
  "$ENCFSR" init --key "$1" --password-file "$2" --quiet --kdf-ops 1 --kdf-mem-mib 8 --insecure-kdf \
    || die "encfsr init failed"
}
write_config() {  # write_config CFG KEY PASS SRC [NAME]
  cat >"$1" <<YAML
key: $2
password_file: $3
sources:
  - name: ${5:-data}
    path: $4
YAML
}
mount_view() {  # mount_view CFG MNT [ARGS...]
  local cfg=$1 mnt=$2; shift 2
  mkdir -p "$mnt"
  E2E_MOUNTS+=("$mnt")
  "$ENCFSR" mount "$@" "$cfg" "$mnt" || die "encfsr mount $cfg failed"
  is_mounted "$mnt" || die "encfsr mount returned 0 but $mnt is not mounted"
}
mount_decrypt() {  # mount_decrypt COPY MNT [ARGS...] (default key options: --password-file)
  local copy=$1 mnt=$2; shift 2
  mkdir -p "$mnt"
  E2E_MOUNTS+=("$mnt")
  if [ $# -eq 0 ]; then set -- --password-file "$WORK/pass"; fi
  "$ENCFSR" mount --decrypt "$@" "$copy" "$mnt" || die "encfsr mount --decrypt $copy failed"
  is_mounted "$mnt" || die "encfsr mount --decrypt returned 0 but $mnt is not mounted"
}
unmount() {  # unmount MNT
  "$ENCFSR" umount "$1" || die "encfsr umount $1 failed"
  local i
  for i in $(seq 50); do
    is_mounted "$1" || return 0
    sleep 0.1
  done
  die "$1 still mounted after encfsr umount"
}

compare() {  # compare A B [compare_trees.py options]
  local a=$1 b=$2 rc=0; shift 2
  local excl=() arg prev=""
  for arg in "$@"; do  # pass --exclude to diff as well
    if [ "$prev" = --exclude ]; then excl+=(--exclude="$(basename -- "$arg")"); fi
    prev=$arg
  done
  diff -r --no-dereference "${excl[@]}" "$a" "$b" >"$WORK/diff.out" 2>&1 || {
    rc=1
    echo "diff -r $a $b:"
    head -20 "$WORK/diff.out" | sed 's/^/       | /'
  }
  python3 "$E2E_DIR/compare_trees.py" "$a" "$b" "$@" || rc=1
  return $rc
}

# Standard setup: $WORK/plain/data tree, key, password, config, $WORK/mnt.
standard_setup() {
  require_fuse
  "$ENCFSR" --version >/dev/null || die "$ENCFSR --version failed"
  PLAIN=$WORK/plain
  make_tree "$PLAIN"
  KEY=$WORK/key
  init_key "$KEY" "$WORK/pass"
  CFG=$WORK/config.yaml
  write_config "$CFG" "$KEY" "$WORK/pass" "$PLAIN"
  MNT=$WORK/mnt
}

# restore_and_compare COPY LABEL [compare options]: decrypt COPY both ways, compare to $PLAIN.
restore_and_compare() {
  local copy=$1 label=$2; shift 2
  local dm=$WORK/dmnt.$label dest=$WORK/restored.$label
  mount_decrypt "$copy" "$dm"
  check "$label: mount --decrypt of the copy equals the plaintext" compare "$PLAIN" "$dm/data" "$@"
  unmount "$dm"
  expect_rc "$label: encfsr restore of the copy exits 0" 0 \
    "$ENCFSR" restore --password-file "$WORK/pass" "$copy" "$dest"
  check "$label: encfsr restore of the copy equals the plaintext" \
    compare "$PLAIN" "$dest/data" "$@"
}
