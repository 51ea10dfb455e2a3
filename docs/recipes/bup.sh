#!/bin/sh
# bup.sh — nightly encrypted backup of an encfsr view into a bup repository (git-packed,
# deduplicated, versioned), and its restore.
#
#   bup.sh init                      create the bup repository (once)
#   bup.sh backup                    index and save the encrypted view (what cron runs)
#   bup.sh restore DEST [SAVE]       restore the latest (or the named) save into STAGING and
#                                    decrypt it into DEST
#
# The saved tree is the view's contents (--strip), independent of the temporary mountpoint
# `encfsr run` picks. bup's index is keyed by path, so it is cleared and rebuilt each night
# (every FUSE mount has a new device number: --no-check-device); bup's deduplication still
# stores only the changed chunks. To keep the repository elsewhere, run the repository on a
# server (bup save -r SERVER:PATH) or put BUP_DIR on a mounted share. Instead of
# `encfsr restore`, the restored copy can be browsed with `encfsr mount --decrypt COPY MNT`.
# Schedule: cron, e.g. /etc/cron.d/encfsr-bup:
#   30 2 * * * root /usr/share/doc/encfsr/examples/recipes/bup.sh backup
# or a systemd service/timer with ExecStart=.../bup.sh backup
set -eu

# --- configuration (or set these in the environment) -------------------------------------------
CONFIG=${CONFIG:-/etc/encfsr/host.yaml}             # the view: encfsr.yaml(5)
export BUP_DIR=${BUP_DIR:-/srv/bup/host}             # the repository
NAME=${NAME:-encfsr}                                 # the branch the saves go to
STAGING=${STAGING:-/var/tmp/encfsr-restore-bup}      # restore: where bup puts the copy
PASSWORD_FILE=${PASSWORD_FILE:-/etc/encfsr/host.pass}  # encfsr key password, for restore
ENCFSR=${ENCFSR:-encfsr}
# -------------------------------------------------------------------------------------------------

case ${1:-backup} in
  init)
    exec bup init
    ;;
  backup)
    exec "$ENCFSR" run "$CONFIG" -- sh -c '
      bup index --clear &&
      bup index --no-check-device "$1" &&
      bup save --strip -n "$2" "$1"' sh {} "$NAME"
    ;;
  restore)
    [ $# -ge 2 ] || { echo "usage: $0 restore DEST [SAVE]" >&2; exit 2; }
    dest=$2 save=${3:-latest}
    if [ -n "$(ls -A "$STAGING" 2>/dev/null)" ]; then
      echo "$0: $STAGING is not empty: remove it or set STAGING" >&2; exit 1
    fi
    mkdir -p "$STAGING"
    bup restore -q -C "$STAGING" "/$NAME/$save/."
    "$ENCFSR" verify --quiet --password-file "$PASSWORD_FILE" "$STAGING" ||
      echo "$0: encfsr verify found damage in the copy; restoring what is intact" >&2
    exec "$ENCFSR" restore --password-file "$PASSWORD_FILE" "$STAGING" "$dest"
    ;;
  *) echo "usage: $0 init | backup | restore DEST [SAVE]" >&2; exit 2 ;;
esac
