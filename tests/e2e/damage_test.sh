#!/usr/bin/env bash
# tests/e2e/damage_test.sh — damaged ciphertext copies. From one rsync copy of the reverse view,
# separate copies each get one kind of damage (flipped bit, truncation at and inside a block,
# an appended byte, two files swapped, two blocks swapped, a renamed entry, a deleted long-name
# side file) and must be: named with their kind by `encfsr verify` (exit 8); skipped by `encfsr
# restore` (exit 8) while every undamaged file is restored identically; unreadable (EIO) or
# unlisted in `encfsr mount --decrypt` while everything else reads fine. Key damage: a missing
# key file (exit 4 unless --key), an altered key file (4 or 5), a wrong password (5).
#   bash damage_test.sh PATH/TO/encfsr
source "$(dirname -- "$0")/lib.sh"
require_tool rsync
standard_setup

say "base copy: rsync -a of the reverse view"
BASE=$WORK/base
mount_view "$CFG" "$MNT"
rsync -a "$MNT/" "$BASE/"
unmount "$MNT"

# cipher_of PLAINREL CIPHERSIZE: the copy-relative ciphertext path of data/PLAINREL, from
# `encfsr path encrypt`; falls back to a search by ciphertext size (recorded as a failure).
cipher_of() {
  local rel=$1 size=$2 out
  if out=$("$ENCFSR" path encrypt "$CFG" "data/$rel" 2>"$WORK/path.err") && [ -n "$out" ] &&
     [ -e "$BASE/${out#/}" ]; then
    echo "${out#/}"
    return 0
  fi
  echo "FAIL - encfsr path encrypt data/$rel: '$out' $(cat "$WORK/path.err")" >&2
  E2E_FAILS=$((E2E_FAILS + 1))
  (cd "$BASE" && find . -type f -size "${size}c" -printf '%P\n' -quit)
}
C_BIG=$(cipher_of big.bin 1052672)
C_A=$(cipher_of docs/same_a.bin 3016)
C_B=$(cipher_of docs/same_b.bin 3016)
C_4097=$(cipher_of f4097.bin 4129)
C_RO=$(cipher_of docs/readonly.txt 26)
C_LONG=$(cipher_of "docs/$LONG_NAME" 34)
echo "   big.bin -> $C_BIG"
echo "   long name -> $C_LONG"
check "the long name maps to a long form with a side file in the copy" \
  test -f "$BASE/$C_LONG.name" -a "$(basename -- "$C_LONG" | cut -c1-12)" = encfsr.long.

say "the undamaged copy"
expect_rc "verify of the undamaged copy exits 0" 0 \
  "$ENCFSR" verify --password-file "$WORK/pass" "$BASE"
expect_rc "verify --json of the undamaged copy exits 0" 0 \
  "$ENCFSR" verify --json --password-file "$WORK/pass" "$BASE"
nfiles=$(find "$PLAIN" -type f | wc -l)
check "verify --json: no damage, $nfiles files, all bytes counted" python3 - "$WORK/out" "$nfiles" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
obj = json.loads(text[text.index("{"):text.rindex("}") + 1])
ok = obj["damaged"] == [] and obj["files"] in (int(sys.argv[2]), int(sys.argv[2]) + 1)
ok = ok and obj["bytes"] >= 1048576 and obj["symlinks"] == 4 and obj["directories"] >= 8
print("   json:", {k: v for k, v in obj.items() if k != "damaged"}, "damaged", obj["damaged"])
sys.exit(0 if ok else 1)
PY

