#!/usr/bin/env bash
# tests/e2e/restic_test.sh — restic backs up the reverse view into a local repository; a second
# backup after a remount must find nothing new or changed (stable inodes, mtimes, ctimes), one
# after changing 2 files exactly "0 new, 4 changed" (2 files, 2 manifests); restic restore -> `encfsr mount
# --decrypt` and `encfsr restore` give back the plaintext.   bash restic_test.sh PATH/TO/encfsr
source "$(dirname -- "$0")/lib.sh"
require_tool restic
standard_setup

export RESTIC_REPOSITORY=$WORK/restic-repo
export RESTIC_PASSWORD=e2e-restic-password
export RESTIC_CACHE_DIR=$WORK/restic-cache
restic init >/dev/null

backup() {  # backup LABEL: mount, restic backup, unmount; sets NEW CHANGED UNMODIFIED
  mount_view "$CFG" "$MNT"
  restic backup --host e2e "$MNT" >"$WORK/restic.$1" 2>&1 || {
    cat "$WORK/restic.$1"
    die "restic backup ($1) failed"
  }
  VIEW_FILES=$(find "$MNT" -type f | wc -l)
  unmount "$MNT"
  local line
  line=$(grep -E '^Files: +[0-9]+ new, +[0-9]+ changed, +[0-9]+ unmodified' "$WORK/restic.$1" || true)
  [ -n "$line" ] || { cat "$WORK/restic.$1"; die "no 'Files:' summary line from restic"; }
  read -r NEW CHANGED UNMODIFIED < <(echo "$line" |
    sed -E 's/^Files: +([0-9]+) new, +([0-9]+) changed, +([0-9]+) unmodified.*/\1 \2 \3/')
  echo "   restic ($1): $line"
}

say "first backup"
backup first
nfiles=$(find "$PLAIN" -type f | wc -l)
ndirs=$(($(find "$PLAIN" -type d | wc -l) + 1))  # the source's directories and the view's root
# The view's files: the plaintext files, encfsr.key, one side file per long name (2) and one
# manifest (encfsr.dir) per directory.
check "the view holds $nfiles files + encfsr.key + 2 side files + $ndirs manifests (got $VIEW_FILES)" \
  test "$VIEW_FILES" -eq $((nfiles + 3 + ndirs))
check "first backup: every file new ($NEW new, $VIEW_FILES files in the view)" \
  test "$NEW" -eq "$VIEW_FILES"

say "second backup of the unchanged tree after a remount"
backup second
check "unchanged tree after a remount: 0 new, 0 changed (got $NEW new, $CHANGED changed)" \
  test "$NEW" -eq 0 -a "$CHANGED" -eq 0

say "third backup after changing 2 files"
printf 'XYZ' | dd of="$PLAIN/big.bin" bs=1 seek=500000 conv=notrunc status=none
printf 'changed' | dd of="$PLAIN/docs/text5000.txt" bs=1 seek=10 conv=notrunc status=none
touch -d '2021-01-01 00:00:00' "$PLAIN/big.bin" "$PLAIN/docs/text5000.txt"
backup third
# ... and the manifests of their 2 directories.
check "after changing 2 files: 0 new, 2 + 2 manifests changed (got $NEW new, $CHANGED changed)" \
  test "$NEW" -eq 0 -a "$CHANGED" -eq 4

say "restic restore, then decrypt the restored copy"
restic restore latest --target "$WORK/restic-out" >/dev/null
COPY=$WORK/restic-out$MNT
[ -d "$COPY" ] || COPY=$WORK/restic-out
check "restic's restored copy holds the key file" test -s "$COPY/encfsr.key"
restore_and_compare "$COPY" restic

finish
