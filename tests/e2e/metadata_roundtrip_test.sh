#!/usr/bin/env bash
# tests/e2e/metadata_roundtrip_test.sh — issue 9, deliverable 5: the metadata round trip end to
# end. A tree with several owners, setuid/setgid/sticky bits, nanosecond mtimes, user.* and
# trusted.* xattrs, POSIX ACLs (access and default), a file capability, hard links (three names
# of one inode across two directories, and a setuid pair) and symlinks is copied with a real
# `rsync -a` of the reverse view (no -X/-A/-H: the copy itself holds none of it), then brought
# back through `encfsr restore` and through `encfsr mount --decrypt`. Each property gets its own
# ok/FAIL line, compared with the tools a user would use (stat, getfattr -d -m -, getfacl,
# getcap, inode numbers) and with compare_trees.py.   bash metadata_roundtrip_test.sh PATH/TO/encfsr
source "$(dirname -- "$0")/lib.sh"
require_tool rsync stat find xargs setfacl getfacl setcap getcap setfattr getfattr
require_fuse
if [ "$(id -u)" != 0 ]; then
  if [ "${CI:-}" = true ]; then
    echo "FAIL: needs root (chown to other users, setcap, trusted.* xattrs) and CI=true" >&2
    exit 1
  fi
  echo "SKIP: needs root (chown to other users, setcap, trusted.* xattrs)" >&2
  exit 77
fi
"$ENCFSR" --version >/dev/null || die "$ENCFSR --version failed"

# make_meta_tree DIR: every kind of metadata the issue names. Order matters: chown before
# chmod (chown clears setuid/setgid), setcap after both, directory mtimes last.
make_meta_tree() {
  local d=$1
  mkdir -p "$d"/{owners/dir1000,modes/sticky_dir,modes/sgid_dir,times/ns_dir,xattr/dir} \
    "$d"/{acl/dir,cap,hl,hl2,links}
  printf 'owned by 1000\n' >"$d/owners/u1000"
  printf 'owned by root\n' >"$d/owners/u0"
  printf 'owned by 1234:5678\n' >"$d/owners/u1234"
  chown 1000:1000 "$d/owners/u1000" "$d/owners/dir1000"
  chown 1234:5678 "$d/owners/u1234"
  chmod 0600 "$d/owners/u0"
  printf '#!/bin/sh\necho suid\n' >"$d/modes/suid_root"
  chmod 4755 "$d/modes/suid_root"
  printf '#!/bin/sh\necho sgid\n' >"$d/modes/sgid"
  chown 0:1234 "$d/modes/sgid"
  chmod 2755 "$d/modes/sgid"
  printf '#!/bin/sh\necho both\n' >"$d/modes/both"
  chown 1234:5678 "$d/modes/both"
  chmod 6711 "$d/modes/both"
  printf 'no permissions\n' >"$d/modes/zero"
  chmod 0000 "$d/modes/zero"
  printf 'in a sticky directory\n' >"$d/modes/sticky_dir/in"
  chmod 1777 "$d/modes/sticky_dir"
  printf 'in a setgid directory\n' >"$d/modes/sgid_dir/in"
  chown 0:1234 "$d/modes/sgid_dir" "$d/modes/sgid_dir/in"
  chmod 2770 "$d/modes/sgid_dir"
  printf 'nanoseconds\n' >"$d/times/ns"
  touch -d '2020-09-13 12:26:40.123456789 UTC' "$d/times/ns"
  printf 'before 1970\n' >"$d/times/pre1970"
  touch -d '1960-01-01 00:00:00.25 UTC' "$d/times/pre1970"
  printf 'xattrs\n' >"$d/xattr/file"
  setfattr -n user.comment -v 'a comment' "$d/xattr/file"
  setfattr -n user.binary -v 0x00ff0001 "$d/xattr/file"
  setfattr -n user.empty "$d/xattr/file"
  setfattr -n trusted.secret -v 'root only' "$d/xattr/file"
  setfattr -n user.dir -v 'on a directory' "$d/xattr/dir"
  ln -s file "$d/xattr/link"
  setfattr -h -n trusted.link -v 'on a symlink' "$d/xattr/link"
  printf 'with an ACL\n' >"$d/acl/file"
  chmod 0640 "$d/acl/file"
  setfacl -m u:1000:rw,g:5678:r "$d/acl/file"
  setfacl -m u:1234:rx "$d/acl/dir"
  setfacl -d -m u:1000:rwx,g::rx "$d/acl/dir"
  printf '#!/bin/sh\necho ping\n' >"$d/cap/ping"
  chmod 0755 "$d/cap/ping"
  setcap cap_net_raw+ep "$d/cap/ping"
  head -c 20000 /dev/urandom >"$d/hl/a"
  chown 1000:1000 "$d/hl/a"
  chmod 0640 "$d/hl/a"
  ln "$d/hl/a" "$d/hl/b"
  ln "$d/hl/a" "$d/hl2/c"
  printf '#!/bin/sh\necho linked suid\n' >"$d/hl/x"
  chmod 4755 "$d/hl/x"
  ln "$d/hl/x" "$d/hl2/y"
  printf 'one name\n' >"$d/hl/single"
  ln -s ../owners/u1000 "$d/links/rel"
  ln -s /etc/hostname "$d/links/abs"
  ln -s does/not/exist "$d/links/dangling"
  ln -s rel "$d/links/owned"
  chown -h 1000:1000 "$d/links/owned"
  touch -h -d '2015-05-05 05:05:05.000000007 UTC' "$d/links/rel" "$d/links/owned"
  # Directories bottom-up, each with nanoseconds; then the source root itself.
  find "$d" -mindepth 1 -depth -type d -exec touch -d '2011-11-11 11:11:11.111111111 UTC' {} +
  touch -d '2012-12-12 12:12:12.987654321 UTC' "$d/times/ns_dir"
  chown 1000:1234 "$d"
  chmod 2750 "$d"
  setfattr -n user.root -v 'the source root' "$d"
  touch -d '2010-10-10 10:10:10.5 UTC' "$d"
}

