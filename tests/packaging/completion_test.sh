#!/usr/bin/env bash
# tests/packaging/completion_test.sh — sources the bash completion and checks what it offers:
# the commands after `encfsr `, the options after `encfsr mount --` (compared with the
# binary's own --help), option values, nested commands, files, and the command after `--`.
#   bash completion_test.sh PATH/TO/encfsr PATH/TO/completion-file
set -uo pipefail
BIN=$(cd "$(dirname -- "${1:?usage}")" && pwd)/$(basename -- "$1")
COMPLETION=${2:?usage: completion_test.sh PATH/TO/encfsr COMPLETION}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/encfsr-compl.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILS=0

# The completion calls `encfsr` from PATH, as an installed one would.
mkdir -p "$WORK/bin"
ln -s "$BIN" "$WORK/bin/encfsr"
export PATH="$WORK/bin:$PATH"
# shellcheck source=/dev/null
source "$COMPLETION"
complete -p encfsr >/dev/null 2>&1 || { echo "FAIL - the file registers no completion for encfsr"; exit 1; }

# complete_line WORDS...: runs the completion function for the command line WORDS (the last
# word is the one being completed); prints the candidates sorted, one per line.
complete_line() {
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE="$*"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _encfsr encfsr "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  printf '%s\n' "${COMPREPLY[@]}" | sort -u | sed '/^$/d'
}
expect() {  # expect DESCRIPTION EXPECTED-LINES ACTUAL-LINES
  if [ "$2" = "$3" ]; then
    echo "ok   - $1"
  else
    echo "FAIL - $1"
    diff <(echo "$2") <(echo "$3") | sed 's/^/       | /'
    FAILS=$((FAILS + 1))
  fi
}
contains() {  # contains DESCRIPTION WORD ACTUAL-LINES
  if grep -qxF -- "$2" <<<"$3"; then echo "ok   - $1"; else
    echo "FAIL - $1: '$2' not among: $(echo "$3" | tr '\n' ' ')"; FAILS=$((FAILS + 1)); fi
}

# What the binary says: its commands, and the long options of `encfsr mount`.
commands=$(encfsr --help | awk '/^Subcommands:$/ { s = 1; next } /^[^ ]/ { s = 0 } s && /^  [^ ]/ { print $1 }' | sort)
mount_long=$(encfsr mount --help | awk '/^Exit codes:$/ { exit } /^  -/ { print $1 }' |
  tr ',' '\n' | sed 's/{[^}]*}$//' | grep '^--' | sort)
[ "$(echo "$commands" | wc -l)" -ge 8 ] || { echo "FAIL - could not read the commands"; exit 1; }

expect "'encfsr ' completes the commands" "$commands" "$(complete_line encfsr '')"
expect "'encfsr mount --' completes mount's long options" "$mount_long" \
  "$(complete_line encfsr mount --)"
expect "'encfsr re' completes restore" "restore" "$(complete_line encfsr re)"
expect "'encfsr path ' completes the path subcommands" "$(printf 'decrypt\nencrypt')" \
  "$(complete_line encfsr path '')"
contains "'encfsr path decrypt --' offers --names" --names "$(complete_line encfsr path decrypt --)"
expect "'encfsr mount --names ' completes the encodings" "$(printf 'base32\nbase64url')" \
  "$(complete_line encfsr mount --names '')"
contains "'encfsr --decrypt --pa' completes mount's options" --password-file \
  "$(complete_line encfsr --decrypt --pa)"
contains "'encfsr verify -' offers -q" -q "$(complete_line encfsr verify -)"
# A negated flag is offered by its name (CLI11's help shows it as --no-progress{false}).
if encfsr restore --help | grep -q -- '--no-progress'; then
  expect "'encfsr restore --no-p' completes --no-progress" --no-progress \
    "$(complete_line encfsr restore --no-p)"
fi

# Files: a configuration path, a key file option, paths after `run CONFIG --`.
mkdir -p "$WORK/files/sub"
: >"$WORK/files/host.yaml"
: >"$WORK/files/host.key"
cd "$WORK/files" || exit 1
expect "'encfsr mount h' completes files" "$(printf 'host.key\nhost.yaml')" \
  "$(complete_line encfsr mount h)"
expect "'encfsr init --key host.k' completes the key file" "host.key" \
  "$(complete_line encfsr init --key host.k)"
expect "'encfsr restore --password-file s' completes a directory" "sub" \
  "$(complete_line encfsr restore --password-file s)"
contains "'encfsr run host.yaml -- rsyn' completes a command" rsync \
  "$(PATH="$PATH:/usr/bin" complete_line encfsr run host.yaml -- rsyn)"
expect "'encfsr run host.yaml -- rsync -a h' completes files" "$(printf 'host.key\nhost.yaml')" \
  "$(complete_line encfsr run host.yaml -- rsync -a h)"

if [ "$FAILS" -gt 0 ]; then
  echo "== completion_test.sh: $FAILS check(s) FAILED"
  exit 1
fi
echo "== completion_test.sh: all checks passed"