new_case() {  # new_case LABEL: a fresh copy of the base in $CASE
  CASE=$WORK/case.$1
  cp -a "$BASE" "$CASE"
}
# names_in_output DESC KINDREGEX PATH...: some "damaged:" line of $OUT names one of PATH
# (plain or cipher path) and matches KINDREGEX.
names_in_output() {
  local desc=$1 kind=$2; shift 2
  local p found=0
  while IFS= read -r line; do
    for p in "$@"; do
      if [[ "$line" == *"$p"* ]] && echo "$line" | grep -Eiq -- "$kind"; then found=1; fi
    done
  done < <(grep -i '^damaged: ' "$WORK/out" || true)
  if [ $found = 1 ]; then pass "$desc"; else
    fail "$desc: no 'damaged:' line naming ${*} with kind /$kind/; output:"
    head -20 "$WORK/out" | sed 's/^/       | /'
  fi
}
# damage_checks LABEL MODE KINDREGEX PLAINREL CIPHERREL [PLAINREL CIPHERREL]...
#   MODE content: the entry is listed by the decrypt mount but reading it fails with EIO;
#   MODE name: the entry is not listed by the decrypt mount.
damage_checks() {
  local label=$1 mode=$2 kind=$3; shift 3
  local plains=() ciphers=() excl=() i
  while [ $# -gt 0 ]; do plains+=("$1"); ciphers+=("$2"); excl+=(--exclude "$1"); shift 2; done
  expect_rc "$label: verify exits 8" 8 "$ENCFSR" verify --password-file "$WORK/pass" "$CASE"
  for i in "${!plains[@]}"; do
    names_in_output "$label: verify names ${plains[$i]} ($kind)" "$kind" \
      "data/${plains[$i]}" "${ciphers[$i]}" "$(basename -- "${ciphers[$i]}")"
  done
  local dest=$WORK/restored.$label
  expect_rc "$label: restore exits 8" 8 \
    "$ENCFSR" restore --password-file "$WORK/pass" "$CASE" "$dest"
  for i in "${!plains[@]}"; do
    names_in_output "$label: restore names ${plains[$i]} ($kind)" "$kind" \
      "data/${plains[$i]}" "${ciphers[$i]}" "$(basename -- "${ciphers[$i]}")"
    check "$label: restore did not write ${plains[$i]}" test ! -e "$dest/data/${plains[$i]}" \
      -a ! -L "$dest/data/${plains[$i]}"
  done
  check "$label: restore wrote every undamaged entry identically" \
    compare "$PLAIN" "$dest/data" "${excl[@]}"
  local dm=$WORK/dmnt.$label
  mount_decrypt "$CASE" "$dm"
  for i in "${!plains[@]}"; do
    local p=${plains[$i]}
    if [ "$mode" = content ]; then
      if cat "$dm/data/$p" >/dev/null 2>"$WORK/cat.err"; then
        fail "$label: reading $p through the decrypt mount succeeded"
      else
        check "$label: reading $p through the decrypt mount fails with EIO" \
          grep -q 'Input/output error' "$WORK/cat.err"
      fi
    else
      check "$label: $p is not listed by the decrypt mount" \
        bash -c "! ls -a '$dm/data/$(dirname -- "$p")' | grep -qxF -- '$(basename -- "$p")'"
      check "$label: no long form or side file is listed in $(dirname -- "$p")" \
        bash -c "! ls -a '$dm/data/$(dirname -- "$p")' | grep -q '^encfsr\.long\.'"
    fi
  done
  check "$label: every other entry reads identically through the decrypt mount" \
    compare "$PLAIN" "$dm/data" "${excl[@]}"
  unmount "$dm"
}

# same_dir_mtime CIPHERREL: give the parent directory in $CASE back its mtime from $BASE, so
# that a rename or delete there damages only the entry, not the directory's attributes.
same_dir_mtime() {
  touch -r "$BASE/$(dirname -- "$1")" "$CASE/$(dirname -- "$1")"
}

flip_bit() {  # flip_bit FILE OFFSET
  python3 - "$1" "$2" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0x04]))
PY
}

say "case: a flipped bit in block 2 of big.bin"
new_case bitflip
flip_bit "$CASE/$C_BIG" $((2 * 4112 + 100))
damage_checks bitflip content 'block' big.bin "$C_BIG"
expect_rc "bitflip: verify --json exits 8" 8 \
  "$ENCFSR" verify --json --password-file "$WORK/pass" "$CASE"
