#!/usr/bin/env bash
# tests/e2e/rsync_test.sh — rsync round trip through the reverse view, and rsync's delta
# efficiency on the ciphertext: after a small change set the "Literal data" of an incremental
# `rsync --no-whole-file` of the view must be at most 1.05 times that of the same run on the
# plaintext itself (two change sets; see the rounds below).   bash rsync_test.sh PATH/TO/encfsr
source "$(dirname -- "$0")/lib.sh"
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

ratio_check() {  # ratio_check WHAT VIEW_STATS PLAIN_STATS: Literal data of view <= 1.05 x plain
  local lv lp ratio
  lv=$(literal_of "$2"); lp=$(literal_of "$3")
  if [ -z "$lv" ] || [ -z "$lp" ] || [ "$lp" -eq 0 ]; then
    fail "$1: could not read Literal data figures (view '$lv', plain '$lp')"
    return
  fi
  ratio=$(python3 -c "print(f'{$lv / $lp:.4f}')")
  echo "   $1: Literal data view $lv bytes, plaintext $lp bytes, ratio $ratio"
  check "$1: Literal data of the view <= 1.05 x the plaintext's" \
    python3 -c "import sys; sys.exit(0 if $lv <= 1.05 * $lp else 1)"
}

# Round 1: three in-place patches of a few bytes. The format's unit is a 4,096-byte block, so
# the fair comparison gives rsync that block size on both sides (4,112 bytes on the view);
# with rsync's default block size (about 1 KiB for these files) the plaintext resends ~1 KiB
# per patch and any 4 KiB-block format ~4 KiB: that figure is printed, not asserted.
say "round 1: in-place patches, incremental rsync --no-whole-file of the view and the plaintext"
cp -a "$COPY" "$WORK/copy-bs"
cp -a "$PCOPY" "$WORK/plain-copy-bs"
change_tree "$PLAIN"
mount_view "$CFG" "$MNT"
# The content's block locality, without the directory manifests (each patched file's
# directory manifest changes too: its cost is measured apart, below).
rsync -a --no-whole-file --stats --block-size=4112 --exclude=encfsr.dir "$MNT/" \
  "$WORK/copy-bs/" >"$WORK/stats.view-bs"
rsync -a --no-whole-file --stats --block-size=4112 "$MNT/" "$WORK/copy-bs/" \
  >"$WORK/stats.view-bs-manifests"
rsync -a --no-whole-file --stats "$MNT/" "$COPY/" >"$WORK/stats.view"
unmount "$MNT"
rsync -a --no-whole-file --stats --block-size=4096 "$PLAIN/" "$WORK/plain-copy-bs/" \
  >"$WORK/stats.plain-bs"
rsync -a --no-whole-file --stats "$PLAIN/" "$PCOPY/" >"$WORK/stats.plain"
ratio_check "patches, block size 4096/4112" "$WORK/stats.view-bs" "$WORK/stats.plain-bs"
echo "   informational, the changed directory manifests: Literal data" \
  "$(literal_of "$WORK/stats.view-bs-manifests") bytes"
echo "   informational, patches at rsync's default block size: Literal data view" \
  "$(literal_of "$WORK/stats.view") / plaintext $(literal_of "$WORK/stats.plain")"
restore_and_compare "$COPY" patches

# Round 2: a typical nightly change set at rsync's default settings: a log-like append to the
# big file, a rewritten file, a new file, and another patch.
say "round 2: appends, a rewrite, a new file; incremental rsync at default block size"
head -c 300000 /dev/urandom >>"$PLAIN/big.bin"
head -c 6000 /dev/urandom >"$PLAIN/f4096.bin"
head -c 50000 /dev/urandom >"$PLAIN/docs/new-report.bin"
printf 'R' | dd of="$PLAIN/f4097.bin" bs=1 seek=4000 conv=notrunc status=none
mount_view "$CFG" "$MNT"
rsync -a --no-whole-file --stats "$MNT/" "$COPY/" >"$WORK/stats2.view"
unmount "$MNT"
rsync -a --no-whole-file --stats "$PLAIN/" "$PCOPY/" >"$WORK/stats2.plain"
ratio_check "nightly change set, default block size" "$WORK/stats2.view" "$WORK/stats2.plain"
restore_and_compare "$COPY" incremental

finish
