#!/usr/bin/env bash
# tests/golden/golden_test.sh — freezes the format with the checked-in golden tree:
# (1) the checked-in cipher/ (given back the modes, owners and mtimes of cipher.meta, which git
#     does not keep): `encfsr verify` finds it clean, `encfsr restore` gives the prepared plain/
#     back exactly (contents, names, symlink, all mode bits, owners, mtimes, xattrs, ACLs, hard
#     links), and the independent reference decryptor authenticates every manifest and finds
#     plain/'s metadata in it;
# (2) the reverse view of the prepared plain/ with the checked-in key is cipher/ byte for byte
#     (names, contents, link targets, encfsr.key, manifests), with cipher.meta's metadata.
# Both work on temporary copies prepared by golden_common.sh; the checkout is never changed.
# Needs root.
#   bash tests/golden/golden_test.sh PATH/TO/encfsr     (exit 77 = skipped: no root, no FUSE)
set -euo pipefail
source "$(dirname -- "$0")/golden_common.sh"
ENCFSR=$(realpath "${1:-${ENCFSR_BIN:?usage: golden_test.sh PATH/TO/encfsr}}")
if [ ! -d "$GOLDEN_DIR/cipher" ] || [ ! -f "$GOLDEN_DIR/key" ] || [ ! -f "$GOLDEN_DIR/cipher.meta" ]
then
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
require_golden_root "$tmp"
fails=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
check() {  # check DESCRIPTION golden_check.py ARGS...: its FAIL lines, then ok/bad
  local what=$1; shift
  if python3 "$GOLDEN_DIR/golden_check.py" "$@" >"$tmp/check.out" 2>&1; then
    ok "$what"
  else
    bad "$what:"; sed 's/^/   | /' "$tmp/check.out"
  fi
}

# git keeps neither mtimes, owners, xattrs, ACLs, hard links nor a 0600 key mode: copies.
cp -a "$GOLDEN_DIR/plain" "$tmp/plain"
prepare_golden_plain "$tmp/plain"
cp "$GOLDEN_DIR/key" "$tmp/key"
cp "$GOLDEN_DIR/password" "$tmp/password"
chmod 600 "$tmp/key" "$tmp/password"
cp -r "$GOLDEN_DIR/cipher" "$tmp/cipher"
apply_cipher_meta "$tmp/cipher" "$GOLDEN_DIR/cipher.meta"

echo "== (1) decrypt the checked-in ciphertext"
if "$ENCFSR" verify --password-file "$tmp/password" "$tmp/cipher" >"$tmp/verify.out" 2>&1; then
  if grep -q -e '^damaged:' -e '^changed during backup:' -e 'not checked' "$tmp/verify.out"; then
    bad "verify exits 0 but reports:"; sed 's/^/   | /' "$tmp/verify.out"
  else
    ok "verify of the golden cipher tree is clean, completeness checked"
  fi
else
  bad "verify of the golden cipher tree (exit $?):"; sed 's/^/   | /' "$tmp/verify.out"
fi
if "$ENCFSR" restore --password-file "$tmp/password" "$tmp/cipher" "$tmp/restored" \
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
check "restored modes (setuid, setgid), owners, mtimes, xattrs, ACLs and hard links" \
  restored "$tmp/plain" "$tmp/restored/$GOLDEN_SOURCE"
check "reference.py authenticates every manifest of cipher/ and they record plain/'s metadata" \
  manifests "$tmp/cipher" "$tmp/plain" "$tmp/password"

echo "== (2) re-create the ciphertext from plain/ and the checked-in key"
if [ ! -c /dev/fuse ]; then
  if [ "${CI:-}" = true ]; then bad "/dev/fuse missing under CI=true"; else
    echo "SKIP (2): /dev/fuse missing"; [ $fails = 0 ] && exit 77; fi
else
  mkdir "$tmp/mnt"
  write_golden_config "$tmp/config.yaml" "$tmp/key" "$tmp/password" "$tmp/plain"
  if "$ENCFSR" mount "$tmp/config.yaml" "$tmp/mnt"; then
    check "the reverse view equals cipher/ byte for byte (names, contents, links, encfsr.key, manifests; the hard-link directory's manifest record by record) and shows cipher.meta's metadata" \
      view "$tmp/mnt" "$GOLDEN_DIR/cipher" "$GOLDEN_DIR/cipher.meta" "$tmp/plain" "$tmp/password"
    "$ENCFSR" umount "$tmp/mnt" || bad "encfsr umount"
  else
    bad "encfsr mount of the golden plaintext (exit $?)"
  fi
fi
[ $fails = 0 ] && { echo "== golden: all checks passed"; exit 0; }
echo "== golden: $fails check(s) FAILED"; exit 1
