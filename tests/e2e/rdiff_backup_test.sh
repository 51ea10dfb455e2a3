#!/usr/bin/env bash
# tests/e2e/rdiff_backup_test.sh — rdiff-backup (2.x command line) backs up the reverse view;
# `rdiff-backup restore` -> `encfsr mount --decrypt` and `encfsr restore` give back the
# plaintext; a second backup after a change set restores to the changed plaintext.
#   bash rdiff_backup_test.sh PATH/TO/encfsr
source "$(dirname -- "$0")/lib.sh"
require_tool rdiff-backup
standard_setup
rdiff-backup --version | grep -Eq '^rdiff-backup 2\.' || die "rdiff-backup 2.x needed"

REPO=$WORK/rdiff-repo
rb_backup() {
  mount_view "$CFG" "$MNT"
  rdiff-backup backup "$MNT" "$REPO" >"$WORK/rdiff.$1" 2>&1 || {
    cat "$WORK/rdiff.$1"; die "rdiff-backup backup ($1) failed"; }
  unmount "$MNT"
}
rb_restore() {
  rdiff-backup restore "$REPO" "$WORK/rdiff-out.$1" >"$WORK/rdiff-restore.$1" 2>&1 || {
    cat "$WORK/rdiff-restore.$1"; die "rdiff-backup restore ($1) failed"; }
  check "$1: rdiff-backup's restored copy holds the key file" test -s "$WORK/rdiff-out.$1/encfsr.key"
  # rdiff-backup itself does not restore symlink mtimes (also for plaintext): not compared.
  restore_and_compare "$WORK/rdiff-out.$1" "rdiff-$1" --no-symlink-mtime
}

say "rdiff-backup backup of the reverse view"
rb_backup first
rb_restore first

say "second backup after a small change set (rdiff deltas on ciphertext)"
change_tree "$PLAIN"
rb_backup second
rb_restore second

finish
