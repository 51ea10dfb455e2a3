#!/usr/bin/env bash
# tests/golden/make_golden.sh — (re)creates the checked-in golden tree: plain/ (a small
# plaintext tree), key + password (a key made with a fixed test password and cheap Argon2
# costs), cipher/ (rsync -a of the reverse view of plain/, with encfsr.key and a manifest
# encfsr.dir in every directory) and cipher.meta (cipher/'s modes, owners and mtimes, which git
# does not keep). The view is made of a prepared copy of plain/ (prepare_golden_plain: owners,
# modes with setuid and setgid, xattrs, ACLs, a hard link, mtimes), so its manifests cover
# them. Run it when the format changes and commit the output; golden_test.sh then fails on any
# change of the format. An existing key and password are kept (the unchanged parts of the
# format then give unchanged ciphertext); --new-key makes new ones. Needs root.
#   bash tests/golden/make_golden.sh [--new-key] PATH/TO/encfsr
set -euo pipefail
source "$(dirname -- "$0")/golden_common.sh"
new_key=false
if [ "${1:-}" = --new-key ]; then new_key=true; shift; fi
ENCFSR=$(realpath "${1:-${ENCFSR_BIN:?usage: make_golden.sh [--new-key] PATH/TO/encfsr}}")
cd "$GOLDEN_DIR"

tmp=$(mktemp -d)
trap 'mountpoint -q "$tmp/mnt" && { "$ENCFSR" umount "$tmp/mnt" || fusermount3 -uz "$tmp/mnt"; }
      rm -rf "$tmp"' EXIT
require_golden_root "$tmp"

[ -d cipher ] && chmod -R u+w cipher  # the view root is read-only, and so is its copy
rm -rf plain cipher cipher.meta
mkdir -p plain/sub "plain/$GOLDEN_LINK_DIR"
: >plain/empty
printf 'a' >plain/one.txt
python3 -c "import sys; sys.stdout.buffer.write(bytes((i * 7 + 3) % 256 for i in range(4096)))" \
  >plain/f4096.bin
head -c 5000 <(seq 1 1000 | sed 's/$/ golden line/') >plain/f5000.txt
printf 'a file with a 200-byte name\n' >"plain/$GOLDEN_LONG"
printf 'inside a subdirectory\n' >plain/sub/inner.txt
ln -s sub/inner.txt plain/link
printf '#!/bin/sh\necho golden tool\n' >plain/tool
# git keeps two files; prepare_golden_plain makes them one inode with two names
printf 'one inode, two names\n' >"plain/$GOLDEN_LINK_DIR/one"
cp "plain/$GOLDEN_LINK_DIR/one" "plain/$GOLDEN_LINK_DIR/two"

if $new_key || [ ! -f key ] || [ ! -f password ]; then
  rm -f key
  printf 'golden test password\n' >password
  "$ENCFSR" init --key key --password-file password --quiet --kdf-ops 1 --kdf-mem-mib 8 --insecure-kdf
fi
cp key password "$tmp/"
chmod 600 "$tmp/key" "$tmp/password"

cp -a plain "$tmp/plain"
prepare_golden_plain "$tmp/plain"
mkdir "$tmp/mnt"
write_golden_config "$tmp/config.yaml" "$tmp/key" "$tmp/password" "$tmp/plain"
"$ENCFSR" mount "$tmp/config.yaml" "$tmp/mnt"
rsync -a "$tmp/mnt/" cipher/
"$ENCFSR" umount "$tmp/mnt"
write_cipher_meta cipher cipher.meta
echo "golden tree written: $(find plain cipher | wc -l) entries; commit" \
  "tests/golden/{plain,cipher,cipher.meta,key,password}"
