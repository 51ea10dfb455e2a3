#!/usr/bin/env bash
# tests/e2e/recipe_test.sh — runs one backup recipe of docs/recipes/ as it stands against a
# local target: init (where the tool has one), back up a generated tree, change the tree,
# back up again, restore with the recipe's restore path, and compare the result exactly with
# the plaintext (rclone: permission bits and directory times are not kept by rclone; checked
# as documented instead).
#   bash recipe_test.sh PATH/TO/encfsr RECIPE      (RECIPE: rsync-local, restic, ...)
source "$(dirname -- "$0")/lib.sh"
RECIPE=${2:?usage: recipe_test.sh PATH/TO/encfsr RECIPE}
SCRIPT=$(cd "$E2E_DIR/../../docs/recipes" && pwd)/$RECIPE.sh
[ -x "$SCRIPT" ] || die "no executable recipe $SCRIPT"
standard_setup

# The recipe's configuration, through the environment, everything under $WORK.
export CONFIG=$CFG PASSWORD_FILE=$WORK/pass STAGING=$WORK/staging
compare_opts=()
case $RECIPE in
  rsync-local)
    require_tool rsync
    export TARGET=$WORK/target ;;
  rsync-ssh)
    require_tool rsync
    # A local path stands in for HOST:PATH (rsync takes both; ssh is never started).
    export TARGET=$WORK/target SSH_KEY=$WORK/no-such-key ;;
  restic)
    require_tool restic python3
    export RESTIC_REPOSITORY=$WORK/restic-repo RESTIC_PASSWORD_FILE=$WORK/restic-pass
    export RESTIC_CACHE_DIR=$WORK/restic-cache HOST=e2e-host
    echo restic-repository-password >"$RESTIC_PASSWORD_FILE" ;;
  borg)
    require_tool borg
    export BORG_REPO=$WORK/borg-repo BORG_BASE_DIR=$WORK/borg-base ;;
  bup)
    require_tool bup
    export BUP_DIR=$WORK/bup ;;
  rdiff-backup)
    require_tool rdiff-backup
    export TARGET=$WORK/rdiff-repo
    # rdiff-backup does not restore symlink mtimes (for plaintext neither).
    compare_opts=(--no-symlink-mtime) ;;
  rclone)
    require_tool rclone
    export RCLONE_CONFIG=$WORK/rclone.conf
    printf '[e2elocal]\ntype = local\n' >"$RCLONE_CONFIG"
    export REMOTE=e2elocal:$WORK/remote/current BACKUP_DIR=e2elocal:$WORK/remote/old
    # rclone keeps neither modes nor directory times; the manifests bring them back.
    compare_opts=() ;;
  *) die "unknown recipe $RECIPE" ;;
esac

# run_recipe LABEL ARGS...: the recipe must exit 0; its output is kept in $WORK/recipe.LABEL.
run_recipe() {
  local label=$1; shift
  if "$SCRIPT" "$@" >"$WORK/recipe.$label" 2>&1; then
    pass "$RECIPE $* ($label) exits 0"
  else
    fail "$RECIPE $* ($label) failed (exit $?); output:"
    tail -30 "$WORK/recipe.$label" | sed 's/^/       | /'
  fi
}
no_mounts_left() { [ -z "$(mounts_under_work)" ]; }

# `encfsr run` mounts under $TMPDIR: keep it inside $WORK.
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"

case $RECIPE in restic | borg | bup) run_recipe init init ;; esac

say "first backup"
run_recipe first backup
check "no mount left under \$WORK after the first backup" no_mounts_left

say "change the tree, second backup"
change_tree "$PLAIN"
# rdiff-backup names each backup by its time in whole seconds and refuses a second backup
# within the same second as the last ("The last backup is not in the past").
[ "$RECIPE" = rdiff-backup ] && sleep 1.1
run_recipe second backup
check "no mount left under \$WORK after the second backup" no_mounts_left

# Tool-specific claims the recipes make.
case $RECIPE in
  restic)
    check "restic: the second backup found the first as its parent" \
      grep -q "using parent snapshot" "$WORK/recipe.second"
    line=$(grep -E '^Files: ' "$WORK/recipe.second" || true)
    echo "   restic second backup: $line"
    # change_tree changes 3 files in 2 directories, whose manifests change with them.
    check "restic: second backup reads only the 3 changed files and 2 manifests (got: $line)" \
      grep -Eq '^Files: +0 new, +5 changed, +[1-9][0-9]* unmodified' "$WORK/recipe.second" ;;
  rclone)
    old=$(find "$WORK/remote/old" -type f | wc -l)
    check "rclone: the 3 replaced ciphertext files and 2 manifests went to BACKUP_DIR (got $old)" \
      test "$old" -eq 5 ;;
  rsync-local | rsync-ssh)
    check "$RECIPE: the target holds the key file and no plaintext name" \
      bash -c "test -s '$TARGET/encfsr.key' && ! find '$TARGET' | grep -q -e hello -e docs" ;;
esac

say "restore"
DEST=$WORK/restored
run_recipe restore restore "$DEST"
check "$RECIPE: the restored tree equals the changed plaintext" \
  compare "$PLAIN" "$DEST/data" "${compare_opts[@]}"
finish
