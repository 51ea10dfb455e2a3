# tests/golden/golden_common.sh — shared by make_golden.sh and golden_test.sh (source it).
# The golden tree's configuration, and what git cannot keep: mtimes, modes, owners, xattrs, ACLs
# and hard links (prepare_golden_plain), and the ciphertext tree's own metadata (cipher.meta).
GOLDEN_DIR=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
GOLDEN_FORMAT_DIR=$(cd "$GOLDEN_DIR/../format" && pwd)   # reference.py
GOLDEN_SOURCE=golden   # the source name: the view shows plain/ as golden/
GOLDEN_LONG=long_name_$(printf 'y%.0s' $(seq 190))   # 200 bytes: a long-name side file
# The directory holding the hard-link pair: its manifest's link group hashes the device and
# inode numbers of the copy it was made from, so it is the one manifest that differs between
# two prepared copies (golden_test.sh compares it record by record instead of byte by byte).
GOLDEN_LINK_DIR=shared

# Needs root (owners, setuid bits, ACLs) and a file system with user xattrs and ACLs; exits 77
# (skipped) otherwise, or fails under CI=true, where both are expected.
require_golden_root() {  # require_golden_root DIR-ON-THE-FILE-SYSTEM-TO-USE
  local why=""
  if [ "$(id -u)" != 0 ]; then
    why="not root (the golden tree has owners, a setuid file and ACLs)"
  elif ! command -v setfacl >/dev/null || ! command -v setfattr >/dev/null; then
    why="setfacl/setfattr missing (packages acl, attr)"
  else
    local probe="$1/.golden-probe"
    : >"$probe"
    if ! setfattr -n user.probe -v 1 "$probe" 2>/dev/null ||
       ! setfacl -m u:1:r "$probe" 2>/dev/null; then
      why="no user xattrs or ACLs on the file system of $1"
    fi
    rm -f "$probe"
  fi
  [ -z "$why" ] && return 0
  if [ "${CI:-}" = true ]; then echo "FAIL: $why"; exit 1; fi
  echo "SKIP: $why"; exit 77
}

# Gives a copy of plain/ (never the checkout itself) what git does not store. Order matters:
# the hard link first, chown before chmod (chown clears setuid bits), the ACLs before the
# final chmod of those files (setfacl rewrites the group bits), mtimes last (a directory's
# mtime changes when a name is added to it).
prepare_golden_plain() {  # prepare_golden_plain PLAINDIR
  local d=$1
  ln -f "$d/$GOLDEN_LINK_DIR/one" "$d/$GOLDEN_LINK_DIR/two"   # one inode, two names
  chown -R -h 0:0 "$d"
  find "$d" -type d -exec chmod 0755 {} +
  find "$d" -type f -exec chmod 0644 {} +
  setfacl -m u:1000:r,g:100:rw "$d/f5000.txt"                  # system.posix_acl_access
  setfacl -d -m u:1000:rx "$d/sub"                             # system.posix_acl_default
  chmod 0640 "$d/f5000.txt"                                    # the ACL mask: r
  chmod 04755 "$d/tool"                                        # setuid
  chmod 02755 "$d/sub"                                         # setgid directory
  chmod 0600 "$d/empty"
  setfattr -n user.golden.note -v 'a file xattr' "$d/one.txt"
  setfattr -n user.golden.bin -v 0x00ff10 "$d/one.txt"
  setfattr -n user.golden.dir -v 'a directory xattr' "$d/sub"
  set_golden_mtimes "$d"
}

set_golden_mtimes() {  # set_golden_mtimes PLAINDIR
  local d=$1
  touch -h -d '2020-02-02 02:02:02' "$d/link"
  touch -d '2020-01-01 00:00:00' "$d/empty" "$d/one.txt" "$d/f4096.bin" "$d/f5000.txt" \
    "$d/$GOLDEN_LONG" "$d/sub/inner.txt" "$d/$GOLDEN_LINK_DIR/one"
  touch -d '2020-01-01 00:00:00.123456789' "$d/tool"           # nanoseconds in a manifest
  touch -d '2020-03-03 03:03:03' "$d/sub" "$d/$GOLDEN_LINK_DIR" "$d"
}

# The ciphertext tree's own metadata (what rsync -a kept and git does not): one line per
# entry, "MODE UID GID MTIME PATH" (octal mode with the special bits, mtime as seconds with
# nanoseconds, path relative to the tree, "." for its root).
write_cipher_meta() {  # write_cipher_meta CIPHERDIR OUTFILE
  (cd "$1" && find . -printf '%m %U %G %T@ %p\n' | LC_ALL=C sort -k5) >"$2"
}
apply_cipher_meta() {  # apply_cipher_meta CIPHERDIR METAFILE
  local mode uid gid mtime path
  while read -r mode uid gid mtime path; do
    chown -h "$uid:$gid" "$1/$path"             # before chmod: chown clears setuid bits
    [ -L "$1/$path" ] || chmod "$mode" "$1/$path"
    touch -h -d "@$mtime" "$1/$path"
  done <"$2"
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