check "bitflip: verify --json lists data/big.bin, kind block, block 2" \
  python3 - "$WORK/out" "$C_BIG" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
obj = json.loads(text[text.index("{"):text.rindex("}") + 1])
print("   damaged:", obj["damaged"])
d = obj["damaged"]
sys.exit(0 if len(d) == 1 and d[0]["path"] == "data/big.bin" and "block" in d[0]["kind"]
         and d[0]["block"] == 2 and d[0]["cipher_path"].strip("/") == sys.argv[2] else 1)
PY
dm=$WORK/dmnt.bitflip2
mount_decrypt "$CASE" "$dm"
check "bitflip: the good blocks of big.bin stay readable (blocks 0, 1, 3, 255)" bash -c "
  for b in 0 1 3 255; do
    cmp <(dd if='$dm/data/big.bin' bs=4096 skip=\$b count=1 status=none) \
        <(dd if='$PLAIN/big.bin' bs=4096 skip=\$b count=1 status=none) || exit 1
  done"
unmount "$dm"
expect_rc "bitflip: restore --salvage exits 8" 8 \
  "$ENCFSR" restore --salvage --password-file "$WORK/pass" "$CASE" "$WORK/salvaged"
check "bitflip: --salvage writes big.bin.damaged, good blocks intact, block 2 zeroed" \
  python3 - "$WORK/salvaged/data/big.bin.damaged" "$PLAIN/big.bin" <<'PY'
import sys
got, want = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
B = 4096
ok = len(got) == len(want) and got[2 * B:3 * B] == bytes(B) \
    and got[:2 * B] == want[:2 * B] and got[3 * B:] == want[3 * B:]
sys.exit(0 if ok else 1)
PY

say "case: truncated at a block boundary (3 of 256 blocks left)"
new_case trunc-boundary
truncate -s $((3 * 4112)) "$CASE/$C_BIG"
damage_checks trunc-boundary content 'block|size|trunc' big.bin "$C_BIG"

say "case: truncated inside a block"
new_case trunc-inside
truncate -s $((3 * 4112 + 1000)) "$CASE/$C_BIG"
damage_checks trunc-inside content 'block|size|trunc' big.bin "$C_BIG"

say "case: one byte appended to f4097.bin"
new_case append
printf 'A' >>"$CASE/$C_4097"
damage_checks append content 'block|size' f4097.bin "$C_4097"

say "case: two ciphertext files of the same size swapped"
new_case swap-files
mv "$CASE/$C_A" "$CASE/tmp.swap"
mv "$CASE/$C_B" "$CASE/$C_A"
mv "$CASE/tmp.swap" "$CASE/$C_B"
same_dir_mtime "$C_A"
damage_checks swap-files content 'block' docs/same_a.bin "$C_A" docs/same_b.bin "$C_B"

say "case: blocks 1 and 3 of big.bin swapped"
new_case swap-blocks
python3 - "$CASE/$C_BIG" <<'PY'
import sys
B = 4112
with open(sys.argv[1], "r+b") as f:
    f.seek(B); b1 = f.read(B); f.seek(3 * B); b3 = f.read(B)
    f.seek(B); f.write(b3); f.seek(3 * B); f.write(b1)
PY
damage_checks swap-blocks content 'block' big.bin "$C_BIG"
expect_rc "swap-blocks: verify exits 8" 8 "$ENCFSR" verify --password-file "$WORK/pass" "$CASE"
check "swap-blocks: verify lists block 1 and block 3" \
  bash -c "grep -q 'block 1\$' '$WORK/out' && grep -q 'block 3\$' '$WORK/out'"

say "case: a renamed ciphertext entry (docs/readonly.txt)"
new_case rename
ro_base=$(basename -- "$C_RO")
first=${ro_base:0:1}
if [ "$first" = A ]; then new_first=B; else new_first=A; fi
C_RO_NEW=$(dirname -- "$C_RO")/$new_first${ro_base:1}
mv "$CASE/$C_RO" "$CASE/$C_RO_NEW"
same_dir_mtime "$C_RO"
damage_checks rename name 'name' docs/readonly.txt "$C_RO_NEW"

