#!/usr/bin/env python3
"""tests/golden/golden_check.py — the metadata checks of golden_test.sh (what diff -r cannot see).

    golden_check.py restored PLAIN RESTORED
        the restored tree has PLAIN's types, contents, link targets, all 12 mode bits, owners,
        mtimes (ns), xattrs (ACLs included) and hard links (names sharing an inode)
    golden_check.py manifests CIPHER PLAIN PASSWORD_FILE
        the independent reference decryptor (tests/format/reference.py) decrypts CIPHER,
        authenticates every directory's manifest, and the records match PLAIN's metadata
    golden_check.py view VIEW CIPHER META PLAIN PASSWORD_FILE
        VIEW (a fresh reverse view of PLAIN) equals the checked-in CIPHER byte for byte, and its
        modes, owners and mtimes are those of META (cipher.meta), except for the manifest of
        the hard-link directory, whose link group hashes PLAIN's device and inode numbers:
        that one must hold the same records, with the link group of PLAIN's inode

Prints one "FAIL - ..." line per difference and exits 1 if there is any.
"""

import os
import stat
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "format"))
import reference  # noqa: E402

SOURCE = "golden"        # golden_common.sh GOLDEN_SOURCE
LINK_DIR = "shared"      # golden_common.sh GOLDEN_LINK_DIR

failures = []


def fail(text):
    failures.append(text)
    print("FAIL - " + text)


def xattrs_of(path):
    names = sorted(os.fsencode(n) for n in os.listxattr(path, follow_symlinks=False))
    return [(n, os.getxattr(path, n, follow_symlinks=False)) for n in names]


def walk(root):
    """{relative path ("" = root): lstat} of a whole tree."""
    out = {"": os.lstat(root)}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            out[os.path.relpath(full, root)] = os.lstat(full)
    return out


def link_partition(stats):
    """The sets of paths that share an inode (only sets of two or more)."""
    by_inode = {}
    for path, st in stats.items():
        if stat.S_ISREG(st.st_mode):
            by_inode.setdefault((st.st_dev, st.st_ino), set()).add(path)
    return sorted(sorted(s) for s in by_inode.values() if len(s) > 1)


def check_restored(plain, restored):
    want, got = walk(plain), walk(restored)
    if sorted(want) != sorted(got):
        fail("restored names differ: missing %s, extra %s"
             % (sorted(set(want) - set(got)), sorted(set(got) - set(want))))
    for path in sorted(set(want) & set(got)):
        w, g = want[path], got[path]
        shown = path or "."
        if stat.S_IFMT(w.st_mode) != stat.S_IFMT(g.st_mode):
            fail("%s: type %o, restored %o" % (shown, stat.S_IFMT(w.st_mode),
                                               stat.S_IFMT(g.st_mode)))
            continue
        for what, a, b in (("mode", "%05o" % stat.S_IMODE(w.st_mode),
                            "%05o" % stat.S_IMODE(g.st_mode)),
                           ("owner", (w.st_uid, w.st_gid), (g.st_uid, g.st_gid)),
                           ("mtime_ns", w.st_mtime_ns, g.st_mtime_ns)):
            if a != b:
                fail("%s: %s %s, restored %s" % (shown, what, a, b))
        pw, pg = os.path.join(plain, path), os.path.join(restored, path)
        if xattrs_of(pw) != xattrs_of(pg):
            fail("%s: xattrs %r, restored %r" % (shown, xattrs_of(pw), xattrs_of(pg)))
        if stat.S_ISLNK(w.st_mode) and os.readlink(pw) != os.readlink(pg):
            fail("%s: link target differs" % shown)
        if stat.S_ISREG(w.st_mode):
            with open(pw, "rb") as a, open(pg, "rb") as b:
                if a.read() != b.read():
                    fail("%s: content differs" % shown)
    if link_partition(want) != link_partition(got):
        fail("hard links %r, restored %r" % (link_partition(want), link_partition(got)))


def keys_of(cipher, password_file):
    with open(password_file, "rb") as f:
        password = f.read().split(b"\n")[0]
    with open(os.path.join(cipher, reference.KEY_FILE_NAME)) as f:
        master, names = reference.open_key_file(f.read(), password)
    return reference.Keys(master), names


