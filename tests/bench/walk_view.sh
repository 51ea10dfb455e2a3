#!/bin/bash
# tests/bench/walk_view.sh — lstat walks of a reverse view, each from a known state, as root:
#
#   tests/bench/walk_view.sh ENCFSR CONFIG [PLAIN_DIR] [ROUNDS]
#
# Per round: a fresh mount of CONFIG (`ENCFSR mount -f`), the page cache dropped, then
#   cold          `find VIEW -printf '%s %T@\n'`, nothing listed before since the mount;
#   warm-now      the same walk again at once (the kernel's entries and the daemon's
#                 directory snapshots mostly still fresh);
#   warm-expired  again 1.2 s later (every kernel entry and snapshot past its 1 s ttl).
# With PLAIN_DIR, the plaintext is walked cold and warm first, for the ratio. The shared
# harness (shared/bench/anchors.sh) runs its cold stat walk right after a `find -type f` of the
# view, so it finds the snapshots of that walk still fresh; this script starts from nothing.
# Prints one line per walk: seconds, entries/s and the daemon's CPU ticks.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 ENCFSR CONFIG [PLAIN_DIR] [ROUNDS]" >&2; exit 2; }
encfsr=$1 config=$2 plain=${3:-} rounds=${4:-3}
[ "$(id -u)" = 0 ] || { echo "$0: run as root (drop_caches)" >&2; exit 2; }

mnt=$(mktemp -d /tmp/encfsr-walk.XXXXXX)
pid=
cleanup() {
  if mountpoint -q "$mnt"; then fusermount3 -u "$mnt" || umount -l "$mnt"; fi
  if [ -n "$pid" ]; then wait "$pid" 2>/dev/null || true; fi
  rmdir "$mnt"
}
trap cleanup EXIT

drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
ticks() { if [ -n "$pid" ]; then awk '{print $14 + $15}' "/proc/$pid/stat"; else echo 0; fi; }
walk() {  # walk LABEL DIR
  local before start end after n
  before=$(ticks)
  start=$EPOCHREALTIME
  n=$(find "$2" -printf '%s %T@\n' | wc -l)
  end=$EPOCHREALTIME
  after=$(ticks)
  awk -v l="$1" -v s="$start" -v e="$end" -v n="$n" -v t=$((after - before)) \
    'BEGIN { printf "%-14s %6.3f s %9.0f entries/s %5d ticks\n", l, e - s, n / (e - s), t }'
}

if [ -n "$plain" ]; then
  for _ in $(seq "$rounds"); do
    drop
    walk plain-cold "$plain"
    walk plain-warm "$plain"
  done
fi

for round in $(seq "$rounds"); do
  echo "round $round"
  "$encfsr" mount -f "$config" "$mnt" &
  pid=$!
  for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.1; done
  mountpoint -q "$mnt" || { echo "$0: mount failed" >&2; exit 1; }
  sleep 1.5
  drop
  walk cold "$mnt"
  walk warm-now "$mnt"
  sleep 1.2
  walk warm-expired "$mnt"
  fusermount3 -u "$mnt"
  wait "$pid" || true
  pid=
done
