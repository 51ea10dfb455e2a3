#!/usr/bin/env bash
# tests/golden/golden_test.sh — freezes the format with the checked-in golden tree:
# (1) `encfsr restore` of cipher/ with the test password gives plain/ byte for byte (contents,
#     names, symlink) and `encfsr verify` finds it clean;
# (2) the reverse view of plain/ with the checked-in key is cipher/ byte for byte (names,
#     contents, link targets, encfsr.key).
#   bash tests/golden/golden_test.sh PATH/TO/encfsr     (exit 77 = skipped: no FUSE, no tree)
set -euo pipefail
source "$(dirname -- "$0")/golden_common.sh"
ENCFSR=$(realpath "${1:-${ENCFSR_BIN:?usage: golden_test.sh PATH/TO/encfsr}}")
if [ ! -d "$GOLDEN_DIR/cipher" ] || [ ! -f "$GOLDEN_DIR/key" ]; then
  if [ "${CI:-}" = true ]; then echo "FAIL: no golden tree checked in (run make_golden.sh)"; exit 1; fi
  echo "SKIP: no golden tree checked in yet (run make_golden.sh)"; exit 77
fi
tmp=$(mktemp -d)
cleanup() {
  if awk -v m="$tmp/mnt" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo; then
    "$ENCFSR" umount "$tmp/mnt" || fusermount3 -uz "$tmp/mnt"
  fi
  rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
fails=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }

# git keeps neither mtimes nor a 0600 key mode: work on copies.
cp -a "$GOLDEN_DIR/plain" "$tmp/plain"
set_golden_mtimes "$tmp/plain"
cp "$GOLDEN_DIR/key" "$tmp/key"
cp "$GOLDEN_DIR/password" "$tmp/password"
chmod 600 "$tmp/key" "$tmp/password"

echo "== (1) decrypt the checked-in ciphertext"
if "$ENCFSR" verify --password-file "$tmp/password" "$GOLDEN_DIR/cipher" >"$tmp/verify.out" 2>&1; then
  ok "verify of the golden cipher tree is clean"
else
  bad "verify of the golden cipher tree (exit $?):"; sed 's/^/   | /' "$tmp/verify.out"
fi
if "$ENCFSR" restore --password-file "$tmp/password" "$GOLDEN_DIR/cipher" "$tmp/restored" \
     >"$tmp/restore.out" 2>&1; then
  ok "restore of the golden cipher tree exits 0"
else
  bad "restore of the golden cipher tree (exit $?):"; sed 's/^/   | /' "$tmp/restore.out"
fi
if diff -r --no-dereference "$tmp/plain" "$tmp/restored/$GOLDEN_SOURCE"; then
  ok "restored tree equals plain/ byte for byte"
else
  bad "restored tree differs from plain/"
fi
if [ "$(readlink "$tmp/restored/$GOLDEN_SOURCE/link" 2>/dev/null)" = sub/inner.txt ]; then
  ok "restored symlink target"
else
  bad "restored symlink target: '$(readlink "$tmp/restored/$GOLDEN_SOURCE/link" 2>&1)'"
fi

echo "== (2) re-create the ciphertext from plain/ and the checked-in key"
if [ ! -c /dev/fuse ]; then
  if [ "${CI:-}" = true ]; then bad "/dev/fuse missing under CI=true"; else
    echo "SKIP (2): /dev/fuse missing"; [ $fails = 0 ] && exit 77; fi
else
  mkdir "$tmp/mnt"
  write_golden_config "$tmp/config.yaml" "$tmp/key" "$tmp/password" "$tmp/plain"
  if "$ENCFSR" mount "$tmp/config.yaml" "$tmp/mnt"; then
    if diff -r --no-dereference "$tmp/mnt" "$GOLDEN_DIR/cipher"; then
      ok "the reverse view equals cipher/ byte for byte (names, contents, links, encfsr.key)"
    else
      bad "the reverse view differs from the checked-in cipher/: the format changed"
    fi
    "$ENCFSR" umount "$tmp/mnt" || bad "encfsr umount"
  else
    bad "encfsr mount of the golden plaintext (exit $?)"
  fi
fi
[ $fails = 0 ] && { echo "== golden: all checks passed"; exit 0; }
echo "== golden: $fails check(s) FAILED"; exit 1
