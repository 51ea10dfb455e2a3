#!/usr/bin/env bash
# tests/packaging/example_config_test.sh — the example configuration shipped in the package
# (packaging/encfsr.yaml) is valid as it stands once its paths exist: its key, password file
# and source directories are pointed at temporary ones (nothing else is changed), then
# `encfsr path encrypt` must load it and map a file of each source.
#   bash example_config_test.sh PATH/TO/encfsr PATH/TO/encfsr.yaml
set -euo pipefail
BIN=${1:?usage: example_config_test.sh PATH/TO/encfsr EXAMPLE}
EXAMPLE=${2:?usage: example_config_test.sh PATH/TO/encfsr EXAMPLE}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/encfsr-example.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

mkdir -p "$WORK/home/alice" "$WORK/etc"
echo hello >"$WORK/home/alice/notes.txt"
echo host >"$WORK/etc/hostname"
echo 'example password' >"$WORK/host.pass"
chmod 600 "$WORK/host.pass"
"$BIN" init --key "$WORK/host.key" --password-file "$WORK/host.pass" --quiet \
  --kdf-ops 1 --kdf-mem-mib 8 --insecure-kdf
sed -e "s|^key: /etc/encfsr/host.key|key: $WORK/host.key|" \
    -e "s|^password_file: /etc/encfsr/host.pass|password_file: $WORK/host.pass|" \
    -e "s|^    path: /home$|    path: $WORK/home|" \
    -e "s|^    path: /etc$|    path: $WORK/etc|" "$EXAMPLE" >"$WORK/example.yaml"
changed=$(diff "$EXAMPLE" "$WORK/example.yaml" | grep -c '^>' || true)
if [ "$changed" -ne 4 ]; then
  echo "FAIL - expected to point 4 paths of $EXAMPLE elsewhere, changed $changed lines:"
  diff "$EXAMPLE" "$WORK/example.yaml" || true
  exit 1
fi
rc=0
for f in "$WORK/home/alice/notes.txt" "$WORK/etc/hostname"; do
  if out=$("$BIN" path encrypt "$WORK/example.yaml" "$f" 2>&1); then
    echo "ok   - the example configuration maps $f to $out"
  else
    echo "FAIL - encfsr path encrypt with the example configuration:"
    echo "$out" | sed 's/^/       | /'
    rc=1
  fi
done
exit $rc
