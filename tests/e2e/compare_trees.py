#!/usr/bin/env python3
"""tests/e2e/compare_trees.py — compares two directory trees entry by entry.

Checks the set of relative paths, file types, permission bits (all 12, so setuid, setgid and
sticky too), mtimes (to the second), file contents (SHA-256) and symlink targets, never
following symlinks. `diff -r` is run by the callers as well; this script adds what diff does
not see (modes, mtimes, link targets). On request, also:
  --owners     uid and gid of every entry (symlinks too)
  --xattrs     every extended attribute, names and values (user.*, trusted.*, security.* such
               as security.capability, system.posix_acl_access/default: the POSIX ACLs)
  --mtime-ns   mtimes to the nanosecond instead of the second
  --hardlinks  the same regular files share an inode: the partition of paths into hard-link
               groups is the same in both trees
  --only P,..  compare only these properties (the set of paths and the types always): content,
               mode, mtime, owners, xattrs, hardlinks (mtime honours --mtime-ns)

  compare_trees.py A B [--exclude REL]... [--no-symlink-mtime] [--no-dir-mtime] [--no-mode]
                       [--no-root] [--owners] [--xattrs] [--mtime-ns] [--hardlinks] [--only P,..]

Exit 0 when equal, 1 with one line per difference (at most 60 shown) otherwise.
"""
import argparse
import errno
import hashlib
import os
import stat
import sys


def kind(mode):
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "other"


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                return h.hexdigest()
            h.update(chunk)


def xattrs(path):
    """{name: value} of path's extended attributes, not following a symlink."""
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError as e:
        if e.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            return {}
        raise
    return {n: os.getxattr(path, n, follow_symlinks=False) for n in sorted(names)}


def show(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def link_groups(tree):
    """The hard-link groups (frozensets of paths, 2 or more) of the regular files of a scan."""
    by_inode = {}
    for r, st in tree.items():
        if stat.S_ISREG(st.st_mode):
            by_inode.setdefault((st.st_dev, st.st_ino), set()).add(r)
    return {frozenset(g) for g in by_inode.values() if len(g) > 1}


PROPERTIES = ("content", "mode", "mtime", "owners", "xattrs", "hardlinks")


def scan(root, excludes):
    """Returns {relative path: lstat result} of every entry below root ("." = root)."""
    out = {".": os.lstat(root)}
    stack = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(os.path.join(root, rel) if rel else root) as it:
            for e in it:
                r = os.path.join(rel, e.name) if rel else e.name
                if r in excludes:
                    continue
                st = e.stat(follow_symlinks=False)
                out[r] = st
                if stat.S_ISDIR(st.st_mode):
                    stack.append(r)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--exclude", action="append", default=[])
    p.add_argument("--no-symlink-mtime", action="store_true")
    p.add_argument("--no-dir-mtime", action="store_true")
    p.add_argument("--no-mode", action="store_true", help="skip permission bits (rclone)")
    p.add_argument("--no-root", action="store_true", help="skip the roots' own mode/mtime")
    p.add_argument("--owners", action="store_true", help="compare uid and gid")
    p.add_argument("--xattrs", action="store_true",
                   help="compare extended attributes (ACLs and capabilities included)")
    p.add_argument("--mtime-ns", action="store_true", help="compare mtimes to the nanosecond")
    p.add_argument("--hardlinks", action="store_true", help="compare hard-link groups")
    p.add_argument("--only", help="comma-separated properties: " + ",".join(PROPERTIES))
    args = p.parse_args()
    if args.only is not None:
        props = set(x for x in args.only.split(",") if x)
        unknown = props - set(PROPERTIES)
        if unknown:
            p.error("unknown properties in --only: " + ",".join(sorted(unknown)))
    else:
        props = {"content", "mtime"}
        if not args.no_mode:
            props.add("mode")
        for name in ("owners", "xattrs", "hardlinks"):
            if getattr(args, name):
                props.add(name)
    excludes = set(os.path.normpath(x) for x in args.exclude)
    ta, tb = scan(args.a, excludes), scan(args.b, excludes)
    diffs = []
    for r in sorted(set(ta) - set(tb)):
        diffs.append(f"only in {args.a}: {r}")
    for r in sorted(set(tb) - set(ta)):
        diffs.append(f"only in {args.b}: {r}")
    for r in sorted(set(ta) & set(tb)):
        sa, sb = ta[r], tb[r]
        ka, kb = kind(sa.st_mode), kind(sb.st_mode)
        if ka != kb:
            diffs.append(f"{r}: type {ka} != {kb}")
            continue
        if r == "." and args.no_root:
            continue
        if ka != "symlink" and "mode" in props and stat.S_IMODE(sa.st_mode) != stat.S_IMODE(sb.st_mode):
            diffs.append(f"{r}: mode {stat.S_IMODE(sa.st_mode):o} != {stat.S_IMODE(sb.st_mode):o}")
        check_mtime = "mtime" in props and not ((ka == "symlink" and args.no_symlink_mtime) or
                                                (ka == "dir" and args.no_dir_mtime))
        if check_mtime and args.mtime_ns:
            if sa.st_mtime_ns != sb.st_mtime_ns:
                diffs.append(f"{r}: {ka} mtime_ns {sa.st_mtime_ns} != {sb.st_mtime_ns}")
        elif check_mtime and int(sa.st_mtime) != int(sb.st_mtime):
            diffs.append(f"{r}: {ka} mtime {int(sa.st_mtime)} != {int(sb.st_mtime)}")
        if "owners" in props and (sa.st_uid, sa.st_gid) != (sb.st_uid, sb.st_gid):
            diffs.append(f"{r}: owner {sa.st_uid}:{sa.st_gid} != {sb.st_uid}:{sb.st_gid}")
        pa, pb = os.path.join(args.a, r), os.path.join(args.b, r)
        if "xattrs" in props:
            try:
                xa, xb = xattrs(pa), xattrs(pb)
            except OSError as e:
                diffs.append(f"{r}: xattr error: {e}")
            else:
                for n in sorted(set(xa) | set(xb)):
                    if n not in xb:
                        diffs.append(f"{r}: xattr {n} only in {args.a}")
                    elif n not in xa:
                        diffs.append(f"{r}: xattr {n} only in {args.b}")
                    elif xa[n] != xb[n]:
                        diffs.append(f"{r}: xattr {n} {show(xa[n])} != {show(xb[n])}")
        if "content" not in props:
            continue
        if ka == "symlink":
            la, lb = os.readlink(pa), os.readlink(pb)
            if la != lb:
                diffs.append(f"{r}: symlink target {la!r} != {lb!r}")
        elif ka == "file":
            if sa.st_size != sb.st_size:
                diffs.append(f"{r}: size {sa.st_size} != {sb.st_size}")
            else:
                try:
                    if digest(pa) != digest(pb):
                        diffs.append(f"{r}: content differs")
                except OSError as e:
                    diffs.append(f"{r}: read error: {e}")
    if "hardlinks" in props:
        ga, gb = link_groups(ta), link_groups(tb)
        for g in sorted(ga - gb, key=sorted):
            diffs.append(f"hard links: {', '.join(sorted(g))} share an inode in {args.a} only")
        for g in sorted(gb - ga, key=sorted):
            diffs.append(f"hard links: {', '.join(sorted(g))} share an inode in {args.b} only")
    for d in diffs[:60]:
        print("compare: " + d)
    if len(diffs) > 60:
        print(f"compare: ... and {len(diffs) - 60} more differences")
    if diffs:
        return 1
    print(f"compare: identical ({len(ta)} entries)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
