#!/bin/sh
# restic.sh — nightly encrypted backup of an encfsr view into a restic repository (versioned,
# deduplicated), and its restore.
#
#   restic.sh init                   create the restic repository (once)
#   restic.sh backup                 snapshot the encrypted view (what cron runs), then prune
#   restic.sh restore DEST           restore the latest snapshot and decrypt it into DEST
#                                    (restic.sh restore DEST SNAPSHOT-ID: an older one)
#
# restic stores the ciphertext of the view. Its repository needs a password of its own
# (RESTIC_PASSWORD_FILE); the plaintext is protected by encfsr's key either way.
# `encfsr run` mounts the view on a new temporary directory every time, so the snapshot paths
# differ from night to night: the previous snapshot is passed as --parent explicitly, which
# lets restic skip unchanged files (the view's inode numbers and times are stable), and restic
# backs up "." from inside the view so that the trees line up.
# Instead of `encfsr restore`, the restored copy can be browsed with
# `encfsr mount --decrypt COPY /mnt/restore`.
# Schedule: cron, e.g. /etc/cron.d/encfsr-restic:
#   30 2 * * * root /usr/share/doc/encfsr/examples/recipes/restic.sh backup
# or a systemd service/timer with ExecStart=.../restic.sh backup
set -eu

# --- configuration (or set these in the environment) -------------------------------------------
CONFIG=${CONFIG:-/etc/encfsr/host.yaml}             # the view: encfsr.yaml(5)
export RESTIC_REPOSITORY=${RESTIC_REPOSITORY:-sftp:backup@nas:/srv/restic/host}
export RESTIC_PASSWORD_FILE=${RESTIC_PASSWORD_FILE:-/etc/encfsr/restic.pass}
HOST=${HOST:-$(hostname)}                            # snapshots are grouped by host and tag
TAG=${TAG:-encfsr}
KEEP=${KEEP---keep-daily 7 --keep-weekly 5 --keep-monthly 12}  # empty: never forget
STAGING=${STAGING:-/var/tmp/encfsr-restore-restic}   # restore: where restic puts the copy
PASSWORD_FILE=${PASSWORD_FILE:-/etc/encfsr/host.pass}  # encfsr key password, for restore
ENCFSR=${ENCFSR:-encfsr}
# -------------------------------------------------------------------------------------------------

# snapshot FIELD [ID]: a field (id, path) of snapshot ID, else of the newest one of HOST and TAG;
# nothing if there is none.
snapshot() {
  restic snapshots --json --host "$HOST" --tag "$TAG" ${2:+"$2"} | python3 -c '
import json, sys
snaps = json.load(sys.stdin) or []
if snaps:
    s = max(snaps, key=lambda s: s["time"])
    print(s["id"] if sys.argv[1] == "id" else s["paths"][0])' "$1"
}

case ${1:-backup} in
  init)
    exec restic init
    ;;
  backup)
    parent=$(snapshot id)
    # restic backs up "." inside the mountpoint: the snapshot's tree is the view itself, the
    # same every night, so the parent's tree matches it entry by entry.
    "$ENCFSR" run "$CONFIG" -- sh -c 'cd "$1" && shift && exec restic backup "$@" .' sh {} \
      --host "$HOST" --tag "$TAG" ${parent:+--parent "$parent"}
    if [ -n "$KEEP" ]; then
      # shellcheck disable=SC2086
      restic forget --host "$HOST" --tag "$TAG" --prune $KEEP
    fi
    ;;
  restore)
    [ $# -ge 2 ] || { echo "usage: $0 restore DEST [SNAPSHOT-ID]" >&2; exit 2; }
    dest=$2 which=${3:-latest}
    if [ -n "$(ls -A "$STAGING" 2>/dev/null)" ]; then
      echo "$0: $STAGING is not empty: remove it or set STAGING" >&2; exit 1
    fi
    restic restore "$which" --host "$HOST" --tag "$TAG" --target "$STAGING"
    # A snapshot of "." restores straight into the target (older restic versions: under the
    # snapshot's full path).
    copy=$STAGING
    if [ "$which" = latest ]; then path=$(snapshot path); else path=$(snapshot path "$which"); fi
    if [ ! -e "$copy/encfsr.key" ] && [ -n "$path" ] && [ -d "$STAGING$path" ]; then
      copy=$STAGING$path
    fi
    "$ENCFSR" verify --quiet --password-file "$PASSWORD_FILE" "$copy" ||
      echo "$0: encfsr verify found damage in the copy; restoring what is intact" >&2
    exec "$ENCFSR" restore --password-file "$PASSWORD_FILE" "$copy" "$dest"
    ;;
  *) echo "usage: $0 init | backup | restore DEST [SNAPSHOT-ID]" >&2; exit 2 ;;
esac
