#!/usr/bin/env bash
# tests/e2e/bup_test.sh — bup indexes (--no-check-device: every FUSE mount gets a new st_dev)
# and saves the reverse view; bup restore -> `encfsr mount --decrypt` and `encfsr restore` give
# back the plaintext.   bash bup_test.sh PATH/TO/encfsr
source "$(dirname -- "$0")/lib.sh"
require_tool bup
standard_setup

export BUP_DIR=$WORK/bup
export HOME=$WORK/home  # bup/git may want a user config: keep it out of the real home
mkdir -p "$HOME"
git config --global user.name e2e 2>/dev/null || true
git config --global user.email e2e@localhost 2>/dev/null || true
bup init >/dev/null 2>&1

say "bup index + save of the reverse view"
mount_view "$CFG" "$MNT"
bup index --no-check-device "$MNT" >"$WORK/bup.index" 2>&1 || {
  cat "$WORK/bup.index"; die "bup index failed"; }
bup save -n e2e "$MNT" >"$WORK/bup.save" 2>&1 || { cat "$WORK/bup.save"; die "bup save failed"; }
unmount "$MNT"

say "bup restore, then decrypt the restored copy"
COPY=$WORK/bup-out
bup restore -C "$COPY" "/e2e/latest$MNT/." >"$WORK/bup.restore" 2>&1 || {
  cat "$WORK/bup.restore"; die "bup restore failed"; }
check "bup's restored copy holds the key file" test -s "$COPY/encfsr.key"
restore_and_compare "$COPY" bup

finish
