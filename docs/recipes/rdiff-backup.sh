#!/bin/sh
# rdiff-backup.sh — nightly encrypted backup of an encfsr view with rdiff-backup (a mirror of
# the latest state plus reverse increments), and its restore.
#
#   rdiff-backup.sh backup           mirror the encrypted view into TARGET (what cron runs),
#                                    then drop increments older than KEEP
#   rdiff-backup.sh restore DEST [TIME]  restore the copy as of TIME (default: now) into
#                                    STAGING and decrypt it into DEST
#
# TARGET is a local directory, or HOST::PATH over ssh (rdiff-backup installed on the server).
# TARGET holds the ciphertext mirror plus rdiff-backup's own rdiff-backup-data directory:
# restore through `rdiff-backup restore` first (below), then decrypt the result with
# `encfsr restore`, or browse it with `encfsr mount --decrypt STAGING /mnt/restore`.
# Schedule: cron, e.g. /etc/cron.d/encfsr-rdiff-backup:
#   30 2 * * * root /usr/share/doc/encfsr/examples/recipes/rdiff-backup.sh backup
# or a systemd service/timer with ExecStart=.../rdiff-backup.sh backup
set -eu

# --- configuration (or set these in the environment) -------------------------------------------
CONFIG=${CONFIG:-/etc/encfsr/host.yaml}             # the view: encfsr.yaml(5)
TARGET=${TARGET:-/srv/backup/host-rdiff}             # the rdiff-backup repository
KEEP=${KEEP-8W}                                      # drop increments older than this; empty: never
STAGING=${STAGING:-/var/tmp/encfsr-restore-rdiff}    # restore: where rdiff-backup puts the copy
PASSWORD_FILE=${PASSWORD_FILE:-/etc/encfsr/host.pass}  # encfsr key password, for restore
ENCFSR=${ENCFSR:-encfsr}
# -------------------------------------------------------------------------------------------------

case ${1:-backup} in
  backup)
    "$ENCFSR" run "$CONFIG" -- rdiff-backup backup {} "$TARGET"
    if [ -n "$KEEP" ]; then
      # --force: several increments may go at once. Exit status 2 is "warnings only", e.g.
      # "no increment is older than KEEP" in the first weeks.
      rc=0
      rdiff-backup --force remove increments --older-than "$KEEP" "$TARGET" || rc=$?
      [ "$rc" -eq 0 ] || [ "$rc" -eq 2 ] || exit "$rc"
    fi
    ;;
  restore)
    [ $# -ge 2 ] || { echo "usage: $0 restore DEST [TIME]" >&2; exit 2; }
    dest=$2 when=${3:-now}
    if [ -n "$(ls -A "$STAGING" 2>/dev/null)" ]; then
      echo "$0: $STAGING is not empty: remove it or set STAGING" >&2; exit 1
    fi
    rdiff-backup restore --at "$when" "$TARGET" "$STAGING"
    "$ENCFSR" verify --quiet --password-file "$PASSWORD_FILE" "$STAGING" ||
      echo "$0: encfsr verify found damage in the copy; restoring what is intact" >&2
    exec "$ENCFSR" restore --password-file "$PASSWORD_FILE" "$STAGING" "$dest"
    ;;
  *) echo "usage: $0 backup | restore DEST [TIME]" >&2; exit 2 ;;
esac
