#!/bin/sh
# borg.sh — nightly encrypted backup of an encfsr view into a borg repository (versioned,
# deduplicated), and its restore.
#
#   borg.sh init                     create the borg repository (once)
#   borg.sh backup                   archive the encrypted view (what cron runs), then prune
#                                    and compact
#   borg.sh restore DEST [ARCHIVE]   extract the latest (or the named) archive into STAGING and
#                                    decrypt it into DEST
#
# The repository is created without borg's own encryption: it holds only encfsr ciphertext
# (set BORG_ENCRYPTION=repokey-blake2 and BORG_PASSCOMMAND for a second layer).
# borg runs inside the view's mountpoint and archives ".", so archive paths do not depend on
# the temporary mountpoint `encfsr run` picks. borg's files cache is keyed by absolute path,
# so each night it reads the view's files again; its deduplication still stores only the
# changed chunks. Instead of `encfsr restore`, the extracted copy can be browsed with
# `encfsr mount --decrypt COPY /mnt/restore`.
# Schedule: cron, e.g. /etc/cron.d/encfsr-borg:
#   30 2 * * * root /usr/share/doc/encfsr/examples/recipes/borg.sh backup
# or a systemd service/timer with ExecStart=.../borg.sh backup
set -eu

# --- configuration (or set these in the environment) -------------------------------------------
CONFIG=${CONFIG:-/etc/encfsr/host.yaml}             # the view: encfsr.yaml(5)
export BORG_REPO=${BORG_REPO:-ssh://backup@nas/srv/borg/host}
BORG_ENCRYPTION=${BORG_ENCRYPTION:-none}
PREFIX=${PREFIX:-encfsr}                             # archive names: PREFIX-DATE
KEEP=${KEEP---keep-daily 7 --keep-weekly 5 --keep-monthly 12}  # empty: never prune
STAGING=${STAGING:-/var/tmp/encfsr-restore-borg}     # restore: where borg extracts the copy
PASSWORD_FILE=${PASSWORD_FILE:-/etc/encfsr/host.pass}  # encfsr key password, for restore
ENCFSR=${ENCFSR:-encfsr}
# -------------------------------------------------------------------------------------------------

if [ "$BORG_ENCRYPTION" = none ]; then
  export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
fi

case ${1:-backup} in
  init)
    exec borg init --encryption "$BORG_ENCRYPTION"
    ;;
  backup)
    # {} is replaced by the mountpoint; borg's own {now} placeholder is left alone.
    "$ENCFSR" run "$CONFIG" -- \
      sh -c 'cd "$1" && exec borg create --stats "::$2-{now}" .' sh {} "$PREFIX"
    if [ -n "$KEEP" ]; then
      # shellcheck disable=SC2086
      borg prune --glob-archives "$PREFIX-*" $KEEP
      borg compact    # borg 1.2: pruned archives free their space only here
    fi
    ;;
  restore)
    [ $# -ge 2 ] || { echo "usage: $0 restore DEST [ARCHIVE]" >&2; exit 2; }
    dest=$2
    archive=${3:-$(borg list --short --last 1 --glob-archives "$PREFIX-*")}
    [ -n "$archive" ] || { echo "$0: no archive $PREFIX-* in $BORG_REPO" >&2; exit 1; }
    if [ -n "$(ls -A "$STAGING" 2>/dev/null)" ]; then
      echo "$0: $STAGING is not empty: remove it or set STAGING" >&2; exit 1
    fi
    mkdir -p "$STAGING"
    (cd "$STAGING" && borg extract "::$archive")
    "$ENCFSR" verify --quiet --password-file "$PASSWORD_FILE" "$STAGING" ||
      echo "$0: encfsr verify found damage in the copy; restoring what is intact" >&2
    exec "$ENCFSR" restore --password-file "$PASSWORD_FILE" "$STAGING" "$dest"
    ;;
  *) echo "usage: $0 init | backup | restore DEST [ARCHIVE]" >&2; exit 2 ;;
esac
