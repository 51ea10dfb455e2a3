#!/usr/bin/env python3
"""tests/e2e/compare_trees.py — compares two directory trees entry by entry.

Checks the set of relative paths, file types, permission bits, mtimes (to the second),
file contents (SHA-256) and symlink targets, never following symlinks. `diff -r` is run by the
callers as well; this script adds what diff does not see (modes, mtimes, link targets).

  compare_trees.py A B [--exclude REL]... [--no-symlink-mtime] [--no-dir-mtime] [--no-mode]
                                 [--no-root]

Exit 0 when equal, 1 with one line per difference (at most 60 shown) otherwise.
"""
import argparse
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
    args = p.parse_args()
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
        if ka != "symlink" and not args.no_mode and stat.S_IMODE(sa.st_mode) != stat.S_IMODE(sb.st_mode):
            diffs.append(f"{r}: mode {stat.S_IMODE(sa.st_mode):o} != {stat.S_IMODE(sb.st_mode):o}")
        check_mtime = not ((ka == "symlink" and args.no_symlink_mtime) or
                           (ka == "dir" and args.no_dir_mtime))
        if check_mtime and int(sa.st_mtime) != int(sb.st_mtime):
            diffs.append(f"{r}: {ka} mtime {int(sa.st_mtime)} != {int(sb.st_mtime)}")
        pa, pb = os.path.join(args.a, r), os.path.join(args.b, r)
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