# report WHAT ROOT: one property of every entry below ROOT, by root-relative path, sorted.
report() {
  local what=$1 root=$2
  cd "$root" || return 1
  case $what in
    modes) find . ! -type l -print0 | LC_ALL=C sort -z | xargs -0 stat -c '%n %A %a' ;;
    owners) find . -print0 | LC_ALL=C sort -z | xargs -0 stat -c '%n %u:%g' ;;
    mtimes) find . -print0 | LC_ALL=C sort -z | xargs -0 stat -c '%n %.9Y' ;;
    types) find . -print0 | LC_ALL=C sort -z | xargs -0 stat -c '%n %F %s' |
             sed 's/ directory [0-9]*$/ directory/' ;;
    xattrs) find . -print0 | LC_ALL=C sort -z |
              xargs -0 getfattr -h -d -m - -e hex --absolute-names ;;
    acls) find . ! -type l -print0 | LC_ALL=C sort -z | xargs -0 getfacl -n --absolute-names ;;
    caps) find . -type f -print0 | LC_ALL=C sort -z | xargs -0 getcap ;;
    links) # path, link count, and the first path (sorted) of its inode: the group
      find . -type f -printf '%i %n %p\n' | LC_ALL=C sort -k3 |
        awk '{ if (!($1 in g)) g[$1] = $3; print $3, "nlink=" $2, "group=" g[$1] }' ;;
    *) echo "unknown report $what" >&2; return 1 ;;
  esac
}

# same_report LABEL WHAT TARGET DESCRIPTION: report WHAT of $PLAIN and of TARGET are identical.
same_report() {
  local label=$1 what=$2 target=$3 desc=$4
  (report "$what" "$PLAIN") >"$WORK/want.$what" 2>&1 || true
  (report "$what" "$target") >"$WORK/got.$what" 2>&1 || true
  if [ ! -s "$WORK/want.$what" ]; then
    fail "$label: $desc: the plaintext's $what report is empty"
  elif diff -u "$WORK/want.$what" "$WORK/got.$what" >"$WORK/diff.$what"; then
    pass "$label: $desc"
  else
    fail "$label: $desc; differences (- plaintext, + $label):"
    head -40 "$WORK/diff.$what" | sed 's/^/       | /'
  fi
}

