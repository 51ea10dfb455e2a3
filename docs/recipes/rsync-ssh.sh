#!/bin/sh
# rsync-ssh.sh — nightly encrypted backup of an encfsr view to another machine over ssh with
# rsync, and its restore. Only ciphertext crosses the network and lands on the server.
#
#   rsync-ssh.sh backup              copy the encrypted view to TARGET (what cron runs)
#   rsync-ssh.sh restore DEST        fetch the copy into STAGING, decrypt it into DEST
#
# TARGET is rsync's HOST:PATH (e.g. backup@nas:/srv/backup/host); a plain local path works as
# well. Use a dedicated, passphrase-less ssh key (SSH_KEY), restricted on the server side
# (e.g. rrsync in authorized_keys). Instead of fetching, the copy can also be browsed where it
# lies: `encfsr mount --decrypt COPY /mnt/restore` on the server, or on a sshfs mount of it.
# Schedule: cron, e.g. /etc/cron.d/encfsr-rsync-ssh:
#   30 2 * * * root /usr/share/doc/encfsr/examples/recipes/rsync-ssh.sh backup
# or a systemd service/timer with ExecStart=.../rsync-ssh.sh backup
set -eu

# --- configuration (or set these in the environment) -------------------------------------------
CONFIG=${CONFIG:-/etc/encfsr/host.yaml}           # the view: encfsr.yaml(5)
TARGET=${TARGET:-backup@nas:/srv/backup/host}      # rsync destination HOST:PATH
SSH_KEY=${SSH_KEY:-/root/.ssh/encfsr_backup}       # ssh identity used for TARGET
STAGING=${STAGING:-/var/tmp/encfsr-restore-copy}   # restore: where the copy is fetched to
PASSWORD_FILE=${PASSWORD_FILE:-/etc/encfsr/host.pass}  # encfsr key password, for restore
ENCFSR=${ENCFSR:-encfsr}
# -------------------------------------------------------------------------------------------------

RSYNC_SSH="ssh -i $SSH_KEY -o BatchMode=yes"

case ${1:-backup} in
  backup)
    # --partial keeps half-sent big files across a dropped connection; -z is useless on
    # ciphertext.
    exec "$ENCFSR" run "$CONFIG" -- \
      rsync -a --delete --partial -e "$RSYNC_SSH" {}/ "$TARGET/"
    ;;
  restore)
    [ $# -ge 2 ] || { echo "usage: $0 restore DEST [PATH...]" >&2; exit 2; }
    dest=$2; shift 2
    mkdir -p "$STAGING"
    # rsync back into STAGING (incremental if STAGING holds an older fetch).
    rsync -a --delete -e "$RSYNC_SSH" "$TARGET/" "$STAGING/"
    "$ENCFSR" verify --quiet --password-file "$PASSWORD_FILE" "$STAGING" ||
      echo "$0: encfsr verify found damage in the copy; restoring what is intact" >&2
    exec "$ENCFSR" restore --password-file "$PASSWORD_FILE" "$STAGING" "$@" "$dest"
    ;;
  *) echo "usage: $0 backup | restore DEST [PATH...]" >&2; exit 2 ;;
esac