def check_manifests(cipher, plain, password_file):
    keys, names = keys_of(cipher, password_file)
    if not reference.has_manifests(cipher, keys):
        fail("the key file's view section does not say manifests: yes")
        return
    try:
        tree = reference.decrypt_tree(cipher, keys, names)
    except reference.FormatError as e:
        fail("reference.py: " + str(e))
        return
    stats = walk(plain)
    want = {SOURCE + ("/" + p if p else ""): st for p, st in stats.items()}
    if sorted(want) != sorted(tree):
        fail("decrypted names differ from plain/: %r vs %r" % (sorted(tree), sorted(want)))
    kinds = {stat.S_IFDIR: "dir", stat.S_IFREG: "file", stat.S_IFLNK: "link"}
    groups = {}
    for path in sorted(set(want) & set(tree)):
        st, entry, rec = want[path], tree[path], tree[path].meta
        src = os.path.join(plain, path[len(SOURCE) + 1:])
        if rec is None or not rec.attrs_known:
            fail("%s: no manifest record with attributes" % path)
            continue
        size = 0
        if stat.S_ISREG(st.st_mode):
            size = st.st_size
            with open(src, "rb") as f:
                if f.read() != entry.data:
                    fail("%s: decrypted content differs" % path)
        elif stat.S_ISLNK(st.st_mode):
            size = len(os.readlink(src))
        expect = (kinds[stat.S_IFMT(st.st_mode)], stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid,
                  st.st_mtime_ns, size, xattrs_of(src))
        got = (rec.kind, rec.mode, rec.uid, rec.gid, rec.mtime_ns, rec.size, rec.xattrs)
        if expect != got:
            fail("%s: manifest record %r, plain/ has %r" % (path, got, expect))
        if stat.S_ISREG(st.st_mode) and (st.st_nlink > 1) != (rec.link_group != 0):
            fail("%s: link group %x with %d links" % (path, rec.link_group, st.st_nlink))
        if rec.link_group:
            groups.setdefault(rec.link_group, set()).add(path[len(SOURCE) + 1:])
    by_group = sorted(sorted(s) for s in groups.values() if len(s) > 1)
    if by_group != link_partition(stats):
        fail("link groups %r, hard links in plain/ %r" % (by_group, link_partition(stats)))
    if not by_group:
        fail("no hard links in the golden tree")


def read_meta(meta_file):
    """cipher.meta: {relative path ("" = root): (mode, uid, gid, mtime_ns)}."""
    out = {}
    with open(meta_file) as f:
        for line in f:
            mode, uid, gid, mtime, path = line.rstrip("\n").split(" ", 4)
            sec, _, frac = mtime.partition(".")
            path = os.path.normpath(path)
            out["" if path == "." else path] = (int(mode, 8), int(uid), int(gid),
                                                int(sec) * 10**9 + int((frac + "0" * 9)[:9]))
    return out


def check_view(view, cipher, meta_file, plain, password_file):
    keys, names = keys_of(cipher, password_file)
    link_dir_id = keys.id_of(SOURCE + "/" + LINK_DIR)
    link_dir = os.path.join(*(reference.encrypt_name(keys, keys.id_of(os.path.dirname(p)),
                                                     os.path.basename(p), names)[0]
                              for p in (SOURCE, SOURCE + "/" + LINK_DIR)))
    special = os.path.join(link_dir, reference.MANIFEST_NAME)
    got, want = walk(view), walk(cipher)
    meta = read_meta(meta_file)
    if sorted(meta) != sorted(want):
        fail("cipher.meta does not list exactly the entries of cipher/")
    if sorted(got) != sorted(want):
        fail("names of the view differ from cipher/: missing %s, extra %s"
             % (sorted(set(want) - set(got)), sorted(set(got) - set(want))))
    for path in sorted(set(got) & set(want)):
        g, w = got[path], want[path]
        a, b = os.path.join(view, path), os.path.join(cipher, path)
        shown = (stat.S_IMODE(g.st_mode), g.st_uid, g.st_gid, g.st_mtime_ns)
        if path != special and meta.get(path) != shown:
            fail("%s: the view shows mode, owner, mtime %r, cipher.meta says %r"
                 % (path or ".", shown, meta.get(path)))
        if stat.S_IFMT(g.st_mode) != stat.S_IFMT(w.st_mode):
            fail("%s: type differs" % path)
        elif stat.S_ISLNK(g.st_mode):
            if os.readlink(a) != os.readlink(b):
                fail("%s: link target differs" % path)
        elif stat.S_ISREG(g.st_mode) and path != special:
            with open(a, "rb") as fa, open(b, "rb") as fb:
                if fa.read() != fb.read():
                    fail("%s: content differs from cipher/" % path)
    # The hard-link directory's manifest: the same records; the link group of plain/'s inode.
    try:
        with open(os.path.join(view, special), "rb") as f:
            mine = reference.open_manifest(keys, link_dir_id, f.read())
        with open(os.path.join(cipher, special), "rb") as f:
            frozen = reference.open_manifest(keys, link_dir_id, f.read())
    except (OSError, reference.FormatError) as e:
        fail("%s: %s" % (special, e))
        return
    st = os.lstat(os.path.join(plain, LINK_DIR, "one"))
    group = reference.link_group(keys, st.st_dev, st.st_ino)
    if [r.link_group for r in mine] != [group] * len(mine) or len(mine) != 2:
        fail("%s: link groups %r, want %x for both names"
             % (special, [r.link_group for r in mine], group))
    for r in mine + frozen:
        r.link_group = 1 if r.link_group else 0
    if mine != frozen:
        fail("%s: records differ from cipher/'s beyond the link group" % special)


def main(argv):
    if argv[:1] == ["restored"] and len(argv) == 3:
        check_restored(*argv[1:])
    elif argv[:1] == ["manifests"] and len(argv) == 4:
        check_manifests(*argv[1:])
    elif argv[:1] == ["view"] and len(argv) == 6:
        check_view(*argv[1:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