# all_properties LABEL TARGET [links|nolinks]: every property, one ok/FAIL line each.
all_properties() {
  local label=$1 t=$2 links=$3
  check "$label: paths, types and contents (compare_trees.py --only content)" \
    python3 "$E2E_DIR/compare_trees.py" "$PLAIN" "$t" --only content
  same_report "$label" types "$t" "types and sizes (stat %F %s)"
  same_report "$label" modes "$t" "all 12 mode bits: setuid, setgid, sticky (stat %A %a)"
  same_report "$label" owners "$t" "owners (stat %u:%g), symlinks too"
  same_report "$label" mtimes "$t" "mtimes to the nanosecond (stat %.9Y), symlinks too"
  same_report "$label" xattrs "$t" "xattrs: user.*, trusted.*, ACLs, capability (getfattr -d -m -)"
  same_report "$label" acls "$t" "POSIX ACLs, access and default (getfacl)"
  same_report "$label" caps "$t" "file capability (getcap)"
  check "$label: setuid-root file modes/suid_root is -rwsr-xr-x root:root" \
    test "$(stat -c '%A %u:%g' "$t/modes/suid_root")" = "-rwsr-xr-x 0:0"
  check "$label: cap/ping has cap_net_raw=ep" \
    bash -c "getcap '$t/cap/ping' | grep -q 'cap_net_raw=ep'"
  check "$label: acl/file grants user 1000 rw (getfacl)" \
    bash -c "getfacl -n '$t/acl/file' 2>/dev/null | grep -qx 'user:1000:rw-'"
  if [ "$links" = links ]; then
    same_report "$label" links "$t" "hard links: same inode groups and link counts"
    check "$label: hl/a, hl/b, hl2/c are one inode with 3 links" bash -c "
      [ \"\$(stat -c '%i %h' '$t/hl/a')\" = \"\$(stat -c '%i %h' '$t/hl/b')\" ] &&
      [ \"\$(stat -c '%i %h' '$t/hl/a')\" = \"\$(stat -c '%i %h' '$t/hl2/c')\" ] &&
      [ \"\$(stat -c %h '$t/hl/a')\" = 3 ]"
    check "$label: hl/x and hl2/y (setuid) are one inode" \
      test "$(stat -c %i "$t/hl/x")" = "$(stat -c %i "$t/hl2/y")"
    check "$label: everything at once (compare_trees.py --owners --xattrs --mtime-ns --hardlinks)" \
      python3 "$E2E_DIR/compare_trees.py" "$PLAIN" "$t" --owners --xattrs --mtime-ns --hardlinks
  else
    check "$label: hard links are separate files with one link each, same content" bash -c "
      for p in hl/a hl/b hl2/c hl/x hl2/y; do [ \"\$(stat -c %h '$t/'\$p)\" = 1 ] || exit 1; done
      [ \"\$(stat -c %i '$t/hl/a')\" != \"\$(stat -c %i '$t/hl/b')\" ] &&
      cmp -s '$t/hl/a' '$t/hl/b' && cmp -s '$t/hl/a' '$t/hl2/c' && cmp -s '$t/hl/x' '$t/hl2/y'"
    check "$label: everything but hard links (compare_trees.py --owners --xattrs --mtime-ns)" \
      python3 "$E2E_DIR/compare_trees.py" "$PLAIN" "$t" --owners --xattrs --mtime-ns
  fi
}

PLAIN=$WORK/plain
make_meta_tree "$PLAIN"
KEY=$WORK/key
init_key "$KEY" "$WORK/pass"
CFG=$WORK/config.yaml
write_config "$CFG" "$KEY" "$WORK/pass" "$PLAIN"
MNT=$WORK/mnt
COPY=$WORK/copy

say "the plaintext has what the test is about"
check "plaintext: hl/a has 3 links" test "$(stat -c %h "$PLAIN/hl/a")" = 3
check "plaintext: acl/dir has a default ACL" \
  bash -c "getfacl -n '$PLAIN/acl/dir' 2>/dev/null | grep -q '^default:user:1000:rwx'"
check "plaintext: cap/ping has a capability" bash -c "getcap '$PLAIN/cap/ping' | grep -q cap_net_raw"

say "backup: rsync -a (no -X/-A/-H) of the reverse view"
mount_view "$CFG" "$MNT"
rsync -a "$MNT/" "$COPY/"
unmount "$MNT"
check "the copy holds a manifest (encfsr.dir) in every directory" bash -c "
  cd '$COPY' && find . -type d | while IFS= read -r d; do [ -f \"\$d/encfsr.dir\" ] || exit 1; done"
check "the copy's own files carry no xattrs or ACLs (rsync -a without -X/-A)" \
  bash -c "[ -z \"\$(cd '$COPY' && find . -print0 | xargs -0 getfattr -h -d -m - --absolute-names 2>/dev/null)\" ]"
check "the copy's own files carry no hard links (rsync -a without -H)" \
  bash -c "[ -z \"\$(find '$COPY' -type f -links +1)\" ]"

say "verify"
expect_rc "verify exits 0" 0 "$ENCFSR" verify --password-file "$WORK/pass" "$COPY"
check "verify: clean, no damage, no changed-during-backup warning, completeness checked" \
  bash -c "grep -q ': clean\$' '$WORK/out' && ! grep -q -e '^damaged: ' -e '^changed during backup: ' \
    -e 'completeness not checked' '$WORK/out'"

say "restore (as root: owners restored)"
DEST=$WORK/restored
expect_rc "restore exits 0" 0 "$ENCFSR" restore --password-file "$WORK/pass" "$COPY" "$DEST"
check "restore: no setuid/setgid/sticky bits dropped" \
  bash -c "! grep -Eq 'setuid[/, ]+setgid' '$WORK/out'"
all_properties restore "$DEST/data" links

say "restore --no-same-owner"
DEST2=$WORK/restored-no-same-owner
expect_rc "restore --no-same-owner exits 0" 0 \
  "$ENCFSR" restore --no-same-owner --password-file "$WORK/pass" "$COPY" "$DEST2"
check "restore --no-same-owner: every entry owned by the restoring user (0:0)" \
  bash -c "[ \"\$(cd '$DEST2/data' && find . -print0 | xargs -0 stat -c '%u:%g' | sort -u)\" = 0:0 ]"
check "restore --no-same-owner: contents, mtimes (ns), xattrs and hard links otherwise the same" \
  python3 "$E2E_DIR/compare_trees.py" "$PLAIN" "$DEST2/data" --only content,mtime,xattrs,hardlinks \
  --mtime-ns

say "decrypt mount"
DM=$WORK/dmnt
mount_decrypt "$COPY" "$DM"
check "decrypt mount: the root lists the source only" test "$(ls -A "$DM")" = data
all_properties "decrypt mount" "$DM/data" nolinks
unmount "$DM"

finish
