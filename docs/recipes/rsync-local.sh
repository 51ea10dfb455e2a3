#!/bin/sh
# rsync-local.sh — nightly encrypted backup of an encfsr view to a local directory (a USB
# disk, a mounted NAS share) with rsync, and its restore.
#
#   rsync-local.sh backup            copy the encrypted view to TARGET (what cron runs)
#   rsync-local.sh restore DEST      decrypt the copy in TARGET into DEST (DEST/<source>/...)
#
# TARGET holds ciphertext only; it can be read back with `encfsr restore` (below) or browsed
# with `encfsr mount --decrypt TARGET /mnt/restore`. rsync --delete makes TARGET an exact
# mirror of the view: keep a second copy (or use one of the versioned recipes) against
# deletions you regret.
# Schedule: cron, e.g. /etc/cron.d/encfsr-rsync:
#   30 2 * * * root /usr/share/doc/encfsr/examples/recipes/rsync-local.sh backup
# or systemd: ExecStart=/usr/share/doc/encfsr/examples/recipes/rsync-local.sh backup
set -eu

# --- configuration (or set these in the environment) -------------------------------------------
CONFIG=${CONFIG:-/etc/encfsr/host.yaml}           # the view: encfsr.yaml(5)
TARGET=${TARGET:-/srv/backup/host}                 # where the ciphertext copy lives
PASSWORD_FILE=${PASSWORD_FILE:-/etc/encfsr/host.pass}  # encfsr key password, for restore
ENCFSR=${ENCFSR:-encfsr}
# -------------------------------------------------------------------------------------------------

case ${1:-backup} in
  backup)
    mkdir -p "$TARGET"
    # {} is the private mountpoint of the view; the trailing / copies its contents.
    exec "$ENCFSR" run "$CONFIG" -- rsync -a --delete {}/ "$TARGET/"
    ;;
  restore)
    [ $# -ge 2 ] || { echo "usage: $0 restore DEST [PATH...]" >&2; exit 2; }
    dest=$2; shift 2
    "$ENCFSR" verify --quiet --password-file "$PASSWORD_FILE" "$TARGET" ||
      echo "$0: encfsr verify found damage in $TARGET; restoring what is intact" >&2
    exec "$ENCFSR" restore --password-file "$PASSWORD_FILE" "$TARGET" "$@" "$dest"
    ;;
  *) echo "usage: $0 backup | restore DEST [PATH...]" >&2; exit 2 ;;
esac
