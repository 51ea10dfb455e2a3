#!/usr/bin/env bash
# tests/golden/make_golden.sh — (re)creates the checked-in golden tree: plain/ (a small
# plaintext tree), key + password (a key made with a fixed test password and cheap Argon2
# costs) and cipher/ (rsync -a of the reverse view of plain/, with encfsr.key). Run it ONCE
# when the format is frozen and commit the output; golden_test.sh then fails on any change of
# the format.   bash tests/golden/make_golden.sh PATH/TO/encfsr
set -euo pipefail
source "$(dirname -- "$0")/golden_common.sh"
ENCFSR=$(realpath "${1:-${ENCFSR_BIN:?usage: make_golden.sh PATH/TO/encfsr}}")
cd "$GOLDEN_DIR"

[ -d cipher ] && chmod -R u+w cipher  # the view root is read-only, and so is its copy
rm -rf plain cipher key password
mkdir -p plain/sub
: >plain/empty
printf 'a' >plain/one.txt
python3 -c "import sys; sys.stdout.buffer.write(bytes((i * 7 + 3) % 256 for i in range(4096)))" \
  >plain/f4096.bin
head -c 5000 <(seq 1 1000 | sed 's/$/ golden line/') >plain/f5000.txt
printf 'a file with a 200-byte name\n' >"plain/$GOLDEN_LONG"
printf 'inside a subdirectory\n' >plain/sub/inner.txt
ln -s sub/inner.txt plain/link
set_golden_mtimes plain

printf 'golden test password\n' >password
"$ENCFSR" init --key key --password-file password --quiet --kdf-ops 1 --kdf-mem-mib 8

tmp=$(mktemp -d)
trap 'mountpoint -q "$tmp/mnt" && { "$ENCFSR" umount "$tmp/mnt" || fusermount3 -uz "$tmp/mnt"; }
      rm -rf "$tmp"' EXIT
mkdir "$tmp/mnt"
write_golden_config "$tmp/config.yaml" "$GOLDEN_DIR/key" "$GOLDEN_DIR/password" "$GOLDEN_DIR/plain"
"$ENCFSR" mount "$tmp/config.yaml" "$tmp/mnt"
rsync -a "$tmp/mnt/" cipher/
"$ENCFSR" umount "$tmp/mnt"
echo "golden tree written: $(find plain cipher | wc -l) entries; commit tests/golden/{plain,cipher,key,password}"
