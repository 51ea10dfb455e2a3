#!/usr/bin/env bash
# tests/e2e/rsync_test.sh — rsync round trip through the reverse view, and rsync's delta
# efficiency on the ciphertext: after a small change set the "Literal data" of an incremental
# `rsync --no-whole-file` of the view must be at most 1.05 times that of the same run on the
# plaintext itself.   bash rsync_test.sh PATH/TO/encfsr
source "$(dirname "$0")/lib.sh"
require_tool rsync
standard_setup

literal_of() {  # literal_of STATSFILE: the "Literal data" figure in bytes
  sed -n 's/^Literal data: \([0-9,]*\) bytes.*/\1/p' "$1" | tr -d ,
}

say "full backup: rsync -a of the reverse view"
COPY=$WORK/copy
PCOPY=$WORK/plain-copy
mount_view "$CFG" "$MNT"
rsync -a "$MNT/" "$COPY/"
unmount "$MNT"
rsync -a "$PLAIN/" "$PCOPY/"
check "the copy holds the key file" test -s "$COPY/encfsr.key"
check "the copy holds no plaintext name" \
  bash -c "! find '$COPY' | grep -e hello -e big.bin -e docs -e '$LONG_NAME' -q"
restore_and_compare "$COPY" full

say "small change set, incremental rsync --no-whole-file of the view and of the plaintext"
cp -a "$COPY" "$WORK/copy-bs"
cp -a "$PCOPY" "$WORK/plain-copy-bs"
change_tree "$PLAIN"
mount_view "$CFG" "$MNT"
rsync -a --no-whole-file --stats "$MNT/" "$COPY/" >"$WORK/stats.view"
rsync -a --no-whole-file --stats --block-size=4112 "$MNT/" "$WORK/copy-bs/" >"$WORK/stats.view-bs"
unmount "$MNT"
rsync -a --no-whole-file --stats --block-size=4096 "$PLAIN/" "$WORK/plain-copy-bs/" \
  >"$WORK/stats.plain-bs"
rsync -a --no-whole-file --stats "$PLAIN/" "$PCOPY/" >"$WORK/stats.plain"
lit_view=$(literal_of "$WORK/stats.view")
lit_plain=$(literal_of "$WORK/stats.plain")
if [ -z "$lit_view" ] || [ -z "$lit_plain" ] || [ "$lit_plain" -eq 0 ]; then
  fail "could not read Literal data figures (view '$lit_view', plain '$lit_plain')"
else
  ratio=$(python3 -c "print(f'{$lit_view / $lit_plain:.4f}')")
  echo "   Literal data: view $lit_view bytes, plaintext $lit_plain bytes, ratio $ratio"
  check "Literal data of the view <= 1.05 x the plaintext's ($lit_view / $lit_plain = $ratio)" \
    python3 -c "import sys; sys.exit(0 if $lit_view <= 1.05 * $lit_plain else 1)"
fi
# Informational: the same comparison with rsync's block size set to the format's block size
# (4,096 plaintext bytes = 4,112 ciphertext bytes).
echo "   informational, --block-size 4112 (view) / 4096 (plaintext): Literal data" \
  "$(literal_of "$WORK/stats.view-bs") / $(literal_of "$WORK/stats.plain-bs")"
echo "   (files transferred, view: $(sed -n 's/^Number of regular files transferred: //p' \
  "$WORK/stats.view"); plaintext: $(sed -n 's/^Number of regular files transferred: //p' \
  "$WORK/stats.plain"))"
restore_and_compare "$COPY" incremental

finish