say "case: a deleted long-name side file"
new_case side-file
rm "$CASE/$C_LONG.name"
same_dir_mtime "$C_LONG"
damage_checks side-file name 'side|name' "docs/$LONG_NAME" "$C_LONG"

say "case: the key file is missing"
new_case no-key
rm "$CASE/encfsr.key"
expect_rc "no-key: verify exits 4" 4 "$ENCFSR" verify --password-file "$WORK/pass" "$CASE"
expect_rc "no-key: restore exits 4" 4 \
  "$ENCFSR" restore --password-file "$WORK/pass" "$CASE" "$WORK/restored.no-key"
mkdir -p "$WORK/dmnt.no-key"
E2E_MOUNTS+=("$WORK/dmnt.no-key")
expect_rc "no-key: mount --decrypt exits 4" 4 \
  "$ENCFSR" mount --decrypt --password-file "$WORK/pass" "$CASE" "$WORK/dmnt.no-key"
check "no-key: nothing mounted" bash -c "! awk '\$5 == \"$WORK/dmnt.no-key\"' /proc/self/mountinfo | grep -q ."
expect_rc "no-key: verify --key KEYFILE exits 0" 0 \
  "$ENCFSR" verify --key "$KEY" --password-file "$WORK/pass" "$CASE"
expect_rc "no-key: restore --key KEYFILE exits 0" 0 \
  "$ENCFSR" restore --key "$KEY" --password-file "$WORK/pass" "$CASE" "$WORK/restored.no-key2"
check "no-key: restore --key KEYFILE restores everything" \
  compare "$PLAIN" "$WORK/restored.no-key2/data"

say "case: an altered key file byte"
for frac in 25 50 75; do
  new_case "key-byte-$frac"
  python3 - "$CASE/encfsr.key" "$frac" <<'PY'
import sys
path, frac = sys.argv[1], int(sys.argv[2])
data = bytearray(open(path, "rb").read())
i = len(data) * frac // 100
while data[i:i + 1] in (b"\n", b" ", b":"):
    i += 1
c = data[i]
data[i] = (ord("0") if c != ord("0") else ord("1")) if chr(c) in "0123456789abcdef" else c ^ 1
open(path, "wb").write(bytes(data))
PY
  expect_rc "key byte at ${frac}%: verify exits 4 or 5" '4|5' \
    "$ENCFSR" verify --password-file "$WORK/pass" "$CASE"
  expect_rc "key byte at ${frac}%: restore exits 4 or 5" '4|5' \
    "$ENCFSR" restore --password-file "$WORK/pass" "$CASE" "$WORK/restored.key-$frac"
  mkdir -p "$WORK/dmnt.key-$frac"
  E2E_MOUNTS+=("$WORK/dmnt.key-$frac")
  expect_rc "key byte at ${frac}%: mount --decrypt exits 4 or 5" '4|5' \
    "$ENCFSR" mount --decrypt --password-file "$WORK/pass" "$CASE" "$WORK/dmnt.key-$frac"
done

say "case: the wrong password"
printf 'not the password\n' >"$WORK/wrongpass"
expect_rc "wrong password: verify exits 5" 5 "$ENCFSR" verify --password-file "$WORK/wrongpass" "$BASE"
expect_rc "wrong password: restore exits 5" 5 \
  "$ENCFSR" restore --password-file "$WORK/wrongpass" "$BASE" "$WORK/restored.wrongpass"
check "wrong password: restore wrote nothing" \
  bash -c "[ ! -e '$WORK/restored.wrongpass/data' ]"
mkdir -p "$WORK/dmnt.wrongpass"
E2E_MOUNTS+=("$WORK/dmnt.wrongpass")
expect_rc "wrong password: mount --decrypt exits 5" 5 \
  "$ENCFSR" mount --decrypt --password-file "$WORK/wrongpass" "$BASE" "$WORK/dmnt.wrongpass"

finish
