#!/bin/sh
# rclone.sh — nightly encrypted backup of an encfsr view to any rclone remote (S3, B2, WebDAV,
# SFTP, Google Drive, a local directory...), and its restore.
#
#   rclone.sh backup                 sync the encrypted view to REMOTE (what cron runs);
#                                    replaced and deleted files go to BACKUP_DIR/DATE
#   rclone.sh restore DEST           copy REMOTE back into STAGING and decrypt it into DEST
#
# Set up the remote first with `rclone config` (as the user that runs the backup). rclone
# keeps file contents and file modification times; symlinks travel as .rclonelink files
# (--links); empty directories are created (--create-empty-src-dirs). Most remotes keep no
# permission bits and no directory times, but the copy's directory manifests do: `encfsr
# restore` gives every entry its mode, owner (as root), mtime, xattrs and hard links back.
# Instead of `encfsr restore`, the fetched copy can be browsed with
# `encfsr mount --decrypt STAGING /mnt/restore`.
# Schedule: cron, e.g. /etc/cron.d/encfsr-rclone:
#   30 2 * * * root /usr/share/doc/encfsr/examples/recipes/rclone.sh backup
# or a systemd service/timer with ExecStart=.../rclone.sh backup
set -eu

# --- configuration (or set these in the environment) -------------------------------------------
CONFIG=${CONFIG:-/etc/encfsr/host.yaml}             # the view: encfsr.yaml(5)
REMOTE=${REMOTE:-offsite:backups/host/current}       # rclone REMOTE:PATH of the copy
BACKUP_DIR=${BACKUP_DIR-offsite:backups/host/old}    # old versions; empty: none kept
STAGING=${STAGING:-/var/tmp/encfsr-restore-rclone}   # restore: where the copy is fetched to
PASSWORD_FILE=${PASSWORD_FILE:-/etc/encfsr/host.pass}  # encfsr key password, for restore
ENCFSR=${ENCFSR:-encfsr}
# RCLONE_CONFIG (rclone's own variable) selects another rclone.conf.
# -------------------------------------------------------------------------------------------------

case ${1:-backup} in
  backup)
    exec "$ENCFSR" run "$CONFIG" -- \
      rclone sync --links --create-empty-src-dirs \
        ${BACKUP_DIR:+--backup-dir "$BACKUP_DIR/$(date +%Y-%m-%dT%H%M%S)"} {} "$REMOTE"
    ;;
  restore)
    [ $# -ge 2 ] || { echo "usage: $0 restore DEST" >&2; exit 2; }
    dest=$2
    umask 077
    mkdir -p "$STAGING"
    rclone sync --links --create-empty-src-dirs "$REMOTE" "$STAGING"
    "$ENCFSR" verify --quiet --password-file "$PASSWORD_FILE" "$STAGING" ||
      echo "$0: encfsr verify found damage in the copy; restoring what is intact" >&2
    exec "$ENCFSR" restore --password-file "$PASSWORD_FILE" "$STAGING" "$dest"
    ;;
  *) echo "usage: $0 backup | restore DEST" >&2; exit 2 ;;
esac
