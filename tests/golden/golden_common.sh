# tests/golden/golden_common.sh — shared by make_golden.sh and golden_test.sh (source it).
# The golden tree's fixed mtimes (git does not keep mtimes) and its configuration.
GOLDEN_DIR=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
GOLDEN_SOURCE=golden   # the source name: the view shows plain/ as golden/
GOLDEN_LONG=long_name_$(printf 'y%.0s' $(seq 190))   # 200 bytes: a long-name side file

set_golden_mtimes() {  # set_golden_mtimes PLAINDIR
  local d=$1
  touch -h -d '2020-02-02 02:02:02' "$d/link"
  touch -d '2020-01-01 00:00:00' "$d/empty" "$d/one.txt" "$d/f4096.bin" "$d/f5000.txt" \
    "$d/$GOLDEN_LONG" "$d/sub/inner.txt"
  touch -d '2020-03-03 03:03:03' "$d/sub" "$d"
}
write_golden_config() {  # write_golden_config CFG KEY PASSFILE PLAINDIR
  cat >"$1" <<YAML
key: $2
password_file: $3
sources:
  - name: $GOLDEN_SOURCE
    path: $4
YAML
}
