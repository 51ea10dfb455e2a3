#!/usr/bin/env bash
# tests/e2e/borg_test.sh — borg (unencrypted repository: encfsr does the encryption) backs up
# the reverse view; borg extract -> `encfsr mount --decrypt` and `encfsr restore` give back the
# plaintext.   bash borg_test.sh PATH/TO/encfsr
source "$(dirname -- "$0")/lib.sh"
require_tool borg
standard_setup

export BORG_REPO=$WORK/borg-repo
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
export BORG_BASE_DIR=$WORK/borg-base
borg init --encryption none

say "borg create from the reverse view"
mount_view "$CFG" "$MNT"
(cd "$MNT" && borg create --stats "::first" .) >"$WORK/borg.create" 2>&1 || {
  cat "$WORK/borg.create"; die "borg create failed"; }
unmount "$MNT"

say "second borg create after a remount: deduplicated to nothing new"
mount_view "$CFG" "$MNT"
(cd "$MNT" && borg create --stats "::second" .) >"$WORK/borg.create2" 2>&1 || {
  cat "$WORK/borg.create2"; die "borg create (second) failed"; }
unmount "$MNT"
# "This archive:  <orig> <compressed> <deduplicated>": nothing new -> tiny deduplicated size
dedup=$(sed -n 's/^This archive: .*B \+\([0-9.]\+ [kMG]\?B\)$/\1/p' "$WORK/borg.create2")
echo "   second archive, deduplicated size: ${dedup:-?}"
check "second archive after a remount adds no file data (deduplicated ${dedup:-?})" \
  bash -c "[[ '$dedup' =~ ^[0-9.]+\ (B|kB)$ ]]"

say "borg extract, then decrypt the extracted copy"
COPY=$WORK/borg-out
mkdir -p "$COPY"
(cd "$COPY" && borg extract "::second")
check "borg's extracted copy holds the key file" test -s "$COPY/encfsr.key"
restore_and_compare "$COPY" borg

finish
