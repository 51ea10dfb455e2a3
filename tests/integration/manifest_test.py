#!/usr/bin/env python3
"""tests/integration/manifest_test.py — directory manifests (issue 9; docs/FORMAT.md section 10,
format 3).

Usage: manifest_test.py [ENCFSR_BINARY] [unittest args, e.g. a class name]
(or ENCFSR_BIN in the environment). One ctest test per class; every class makes its own key and
trees, mounts for real and always unmounts.

- ViewServesManifests: every directory of a reverse view holds `encfsr.dir` (not in --plain
  views, not with `manifests: false`); its records, decoded here by an independent reader built
  on tests/format/reference.py's primitives, describe the source exactly; its bytes are the
  same across remounts, and its size/mtime change exactly when a child's metadata does; a copy
  (rsync -a) restores to an identical tree; a copy without manifests drops special mode bits.
- TamperedCopy: one rsync copy of a view, tampered in each way of issue 9 (entries deleted,
  replaced, added from an older copy, chmod/chown; manifests deleted, swapped, flipped, cut,
  chunks dropped or reordered; a file spliced from an older copy): `encfsr verify` (exact
  lines and JSON), `encfsr restore` (what is restored, with which metadata, exit status) and
  `encfsr mount --decrypt` (errno, listing, attributes).
- RestoreMetadata: owners, all 12 mode bits, nanosecond mtimes, xattrs, POSIX ACLs, a file
  capability, hard links and symlinks through `rsync -a` (no -X/-A/-H) and back, compared with
  lstat, getfattr, getfacl and getcap; --no-same-owner; the decrypt mount shows the same.
Needs root (chown, setcap, trusted.* xattrs), rsync, setfacl/getfacl, setcap/getcap, getfattr.
"""

import errno
import hashlib
import json
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "format"))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import compare_trees  # noqa: E402
import mountlib  # noqa: E402
from mountlib import Mount  # noqa: E402
import reference  # noqa: E402

MANIFEST = "encfsr.dir"
EPOCH_2000 = 946684800
SPECIAL_BITS = 0o7000
COMPLETENESS_NOT_CHECKED = "completeness not checked: the copy has no directory manifests"
# restore's one summary note that setuid/setgid/sticky bits were dropped (entries without an
# authenticated manifest record).
SPECIAL_BITS_NOTE = re.compile(r"setuid[/, ]+setgid[/, ]+(?:and )?sticky")

# Subkeys of formats 2 and 3 (crypto/keys.h): manifest tags/trailers, chunk stream, groups and
# cuts. The manifest encoding is format 3's (docs/FORMAT.md section 10).
K_MANIFEST_MAC = 10
K_MANIFEST_STREAM = 11
K_MANIFEST_GROUP = 12
CHUNK_TARGET = 4096
CHUNK_MIN_RECORDS = 32
MAX_CHUNK = 16 << 20
MAX_MANIFEST = 256 << 20


def text(data):
    return mountlib._text(data)


def read_all(path):
    with open(path, "rb") as f:
        return f.read()


def write_file(path, data, mode=None, owner=None, mtime_ns=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    if owner is not None:
        os.chown(path, *owner)
    if mode is not None:
        os.chmod(path, mode)  # after chown, which clears setuid/setgid
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def ns(seconds, nanoseconds=0):
    return seconds * 10**9 + nanoseconds


def set_mtime_ns(path, mtime_ns):
    os.utime(path, ns=(mtime_ns, mtime_ns), follow_symlinks=False)


def require_root_and_tools(*tools):
    if os.geteuid() != 0:
        raise unittest.SkipTest("needs root (chown to other users, setcap, trusted.* xattrs)")
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        msg = "missing tools: %s (apt-get install -y acl attr libcap2-bin rsync)" % missing
        if mountlib.in_ci():
            raise AssertionError(msg)
        raise unittest.SkipTest(msg)


# ------------------------------------------------------------------------- tree descriptions

def kind_of(mode):
    """"file", "dir", "symlink", or None for anything a view leaves out."""
    k = compare_trees.kind(mode)
    return None if k == "other" else k


xattrs_of = compare_trees.xattrs


def describe(root, xattrs=True, skip_names=()):
    """{relative path ("." = root): {field: value}} of the directories, regular files and
    symlinks under root: type, mode (12 bits; not for symlinks), uid, gid, mtime_ns, size and
    sha256 (files), target (symlinks), xattrs."""
    out = {}

    def add(rel, path):
        st = os.lstat(path)
        kind = kind_of(st.st_mode)
        if kind is None:
            return False
        row = {"type": kind, "uid": st.st_uid, "gid": st.st_gid, "mtime_ns": st.st_mtime_ns}
        if kind != "symlink":
            row["mode"] = "%04o" % stat.S_IMODE(st.st_mode)
        if kind == "file":
            row["size"] = st.st_size
            row["sha256"] = mountlib.file_sha256(path)
        if kind == "symlink":
            row["target"] = os.readlink(path)
        if xattrs:
            row["xattrs"] = xattrs_of(path)
        out[rel] = row
        return kind == "dir"

    add(".", root)
    stack = [""]
    while stack:
        rel = stack.pop()
        for name in sorted(os.listdir(os.path.join(root, rel) if rel else root)):
            if name in skip_names:
                continue
            r = os.path.join(rel, name) if rel else name
            if add(r, os.path.join(root, r)):
                stack.append(r)
    return out


def tree_diffs(want, got, fields=None):
    """Lines naming every difference between two describe() results."""
    lines = []
    for rel in sorted(set(want) | set(got)):
        if rel not in got:
            lines.append("missing: %s" % rel)
            continue
        if rel not in want:
            lines.append("unexpected: %s" % rel)
            continue
        w, g = want[rel], got[rel]
        for k in sorted(set(w) | set(g)):
            if fields is not None and k not in fields and k != "type":
                continue
            if w.get(k) != g.get(k):
                lines.append("%s: %s: want %r, got %r" % (rel, k, w.get(k), g.get(k)))
    return lines


def inode_groups(root, rels):
    """{rel: (st_dev, st_ino, st_nlink)} of the given paths under root."""
    out = {}
    for rel in rels:
        st = os.lstat(os.path.join(root, rel))
        out[rel] = (st.st_dev, st.st_ino, st.st_nlink)
    return out


def tool_lines(args, root, rels):
    """Output of a tool (getfattr/getfacl/getcap ...) run on root/rel for each rel, with root
    replaced by ROOT so that two trees compare line by line."""
    out = {}
    for rel in rels:
        proc = subprocess.run(args + [os.path.join(root, rel)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=60)
        out[rel] = (proc.returncode, text(proc.stdout).replace(root, "ROOT"))
    return out


# --------------------------------------------------- an independent reader of sealed manifests

class ManifestFormatError(Exception):
    pass


class ManifestKeys:
    """The subkeys that manifests use (ids 10-12), from reference.py's KDF (not encfsr's code)."""

    def __init__(self, keys):
        self.keys = keys
        self.mac = reference.kdf(keys.master, K_MANIFEST_MAC)
        self.stream = reference.kdf(keys.master, K_MANIFEST_STREAM)
        self.group = reference.kdf(keys.master, K_MANIFEST_GROUP)

    def cut_after(self, name):
        return reference.mac(self.group, b"\x02" + name, 8)[0] & 31 == 0

    def link_group(self, dev, ino):
        h = reference.mac(self.group, b"\x01" + struct.pack("<QQ", dev, ino), 8)
        g = struct.unpack("<Q", h)[0]
        return g if g != 0 else 1


class _Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def done(self):
        return self.pos == len(self.data)

    def byte(self):
        if self.pos >= len(self.data):
            raise ManifestFormatError("record cut")
        self.pos += 1
        return self.data[self.pos - 1]

    def varint(self, maximum):
        v, shift = 0, 0
        for i in range(10):
            b = self.byte()
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                if b == 0 and i > 0:
                    raise ManifestFormatError("non-canonical varint")
                if v > maximum:
                    raise ManifestFormatError("varint %d over %d" % (v, maximum))
                return v
            shift += 7
        raise ManifestFormatError("varint over 10 bytes")

    def take(self, n):
        if len(self.data) - self.pos < n:
            raise ManifestFormatError("record cut")
        self.pos += n
        return self.data[self.pos - n:self.pos]


def split_chunks(data):
    """([chunk bytes, ...], trailer) of a sealed manifest, from its length fields only
    (FORMAT.md 10.7 steps 1-2); trailer is None for a sole chunk (n = 1, no trailer)."""
    if not 16 <= len(data) <= MAX_MANIFEST:
        raise ManifestFormatError("manifest of %d bytes" % len(data))
    chunks, off = [], 0
    while len(data) - off > 16:
        r = _Reader(data[off:])
        n = r.varint(MAX_CHUNK)
        if n == 0 or r.pos + 16 + n > len(data) - off:
            raise ManifestFormatError("bad chunk length %d at %d" % (n, off))
        chunks.append(bytes(data[off:off + r.pos + 16 + n]))
        off += r.pos + 16 + n
        if len(chunks) == 1 and off == len(data):
            return chunks, None
    if len(data) - off != 16:
        raise ManifestFormatError("%d bytes after the last chunk" % (len(data) - off))
    if len(chunks) == 1:
        raise ManifestFormatError("a trailer after a sole chunk")
    return chunks, bytes(data[off:])


def chunk_parts(chunk):
    """(tag, ciphertext) of one chunk's bytes as split_chunks returns them."""
    r = _Reader(chunk)
    r.varint(MAX_CHUNK)
    return chunk[r.pos:r.pos + 16], chunk[r.pos + 16:]


# Packed names (FORMAT.md 10.3): codes 0..62 are these bytes, 63 escapes any other byte.
NAME_SYMBOLS = b"-.0123456789ABCDEFGHIJKLMNOPRSTUVWXY_abcdefghijklmnopqrstuvwxyz"


def read_name(r):
    """A record's name_header and name: packed (6-bit codes, MSB first, zero fill) or as it is.
    Strict: packed exactly when that is shorter than the name."""
    header = r.varint(511)
    length, packed = header >> 1, header & 1
    if length == 0:
        raise ManifestFormatError("name of length 0")
    if not packed:
        name = bytes(r.take(length))
    else:
        acc, have, out = 0, 0, bytearray()

        def bits(n):
            nonlocal acc, have
            while have < n:
                acc, have = (acc << 8) | r.byte(), have + 8
            have -= n
            v = acc >> have
            acc &= (1 << have) - 1
            return v

        while len(out) < length:
            code = bits(6)
            if code < 63:
                out.append(NAME_SYMBOLS[code])
                continue
            b = bits(8)
            if b in NAME_SYMBOLS:
                raise ManifestFormatError("packed name escapes a symbol byte %#x" % b)
            out.append(b)
        if acc:
            raise ManifestFormatError("packed name with non-zero fill bits")
        name = bytes(out)
    size = (sum(6 if b in NAME_SYMBOLS else 14 for b in name) + 7) // 8
    if bool(packed) != (size < length):
        raise ManifestFormatError("%r %s although packing is %s" % (
            name, "packed" if packed else "not packed",
            "not shorter" if packed else "shorter"))
    return name


def decode_chunk(plain):
    """[(record dict, bytes of the chunk up to and including it)] of one chunk's plaintext.
    Strict: a writer must use the same-mode/same-owner bits whenever they apply, and pack a
    name exactly when that is shorter. mtimes are deltas to the previous record's (the last
    earlier record of the chunk with known attributes; 0 without one)."""
    r = _Reader(plain)
    prev = None
    out = []
    while not r.done():
        flags = r.byte()
        rtype = flags & 3
        if rtype == 0:
            raise ManifestFormatError("type 0")
        name = read_name(r)
        if not name or b"/" in name or b"\0" in name or name in (b".", b".."):
            raise ManifestFormatError("bad name %r" % name)
        rec = {"name": name, "type": {1: "dir", 2: "file", 3: "symlink"}[rtype]}
        if flags & 4:
            if flags & ~7:
                raise ManifestFormatError("attributes unknown with other flags")
            rec["attrs_known"] = False
            out.append((rec, r.pos))
            continue
        rec["attrs_known"] = True
        if flags & 0x18 and prev is None:
            raise ManifestFormatError("same-as-previous in the first record of a chunk")
        rec["mode"] = prev["mode"] if flags & 8 else r.varint(0o7777)
        if flags & 0x10:
            rec["uid"], rec["gid"] = prev["uid"], prev["gid"]
        else:
            rec["uid"] = r.varint(0xFFFFFFFF)
            rec["gid"] = r.varint(0xFFFFFFFF)
        if prev is not None:
            if not flags & 8 and rec["mode"] == prev["mode"]:
                raise ManifestFormatError("%r: mode equal to the previous one but spelled out"
                                          % name)
            if not flags & 0x10 and (rec["uid"], rec["gid"]) == (prev["uid"], prev["gid"]):
                raise ManifestFormatError("%r: owner equal to the previous one but spelled out"
                                          % name)
        z = r.varint((1 << 64) - 1)
        delta = (z >> 1) ^ -(z & 1)
        prev_sec = prev["mtime_sec"] if prev is not None else 0
        rec["mtime_sec"] = ((prev_sec + delta + (1 << 63)) % (1 << 64)) - (1 << 63)
        rec["mtime_nsec"] = 0
        if flags & 0x20:
            rec["mtime_nsec"] = r.varint(999999999)
            if rec["mtime_nsec"] == 0:
                raise ManifestFormatError("nanoseconds flag with 0")
        rec["size"] = r.varint((1 << 64) - 1) if rtype != 1 else 0
        rec["link_group"] = 0
        if flags & 0x40:
            if rtype != 2:
                raise ManifestFormatError("link group on a non-file")
            rec["link_group"] = struct.unpack("<Q", r.take(8))[0]
            if rec["link_group"] == 0:
                raise ManifestFormatError("link group 0")
        rec["xattrs"] = {}
        if flags & 0x80:
            count = r.varint(1 << 20)
            if count == 0:
                raise ManifestFormatError("xattr count 0")
            last = None
            for _ in range(count):
                xn = r.take(r.varint(255))
                if not xn or b"\0" in xn or (last is not None and not last < xn):
                    raise ManifestFormatError("xattr names not sorted/unique/valid")
                rec["xattrs"][xn] = r.take(r.varint(65536))
                last = xn
        prev = rec
        out.append((rec, r.pos))
    return out


def open_manifest(mkeys, dir_id, data, check_cuts=True):
    """Records (dicts, in order) of a sealed manifest of directory dir_id; ManifestFormatError
    when anything fails. check_cuts: every chunk ends exactly where the writer rule says (after
    a record once the chunk's plaintext holds 4096 bytes, or once the chunk holds 32 records
    and the name's keyed hash says so)."""
    chunks, trailer = split_chunks(data)
    domain = b"\x03" if trailer is None else b"\x01"  # a sole chunk has no trailer
    records, tags = [], []
    for i, chunk in enumerate(chunks):
        tag, cipher = chunk_parts(chunk)
        plain = reference.xchacha20(mkeys.stream, tag + bytes(8), cipher)
        if reference.mac(mkeys.mac, dir_id + domain + plain, 16) != tag:
            raise ManifestFormatError("chunk %d fails authentication" % i)
        decoded = decode_chunk(plain)
        if check_cuts:
            for j, (rec, upto) in enumerate(decoded):
                cut = upto >= CHUNK_TARGET or (
                    j + 1 >= CHUNK_MIN_RECORDS and mkeys.cut_after(rec["name"]))
                last_of_chunk = j == len(decoded) - 1
                if not last_of_chunk and cut:
                    raise ManifestFormatError("chunk %d should end after %r" % (i, rec["name"]))
                if last_of_chunk and i != len(chunks) - 1 and not cut:
                    raise ManifestFormatError("chunk %d ends after %r without a reason" % (
                        i, rec["name"]))
        records += [rec for rec, _ in decoded]
        tags.append(tag)
    if trailer is not None:
        want = reference.mac(mkeys.mac, dir_id + b"\x02" + struct.pack("<Q", len(tags)) +
                             b"".join(tags), 16)
        if want != trailer:
            raise ManifestFormatError("trailer fails authentication")
    names = [r["name"] for r in records]
    if any(not a < b for a, b in zip(names, names[1:])):
        raise ManifestFormatError("names not strictly ascending")
    return records


def manifest_mtime(data):
    """The mtime (seconds) a view shows for a sealed manifest: from its final MAC, the trailer
    or a sole chunk's tag."""
    chunks, trailer = split_chunks(data)
    final = chunk_parts(chunks[0])[0] if trailer is None else trailer
    return EPOCH_2000 + struct.unpack("<Q", final[:8])[0] % (1 << 28)


def expected_record(mkeys, path, name):
    """The manifest record the writer must make for the source entry at path."""
    st = os.lstat(path)
    rec = {"name": os.fsencode(name), "type": kind_of(st.st_mode), "attrs_known": True,
           "mode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid,
           "mtime_sec": st.st_mtime_ns // 10**9, "mtime_nsec": st.st_mtime_ns % 10**9,
           "size": 0, "link_group": 0,
           "xattrs": {os.fsencode(k): v for k, v in xattrs_of(path).items()}}
    if stat.S_ISREG(st.st_mode):
        rec["size"] = st.st_size
        if st.st_nlink > 1:
            rec["link_group"] = mkeys.link_group(st.st_dev, st.st_ino)
    elif stat.S_ISLNK(st.st_mode):
        rec["size"] = len(os.fsencode(os.readlink(path)))
    return rec


# --------------------------------------------------------------------------------- test base

class ManifestCase(unittest.TestCase):
    """A key and a password per class; helpers for configs, copies, verify, restore, mounts."""

    @classmethod
    def setUpClass(cls):
        mountlib.require_fuse()
        require_root_and_tools("rsync", "setfacl", "getfacl", "setcap", "getcap", "getfattr")
        cls.work = mountlib.Setup(prefix="encfsr-manifest-it-")
        cls.keys = reference.Keys(reference.paper_key_to_master(cls.work.paper_key))
        cls.mkeys = ManifestKeys(cls.keys)
        cls.counter = 0

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, "work"):
            cls.work.cleanup()

    @classmethod
    def new_path(cls, prefix):
        cls.counter += 1
        return cls.work.path("%s%d" % (prefix, cls.counter))

    @classmethod
    def make_config(cls, sources, manifests=None, **kw):
        path = cls.work.config(sources, **kw)
        if manifests is not None:
            with open(path, "a") as f:
                f.write("manifests: %s\n" % ("true" if manifests else "false"))
        return path

    @classmethod
    def rsync_view(cls, config, dest, extra=()):
        """rsync -a (no -X/-A/-H) of a fresh reverse mount of config into dest."""
        with Mount(config, cls.work.mountpoint()) as m:
            mountlib.run(["rsync", "-a"] + list(extra) + [m.path + "/", dest + "/"],
                         timeout=300)
        return dest

    @classmethod
    def encfsr(cls, *args):
        return mountlib.run([mountlib.encfsr_bin()] + [str(a) for a in args], check=False,
                            timeout=300)

    @classmethod
    def cipher_rel(cls, config, plain):
        """The copy-relative ciphertext path of a plaintext view path (`encfsr path encrypt`)."""
        proc = cls.encfsr("path", "encrypt", config, plain)
        if proc.returncode != 0 or not text(proc.stdout).strip():
            raise AssertionError("encfsr path encrypt %s: exit %d: %s" % (
                plain, proc.returncode, text(proc.stderr)))
        return text(proc.stdout).strip().lstrip("/")

    @classmethod
    def manifest_rel(cls, config, plain_dir):
        """Copy-relative path of the manifest of a plaintext view directory ("" = the root)."""
        if not plain_dir:
            return MANIFEST
        return os.path.join(cls.cipher_rel(config, plain_dir), MANIFEST)

    def key_opts(self):
        return ["--password-file", self.work.password_file]

    def restore(self, copy, dest, *rest):
        return self.encfsr("restore", *self.key_opts(), *rest, copy, dest)

    def restore_paths(self, copy, paths, dest, *rest):
        return self.encfsr("restore", *self.key_opts(), *rest, copy, *paths, dest)

    def decrypt_mount(self, copy):
        return Mount(copy, self.work.mountpoint(), mode="decrypt", key_options=self.key_opts())

    def verify_text(self, copy, *rest):
        proc = self.encfsr("verify", *self.key_opts(), *rest, copy)
        return proc.returncode, text(proc.stdout), text(proc.stderr)

    def verify_json(self, copy, *rest):
        proc = self.encfsr("verify", *self.key_opts(), "--json", *rest, copy)
        try:
            report = json.loads(text(proc.stdout))
        except ValueError as e:
            self.fail("verify --json printed no JSON (%s): %r / %r" % (e, proc.stdout,
                                                                       proc.stderr))
        return proc.returncode, report

    def assert_verify(self, copy, damaged=(), changed=(), completeness=True):
        """verify (text and --json) reports exactly `damaged` [(plaintext path, kind)] and the
        warnings `changed` [plaintext path]; exit 8 with damage, else 0."""
        want_rc = 8 if damaged else 0
        rc, out, err = self.verify_text(copy)
        where = "verify output:\n%s\nstderr:\n%s" % (out, err)
        self.assertEqual(rc, want_rc, where)
        lines = out.splitlines()
        self.assertTrue(lines and lines[0].startswith("entries "), where)
        got_damage = [l for l in lines if l.startswith("damaged: ")]
        got_changed = [l for l in lines if l.startswith("changed during backup: ")]
        self.assertEqual(sorted(got_damage),
                         sorted("damaged: %s: %s" % (p, k) for p, k in damaged), where)
        self.assertEqual(sorted(got_changed),
                         sorted("changed during backup: %s" % p for p in changed), where)
        got_note = [l for l in lines if l.startswith(COMPLETENESS_NOT_CHECKED)]
        known = set(got_damage) | set(got_changed) | set(got_note) | {lines[0]}
        self.assertEqual([l for l in lines if l not in known], [], where)
        if got_damage and got_changed:
            self.assertLess(max(lines.index(l) for l in got_damage),
                            min(lines.index(l) for l in got_changed),
                            "damage lines come before warnings\n" + where)
        if damaged:
            self.assertRegex(lines[0], r": %d damaged\b" % len(damaged), where)
        else:
            self.assertNotIn("damaged", lines[0], where)
            if not changed:
                self.assertRegex(lines[0], r": clean$", where)
        # The note may go on to say what that means ("...manifests (made with ...); ...").
        self.assertEqual(len(got_note), 0 if completeness else 1, where)
        rc, report = self.verify_json(copy)
        self.assertEqual(rc, want_rc, report)
        self.assertEqual(sorted((d["path"], d["kind"]) for d in report["damaged"]),
                         sorted(damaged), report)
        self.assertEqual(sorted(report["changed_during_backup"]), sorted(changed), report)
        self.assertIs(report["completeness_checked"], completeness, report)
        return out

    def assert_same_tree(self, want, got, what, fields=None):
        diffs = tree_diffs(want, got, fields)
        if diffs:
            self.fail("%s: %d differences:\n  %s" % (what, len(diffs), "\n  ".join(diffs[:60])))

    def expect_errno(self, codes, fn, *args):
        mountlib.expect_errno(self, codes, fn, *args)


# ====================================================================== the view serves them

def make_view_tree(root):
    """A small source with every kind of entry, special bits, owners, xattrs, ns mtimes, and a
    plaintext file named like a manifest."""
    os.makedirs(root)
    write_file(os.path.join(root, "f1"), "one\n", 0o644, mtime_ns=1600000000_123456789)
    write_file(os.path.join(root, "f2"), "two\n" * 1000, 0o600, owner=(1000, 1000),
               mtime_ns=1600000001_000000000)
    os.setxattr(os.path.join(root, "f2"), "user.note", b"hello")
    write_file(os.path.join(root, MANIFEST), "a plaintext file named like a manifest\n", 0o640)
    write_file(os.path.join(root, "suid"), "#!/bin/sh\necho suid\n", 0o4755)
    write_file(os.path.join(root, "sub", "g"), "g\n", 0o644, owner=(1234, 5678))
    write_file(os.path.join(root, "sub", "deeper", "h"), "h\n", 0o444)
    os.makedirs(os.path.join(root, "empty"))
    os.makedirs(os.path.join(root, "tmp"))
    write_file(os.path.join(root, "tmp", "t"), "t\n")
    os.chmod(os.path.join(root, "tmp"), 0o1777)
    os.makedirs(os.path.join(root, "shared"))
    os.chown(os.path.join(root, "shared"), 0, 1234)
    os.chmod(os.path.join(root, "shared"), 0o2775)
    os.setxattr(os.path.join(root, "shared"), "user.dirnote", b"on a directory")
    os.symlink("f1", os.path.join(root, "link"))
    os.lchown(os.path.join(root, "link"), 1000, 1000)
    set_mtime_ns(os.path.join(root, "link"), ns(1500000000, 5))
    os.link(os.path.join(root, "f1"), os.path.join(root, "sub", "f1-hardlink"))
    for d, mtime in (("sub/deeper", ns(1400000000, 1)), ("sub", ns(1400000001)),
                     ("empty", ns(1400000002, 999999999)), ("tmp", ns(1400000003)),
                     ("shared", 0), ("", ns(1400000004, 25))):
        set_mtime_ns(os.path.join(root, d) if d else root, mtime)


class ViewServesManifests(ManifestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.data = cls.work.path("src", "data")
        make_view_tree(cls.data)
        cls.etc = cls.work.path("src", "etc")
        write_file(os.path.join(cls.etc, "hosts"), "127.0.0.1 localhost\n")
        cls.sources = [{"name": "data", "path": cls.data}, {"name": "etc", "path": cls.etc}]
        cls.config = cls.make_config(cls.sources)
        cls.config_off = cls.make_config(cls.sources, manifests=False)

    def plain_dirs(self):
        """Plaintext view paths of every directory of the view, "" = the root."""
        out = [""]
        for src, root in (("data", self.data), ("etc", self.etc)):
            out.append(src)
            for rel, st in mountlib.plain_entries(root).items():
                if stat.S_ISDIR(st.st_mode):
                    out.append(src + "/" + rel)
        return sorted(out)

    def source_path(self, plain):
        src, _, rest = plain.partition("/")
        root = {"data": self.data, "etc": self.etc}[src]
        return os.path.join(root, rest) if rest else root

    def manifests_of(self, mnt):
        """{plain dir: (bytes, lstat)} of the manifest of every directory of a mounted view."""
        out = {}
        for d in self.plain_dirs():
            p = os.path.join(mnt, self.manifest_rel(self.config, d))
            st = os.lstat(p)
            out[d] = (read_all(p), st)
        return out

    def test_every_directory_has_a_manifest_with_the_documented_attributes(self):
        with Mount(self.config, self.work.mountpoint()) as m:
            key_st = os.lstat(os.path.join(m.path, "encfsr.key"))
            seen = 0
            for dirpath, dirnames, filenames in os.walk(m.path):
                seen += 1
                self.assertIn(MANIFEST, filenames, dirpath)
                self.assertEqual(filenames.count(MANIFEST), 1, dirpath)
                p = os.path.join(dirpath, MANIFEST)
                st = os.lstat(p)
                data = read_all(p)
                self.assertTrue(stat.S_ISREG(st.st_mode), p)
                self.assertEqual(stat.S_IMODE(st.st_mode), 0o444, p)
                self.assertEqual(st.st_nlink, 1, p)
                self.assertEqual(st.st_size, len(data), p)
                self.assertGreaterEqual(len(data), 16, p)
                self.assertEqual(st.st_mtime_ns, manifest_mtime(data) * 10**9, p)
                owner = key_st if dirpath == m.path else os.lstat(dirpath)
                self.assertEqual((st.st_uid, st.st_gid), (owner.st_uid, owner.st_gid), p)
                self.assertEqual(read_all(p), data, "two reads differ: " + p)
            self.assertEqual(seen, len(self.plain_dirs()))
            # The directories with non-root owners are among them.
            shared = os.path.join(m.path, self.manifest_rel(self.config, "data/shared"))
            self.assertEqual(os.lstat(shared).st_gid, 1234)

    def test_manifest_of_an_empty_directory_is_the_trailer_alone(self):
        with Mount(self.config, self.work.mountpoint()) as m:
            data = read_all(os.path.join(m.path, self.manifest_rel(self.config, "data/empty")))
        self.assertEqual(len(data), 16)
        self.assertEqual(open_manifest(self.mkeys, self.keys.id_of("data/empty"), data), [])

    def test_records_describe_the_source_exactly(self):
        """Decoded with an independent reader: every child the view shows (not encfsr.key, side
        files or manifests), in name order, with mode, owner, mtime, size, link group and
        xattrs of the source; chunk cuts where the writer rule puts them; the root lists the
        sources with their root directories' metadata."""
        with Mount(self.config, self.work.mountpoint()) as m:
            manifests = self.manifests_of(m.path)
        for d, (data, _) in sorted(manifests.items()):
            with self.subTest(directory=d or "/"):
                try:
                    records = open_manifest(self.mkeys, self.keys.id_of(d), data)
                except ManifestFormatError as e:
                    self.fail("manifest of %r: %s" % (d, e))
                if d == "":
                    children = {"data": self.data, "etc": self.etc}
                else:
                    src = self.source_path(d)
                    children = {n: os.path.join(src, n) for n in os.listdir(src)}
                want = [expected_record(self.mkeys, children[n], n)
                        for n in sorted(children, key=os.fsencode)]
                self.assertEqual([r["name"] for r in records], [w["name"] for w in want])
                for got, w in zip(records, want):
                    self.assertEqual(got, w, got["name"])
        # The hard-linked pair shares one group; the plaintext "encfsr.dir" is an entry.
        data_records = {r["name"]: r for r in open_manifest(
            self.mkeys, self.keys.id_of("data"), manifests["data"][0])}
        sub_records = {r["name"]: r for r in open_manifest(
            self.mkeys, self.keys.id_of("data/sub"), manifests["data/sub"][0])}
        self.assertNotEqual(data_records[b"f1"]["link_group"], 0)
        self.assertEqual(data_records[b"f1"]["link_group"], sub_records[b"f1-hardlink"]["link_group"])
        self.assertEqual(data_records[b"f2"]["link_group"], 0)
        self.assertIn(os.fsencode(MANIFEST), data_records)

    def test_a_manifest_does_not_open_as_another_directorys(self):
        with Mount(self.config, self.work.mountpoint()) as m:
            sub = read_all(os.path.join(m.path, self.manifest_rel(self.config, "data/sub")))
        with self.assertRaises(ManifestFormatError):
            open_manifest(self.mkeys, self.keys.id_of("data/shared"), sub)
        open_manifest(self.mkeys, self.keys.id_of("data/sub"), sub)

    def test_key_file_view_section_says_manifests_yes_or_no(self):
        with Mount(self.config, self.work.mountpoint()) as m:
            key = read_all(os.path.join(m.path, "encfsr.key")).decode()
        self.assertIn("\nmanifests: yes\n", key)
        with Mount(self.config_off, self.work.mountpoint()) as m:
            key = read_all(os.path.join(m.path, "encfsr.key")).decode()
        self.assertIn("\nmanifests: no\n", key)

    def test_plain_view_has_no_manifests(self):
        with Mount(self.config, self.work.mountpoint(), mode="plain") as m:
            self.expect_errno(errno.ENOENT, os.lstat, os.path.join(m.path, MANIFEST))
            self.assertNotIn(MANIFEST, os.listdir(m.path))
            for d in ("etc", "data/sub", "data/empty", "data/sub/deeper"):
                self.expect_errno(errno.ENOENT, os.lstat, os.path.join(m.path, d, MANIFEST))
                self.assertNotIn(MANIFEST, os.listdir(os.path.join(m.path, d)))
            # data/encfsr.dir is the source's own file.
            self.assertEqual(read_all(os.path.join(m.path, "data", MANIFEST)),
                             read_all(os.path.join(self.data, MANIFEST)))

    def test_manifests_false_serves_none(self):
        with Mount(self.config_off, self.work.mountpoint()) as m:
            names = [n for _, dirnames, filenames in os.walk(m.path)
                     for n in dirnames + filenames]
            self.assertNotIn(MANIFEST, names)
            self.expect_errno(errno.ENOENT, os.lstat, os.path.join(m.path, MANIFEST))
            self.expect_errno(errno.ENOENT, os.lstat, os.path.join(
                m.path, self.cipher_rel(self.config, "data/sub"), MANIFEST))
            # Everything else is served as with manifests (the same entry count less one per
            # directory).
            with Mount(self.config, self.work.mountpoint()) as m2:
                with_manifests = mountlib.view_walk(m2.path)
            without = mountlib.view_walk(m.path)
            self.assertEqual(len(with_manifests) - len(without), len(self.plain_dirs()))
            self.assertEqual(sorted(without), sorted(
                p for p in with_manifests if os.path.basename(p) != MANIFEST))

    def test_same_bytes_across_remounts(self):
        with Mount(self.config, self.work.mountpoint()) as m:
            first = self.manifests_of(m.path)
        with Mount(self.config, self.work.mountpoint()) as m:
            second = self.manifests_of(m.path)
        self.assertEqual(sorted(first), sorted(second))
        for d in first:
            self.assertTrue(first[d][0] == second[d][0], "manifest of %r differs" % d)
            self.assertEqual((first[d][1].st_size, first[d][1].st_mtime_ns, first[d][1].st_ino),
                             (second[d][1].st_size, second[d][1].st_mtime_ns,
                              second[d][1].st_ino), d)

    # --- what changes a manifest, and what does not

    def test_manifest_changes_exactly_when_a_childs_metadata_does(self):
        """Each step changes the source, then a fresh mount shows the manifests: those listed
        must change (bytes, shown mtime; shown size where the record's length changes), all
        others must stay byte for byte the same."""
        mut = self.work.path("src", "mut")
        write_file(os.path.join(mut, "f"), "content", 0o644, mtime_ns=ns(1500000000))
        write_file(os.path.join(mut, "d", "g"), "gggg", 0o644, mtime_ns=ns(1500000001))
        write_file(os.path.join(mut, "e", "h"), "h", 0o644, mtime_ns=ns(1500000002))
        os.symlink("f", os.path.join(mut, "l"))
        config = self.make_config([{"name": "mut", "path": mut}])
        dirs = ["", "mut", "mut/d", "mut/e"]
        rels = {d: self.manifest_rel(config, d) for d in dirs}

        def snapshot():
            with Mount(config, self.work.mountpoint()) as m:
                return {d: (read_all(os.path.join(m.path, rels[d])),
                            os.lstat(os.path.join(m.path, rels[d]))) for d in dirs}

        p = lambda *parts: os.path.join(mut, *parts)  # noqa: E731

        def keep_mtime(path, fn):
            before_ns = os.lstat(path).st_mtime_ns
            fn()
            set_mtime_ns(path, before_ns)

        def append_same_mtime():
            def go():
                with open(p("f"), "ab") as f:
                    f.write(b"+")
            keep_mtime(p("f"), go)

        def rewrite_g_same_size():
            with open(p("d", "g"), "r+b") as f:
                f.write(b"GGGG")

        def read_and_noop_changes():
            read_all(p("f"))
            st = os.lstat(p("f"))
            os.chmod(p("f"), stat.S_IMODE(st.st_mode))  # ctime only
            os.chown(p("f"), st.st_uid, st.st_gid)
            os.lstat(p("d"))
            os.listdir(p("d"))

        def touch(path, delta_ns):
            set_mtime_ns(path, os.lstat(path).st_mtime_ns + delta_ns)

        # (what, change, manifests that must change, manifests whose shown size must change)
        steps = [
            ("chmod f 0600", lambda: os.chmod(p("f"), 0o600), {"mut"}, set()),
            ("chmod d 0700", lambda: os.chmod(p("d"), 0o700), {"mut"}, set()),
            ("chmod f 04755", lambda: os.chmod(p("f"), 0o4755), {"mut"}, set()),
            ("f's mtime + 1 ns", lambda: touch(p("f"), 1), {"mut"}, {"mut"}),
            ("f's mtime + 1 s", lambda: touch(p("f"), 10**9), {"mut"}, set()),
            ("f one byte longer, same mtime", append_same_mtime, {"mut"}, set()),
            ("chown f 1000:1000", lambda: os.chown(p("f"), 1000, 1000), {"mut"}, {"mut"}),
            ("chown f 1000:1001 (group only)", lambda: os.chown(p("f"), 1000, 1001), {"mut"},
             set()),
            ("user xattr set on f", lambda: os.setxattr(p("f"), "user.k", b"v1"), {"mut"},
             {"mut"}),
            ("user xattr value changed, same length",
             lambda: os.setxattr(p("f"), "user.k", b"v2"), {"mut"}, set()),
            ("user xattr removed", lambda: os.removexattr(p("f"), "user.k"), {"mut"},
             {"mut"}),
            ("user xattr set on directory d (a child of mut, not of d)",
             lambda: os.setxattr(p("d"), "user.k", b"dir"), {"mut"}, {"mut"}),
            ("ACL set on f", lambda: mountlib.run(["setfacl", "-m", "u:1000:r", p("f")]),
             {"mut"}, {"mut"}),
            ("nothing but reads, chmod/chown to the same values", read_and_noop_changes,
             set(), set()),
            ("d/g rewritten, same size (d's mtime unchanged)", rewrite_g_same_size, {"mut/d"},
             set()),
            ("file added to d", lambda: write_file(p("d", "new"), "n"), {"mut", "mut/d"},
             {"mut/d"}),
            ("file added to mut", lambda: write_file(p("added"), "a"), {"", "mut"}, {"mut"}),
            ("file removed from mut", lambda: os.unlink(p("added")), {"", "mut"}, {"mut"}),
            ("symlink added to e", lambda: os.symlink("h", p("e", "hl")), {"mut", "mut/e"},
             {"mut/e"}),
            ("f renamed", lambda: os.rename(p("f"), p("f0")), {"", "mut"}, set()),
            ("mtime of the source root", lambda: touch(mut, 10**9), {""}, set()),
        ]
        before = snapshot()
        for what, change, changed, resized in steps:
            change()
            after = snapshot()
            for d in dirs:
                b_data, b_st = before[d]
                a_data, a_st = after[d]
                self.assertEqual(a_st.st_size, len(a_data), "%s: %r" % (what, d))
                self.assertEqual(a_st.st_mtime_ns, manifest_mtime(a_data) * 10**9,
                                 "%s: %r" % (what, d))
                if d in changed:
                    self.assertNotEqual(a_data, b_data, "%s: manifest of %r unchanged" % (
                        what, d))
                    self.assertNotEqual(a_st.st_mtime_ns, b_st.st_mtime_ns,
                                        "%s: shown mtime of %r's manifest unchanged" % (what, d))
                else:
                    self.assertTrue(a_data == b_data, "%s: manifest of %r changed" % (what, d))
                    self.assertEqual((a_st.st_size, a_st.st_mtime_ns),
                                     (b_st.st_size, b_st.st_mtime_ns), "%s: %r" % (what, d))
                if d in resized:
                    self.assertNotEqual(a_st.st_size, b_st.st_size,
                                        "%s: shown size of %r's manifest unchanged" % (what, d))
            before = after

    def test_live_mount_serves_a_changed_manifest_consistently(self):
        """Without a remount: once a listing of the directory (as every backup tool makes it)
        shows a new entry, the manifest served lists it too, with a chmod made at the same time;
        what an open reads is the version whose size and mtime stat reports."""
        live = self.work.path("src", "live")
        write_file(os.path.join(live, "x"), "x", 0o644)
        config = self.make_config([{"name": "live", "path": live}],
                                  mount={"entry_timeout": 0.2, "attr_timeout": 0.2})
        cx = os.path.basename(self.cipher_rel(config, "live/x"))
        cy = os.path.basename(self.cipher_rel(config, "live/y"))
        with Mount(config, self.work.mountpoint()) as m:
            vdir = os.path.join(m.path, self.cipher_rel(config, "live"))
            p = os.path.join(vdir, MANIFEST)
            self.assertEqual(sorted(os.listdir(vdir)), sorted([cx, MANIFEST]))
            old = read_all(p)
            old_st = os.lstat(p)
            os.chmod(os.path.join(live, "x"), 0o600)
            write_file(os.path.join(live, "y"), "y", 0o640)
            self.assertTrue(mountlib.wait_until(
                lambda: cy in os.listdir(vdir) and
                os.lstat(p).st_mtime_ns != old_st.st_mtime_ns, timeout=10),
                "10 s after a chmod and a new file, the listing or the manifest's mtime has not "
                "changed")
            time.sleep(0.5)
            self.assertEqual(sorted(os.listdir(vdir)), sorted([cx, cy, MANIFEST]))
            for _ in range(3):
                st = os.lstat(p)
                data = read_all(p)
                self.assertEqual(len(data), st.st_size)
                self.assertEqual(manifest_mtime(data) * 10**9, st.st_mtime_ns)
            self.assertNotEqual(data, old)
            records = open_manifest(self.mkeys, self.keys.id_of("live"), data)
            self.assertEqual([(r["name"], r["mode"]) for r in records],
                             [(b"x", 0o600), (b"y", 0o640)])

    def test_one_change_in_a_30000_entry_directory_changes_one_chunk(self):
        big = self.work.path("src", "big")
        d = os.path.join(big, "d")
        os.makedirs(d)
        for i in range(30000):
            with open(os.path.join(d, "entry-%05d" % i), "wb"):
                pass
        config = self.make_config([{"name": "big", "path": big}])
        rel = self.manifest_rel(config, "big/d")
        with Mount(config, self.work.mountpoint(), timeout=60) as m:
            before = read_all(os.path.join(m.path, rel))
        os.chmod(os.path.join(d, "entry-12345"), 0o600)
        with Mount(config, self.work.mountpoint(), timeout=60) as m:
            after = read_all(os.path.join(m.path, rel))
        old_chunks, old_trailer = split_chunks(before)
        new_chunks, new_trailer = split_chunks(after)
        self.assertGreater(len(old_chunks), 300)
        self.assertEqual(len(new_chunks), len(old_chunks))
        changed = [i for i, (a, b) in enumerate(zip(old_chunks, new_chunks)) if a != b]
        self.assertEqual(len(changed), 1, changed)
        self.assertNotEqual(old_trailer, new_trailer)
        records = open_manifest(self.mkeys, self.keys.id_of("big/d"), after)
        self.assertEqual(len(records), 30000)
        # Extra bytes: a few dozen per entry of this directory, not more.
        self.assertLess(len(after), 30000 * 40)

    # --- copies

    def test_rsync_copy_verifies_clean_and_restores_identically(self):
        copy = self.rsync_view(self.config, self.new_path("copy"))
        self.assertTrue(os.path.isfile(os.path.join(copy, MANIFEST)))
        self.assert_verify(copy)
        dest = self.new_path("dest")
        proc = self.restore(copy, dest)
        self.assertEqual(proc.returncode, 0, text(proc.stderr))
        self.assertNotRegex(text(proc.stderr), SPECIAL_BITS_NOTE)
        for src, root in (("data", self.data), ("etc", self.etc)):
            self.assert_same_tree(describe(root), describe(os.path.join(dest, src)),
                                  "restore of " + src)
        # The plaintext file named encfsr.dir came back as a file, manifests did not.
        self.assertEqual(read_all(os.path.join(dest, "data", MANIFEST)),
                         read_all(os.path.join(self.data, MANIFEST)))
        self.assertFalse(os.path.lexists(os.path.join(dest, "data", "sub", MANIFEST)))
        self.assertFalse(os.path.lexists(os.path.join(dest, MANIFEST)))
        with self.decrypt_mount(copy) as dm:
            self.assertEqual(sorted(os.listdir(dm.path)), ["data", "etc"])
            self.assertNotIn(MANIFEST, os.listdir(os.path.join(dm.path, "data", "sub")))
            for src, root in (("data", self.data), ("etc", self.etc)):
                self.assert_same_tree(describe(root), describe(os.path.join(dm.path, src)),
                                      "decrypt mount of " + src)

    def test_incremental_rsync_picks_up_metadata_only_changes(self):
        """rsync's quick check (size + mtime) must see a changed manifest: a chmod, a new
        xattr and an owner change in the source, nothing else, reach the copy's restore."""
        src = self.work.path("src", "incr")
        write_file(os.path.join(src, "a"), "a" * 100, 0o644, mtime_ns=ns(1500000000))
        write_file(os.path.join(src, "sub", "b"), "b" * 100, 0o644, mtime_ns=ns(1500000001))
        set_mtime_ns(os.path.join(src, "sub"), ns(1500000002))
        config = self.make_config([{"name": "incr", "path": src}])
        copy = self.rsync_view(config, self.new_path("copy"))
        self.assert_verify(copy)
        os.chmod(os.path.join(src, "a"), 0o4750)
        os.setxattr(os.path.join(src, "sub", "b"), "user.added", b"later")
        os.chown(os.path.join(src, "sub"), 1000, 1000)
        self.rsync_view(config, copy)
        self.assert_verify(copy)
        dest = self.new_path("dest")
        proc = self.restore(copy, dest)
        self.assertEqual(proc.returncode, 0, text(proc.stderr))
        self.assert_same_tree(describe(src), describe(os.path.join(dest, "incr")),
                              "restore after the incremental rsync")

    def test_copy_without_manifests_drops_special_bits_and_says_so(self):
        copy = self.rsync_view(self.config_off, self.new_path("copy"))
        names = [n for _, dirnames, filenames in os.walk(copy) for n in dirnames + filenames]
        self.assertNotIn(MANIFEST, names)
        self.assert_verify(copy, completeness=False)
        dest = self.new_path("dest")
        proc = self.restore(copy, dest)
        err = text(proc.stderr)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(len(SPECIAL_BITS_NOTE.findall(err)), 1, err)
        want = describe(self.data, xattrs=False)
        for rel, row in want.items():
            if "mode" in row:
                row["mode"] = "%04o" % (int(row["mode"], 8) & ~SPECIAL_BITS)
        self.assert_same_tree(want, describe(os.path.join(dest, "data"), xattrs=False),
                              "restore of a copy without manifests",
                              fields={"mode", "uid", "gid", "mtime_ns", "size", "sha256",
                                      "target"})


# ===================================================================== tampered copies

DOCS_CHILDREN = ["a.txt", "b.txt", "c.txt", "sgid.bin", "sub2", "spliced.txt", "touched.txt",
                 "link"]


class TamperedCopy(ManifestCase):
    """setUpClass: the source, an `older` copy, then changes (a file and a directory deleted, a
    file rewritten, a file touched), then the `pristine` copy and a `stale` one (the older copy
    updated by rsync without --delete). Every test tampers with its own copy of a copy."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.src = cls.work.path("src", "data")
        os.makedirs(s)
        write_file(os.path.join(s, "docs", "a.txt"), "alpha\n", 0o644, (1000, 1000))
        write_file(os.path.join(s, "docs", "b.txt"), "bravo\n" * 50, 0o640, (1000, 1000))
        write_file(os.path.join(s, "docs", "c.txt"), "charlie\n", 0o644, (1000, 1000))
        write_file(os.path.join(s, "docs", "sgid.bin"), "#!/bin/sh\n", 0o2755, (0, 1234))
        write_file(os.path.join(s, "docs", "sub2", "d.txt"), "delta\n", 0o600, (1234, 5678))
        write_file(os.path.join(s, "docs", "spliced.txt"), "version one\n", 0o644,
                   mtime_ns=ns(1600000000))
        write_file(os.path.join(s, "docs", "touched.txt"), "same content\n", 0o644,
                   mtime_ns=ns(1600000000))
        os.symlink("a.txt", os.path.join(s, "docs", "link"))
        os.chown(os.path.join(s, "docs"), 1000, 1000)
        write_file(os.path.join(s, "sub", "inner", "x.txt"), "x\n")
        write_file(os.path.join(s, "sub", "y.txt"), "y\n")
        os.chown(os.path.join(s, "sub"), 1234, 5678)
        os.chmod(os.path.join(s, "sub"), 0o750)
        write_file(os.path.join(s, "sticky", "z.txt"), "z\n")
        os.chmod(os.path.join(s, "sticky"), 0o1777)
        write_file(os.path.join(s, "gone.txt"), "deleted from the source later\n")
        write_file(os.path.join(s, "olddir", "f"), "in a directory deleted later\n")
        write_file(os.path.join(s, "nsfile"), "mtime with nanoseconds\n",
                   mtime_ns=1600000000_500000000)
        write_file(os.path.join(s, "xattr.txt"), "with an xattr\n")
        os.setxattr(os.path.join(s, "xattr.txt"), "user.tag", b"kept")
        for i in range(400):
            write_file(os.path.join(s, "big", "file-%03d-%s" % (i, "n" * 40)), b"%d\n" % i)
        cls.config = cls.make_config([{"name": "data", "path": s}])
        cls.older = cls.rsync_view(cls.config, cls.work.path("older"))
        # The source changes after the older copy.
        os.unlink(os.path.join(s, "gone.txt"))
        shutil.rmtree(os.path.join(s, "olddir"))
        write_file(os.path.join(s, "docs", "spliced.txt"), "version two, longer\n",
                   mtime_ns=ns(1700000000))
        set_mtime_ns(os.path.join(s, "docs", "touched.txt"), ns(1700000000))
        cls.pristine = cls.rsync_view(cls.config, cls.work.path("pristine"))
        cls.stale = cls.work.path("stale")
        mountlib.run(["cp", "-a", cls.older, cls.stale])
        cls.rsync_view(cls.config, cls.stale)  # no --delete
        cls.expected = describe(s)
        cls.cipher = {}
        for rel in ["docs", "sub", "sub/inner", "sticky", "big"] + [
                "docs/" + n for n in DOCS_CHILDREN] + ["gone.txt", "olddir", "nsfile"]:
            cls.cipher[rel] = cls.cipher_rel(cls.config, "data/" + rel)
        cls.cipher[""] = cls.cipher_rel(cls.config, "data")

    # -- helpers

    def fresh_copy(self, of=None):
        copy = self.new_path("copy")
        mountlib.run(["cp", "-a", of or self.pristine, copy])
        return copy

    def c(self, copy, rel):
        """Path in a copy of the ciphertext of data/rel."""
        return os.path.join(copy, self.cipher[rel])

    def m(self, copy, rel):
        """Path in a copy of the manifest of directory data/rel."""
        return os.path.join(copy, self.cipher[rel], MANIFEST)

    def expected_without(self, *rels):
        """The source's description without rels and everything below them."""
        return {k: v for k, v in self.expected.items()
                if not any(k == r or k.startswith(r + "/") for r in rels)}

    def check_restore(self, copy, damaged, want, rc=8):
        """restore exits rc, names each damage, and restores exactly `want`."""
        dest = self.new_path("dest")
        proc = self.restore(copy, dest)
        err = text(proc.stderr)
        self.assertEqual(proc.returncode, rc, err)
        for p, k in damaged:
            self.assertIn("damaged: %s: %s" % (p, k), err)
        if damaged:
            self.assertRegex(err, r"; %d damaged, " % len(damaged))
        self.assert_same_tree(want, describe(os.path.join(dest, "data")), "restore")
        for dirpath, dirnames, filenames in os.walk(dest):
            self.assertNotIn(MANIFEST, filenames, dirpath)
            for n in filenames:  # the source has no setuid file at all
                st = os.lstat(os.path.join(dirpath, n))
                self.assertFalse(st.st_mode & stat.S_ISUID,
                                 "setuid file restored: %s" % os.path.join(dirpath, n))
        return dest, err

    def assert_hidden(self, dm, rel, code):
        """data/rel is not listed by the decrypt mount and its lookup fails with `code`."""
        parent, name = os.path.split(os.path.join(dm.path, "data", rel))
        self.assertNotIn(name, os.listdir(parent))
        self.expect_errno(code, os.lstat, os.path.join(parent, name))

    def assert_mount_shows(self, dm, want, what):
        self.assert_same_tree(want, describe(os.path.join(dm.path, "data")), what)

    # -- the copy as made

    def test_pristine_copy_verifies_clean_and_restores_exactly(self):
        self.assert_verify(self.pristine)
        self.check_restore(self.pristine, [], self.expected, rc=0)
        with self.decrypt_mount(self.pristine) as dm:
            self.assert_mount_shows(dm, self.expected, "decrypt mount of the pristine copy")

    # -- entries

    def test_deleted_file_is_missing(self):
        copy = self.fresh_copy()
        os.unlink(self.c(copy, "docs/a.txt"))
        damaged = [("data/docs/a.txt", "missing")]
        self.assert_verify(copy, damaged)
        want = self.expected_without("docs/a.txt")
        self.check_restore(copy, damaged, want)
        with self.decrypt_mount(copy) as dm:
            self.assert_hidden(dm, "docs/a.txt", errno.ENOENT)
            self.assert_mount_shows(dm, want, "decrypt mount")

    def test_deleted_source_directory_is_missing(self):
        copy = self.fresh_copy()
        shutil.rmtree(self.c(copy, ""))
        damaged = [("data", "missing")]
        self.assert_verify(copy, damaged)
        dest = self.new_path("dest")
        proc = self.restore(copy, dest)
        self.assertEqual(proc.returncode, 8, text(proc.stderr))
        self.assertIn("damaged: data: missing", text(proc.stderr))
        self.assertFalse(os.path.lexists(os.path.join(dest, "data")))
        with self.decrypt_mount(copy) as dm:
            self.assertEqual(os.listdir(dm.path), [])
            self.expect_errno(errno.ENOENT, os.lstat, os.path.join(dm.path, "data"))

    def test_file_replaced_by_an_empty_directory_is_a_type_change(self):
        copy = self.fresh_copy()
        os.unlink(self.c(copy, "docs/b.txt"))
        os.mkdir(self.c(copy, "docs/b.txt"))
        damaged = [("data/docs/b.txt", "type")]
        self.assert_verify(copy, damaged)
        want = self.expected_without("docs/b.txt")
        self.check_restore(copy, damaged, want)
        with self.decrypt_mount(copy) as dm:
            self.assert_hidden(dm, "docs/b.txt", errno.EIO)
            self.assert_mount_shows(dm, want, "decrypt mount")

    def test_directory_replaced_by_an_empty_file_is_a_type_change(self):
        copy = self.fresh_copy()
        shutil.rmtree(self.c(copy, "sub/inner"))
        write_file(self.c(copy, "sub/inner"), b"")
        damaged = [("data/sub/inner", "type")]
        self.assert_verify(copy, damaged)
        want = self.expected_without("sub/inner")
        self.check_restore(copy, damaged, want)
        with self.decrypt_mount(copy) as dm:
            self.assert_hidden(dm, "sub/inner", errno.EIO)

    def test_emptied_directory_every_child_missing(self):
        copy = self.fresh_copy()
        docs = self.c(copy, "docs")
        for n in os.listdir(docs):
            if n == MANIFEST:
                continue
            p = os.path.join(docs, n)
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            else:
                os.unlink(p)
        self.assertEqual(os.listdir(docs), [MANIFEST])
        damaged = [("data/docs/" + n, "missing") for n in DOCS_CHILDREN]
        self.assert_verify(copy, damaged)
        want = self.expected_without(*["docs/" + n for n in DOCS_CHILDREN])
        self.check_restore(copy, damaged, want)
        with self.decrypt_mount(copy) as dm:
            self.assertEqual(os.listdir(os.path.join(dm.path, "data", "docs")), [])
            for n in DOCS_CHILDREN:
                self.expect_errno(errno.ENOENT, os.lstat,
                                  os.path.join(dm.path, "data", "docs", n))

    def test_emptied_directory_with_its_manifest_is_manifest_damage(self):
        copy = self.fresh_copy()
        docs = self.c(copy, "docs")
        mountlib.run(["sh", "-c", 'rm -rf -- "$0"/*', docs])
        self.assertEqual(os.listdir(docs), [])
        damaged = [("data/docs", "manifest")]
        self.assert_verify(copy, damaged)
        want = self.expected_without(*["docs/" + n for n in DOCS_CHILDREN])
        self.check_restore(copy, damaged, want)

    def test_entry_from_an_older_copy_is_unexpected_and_hidden(self):
        copy = self.fresh_copy()
        mountlib.run(["cp", "-a", self.c(self.older, "gone.txt"), self.c(copy, "gone.txt")])
        damaged = [("data/gone.txt", "unexpected")]
        self.assert_verify(copy, damaged)
        self.check_restore(copy, damaged, self.expected)
        with self.decrypt_mount(copy) as dm:
            self.assert_hidden(dm, "gone.txt", errno.ENOENT)
            self.assert_mount_shows(dm, self.expected, "decrypt mount")

    def test_rsync_without_delete_keeps_deleted_entries_unexpected(self):
        copy = self.fresh_copy(of=self.stale)
        self.assertTrue(os.path.exists(self.c(copy, "gone.txt")))
        self.assertTrue(os.path.isdir(self.c(copy, "olddir")))
        damaged = [("data/gone.txt", "unexpected"), ("data/olddir", "unexpected")]
        self.assert_verify(copy, damaged)
        self.check_restore(copy, damaged, self.expected)
        with self.decrypt_mount(copy) as dm:
            self.assert_hidden(dm, "gone.txt", errno.ENOENT)
            self.assert_hidden(dm, "olddir", errno.ENOENT)
            self.assert_mount_shows(dm, self.expected, "decrypt mount")

    # -- metadata of the copy's inodes

    def test_setuid_root_planted_in_the_copy_is_metadata_damage_never_restored(self):
        copy = self.fresh_copy()
        victim = self.c(copy, "docs/c.txt")
        os.chown(victim, 0, 0)
        os.chmod(victim, 0o6777)
        damaged = [("data/docs/c.txt", "metadata")]
        self.assert_verify(copy, damaged)
        dest, _ = self.check_restore(copy, damaged, self.expected)
        st = os.lstat(os.path.join(dest, "data", "docs", "c.txt"))
        self.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid), (0o644, 1000, 1000))
        with self.decrypt_mount(copy) as dm:
            st = os.lstat(os.path.join(dm.path, "data", "docs", "c.txt"))
            self.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid),
                             (0o644, 1000, 1000))
            self.assert_mount_shows(dm, self.expected, "decrypt mount")

    def test_sticky_bit_and_owner_planted_on_a_directory_is_metadata_damage(self):
        copy = self.fresh_copy()
        sub = self.c(copy, "sub")
        os.chown(sub, 0, 0)
        os.chmod(sub, 0o1777)
        damaged = [("data/sub", "metadata")]
        self.assert_verify(copy, damaged)
        self.check_restore(copy, damaged, self.expected)

    def test_metadata_damage_is_reported_when_the_source_root_is_changed_too(self):
        """Changing the mode and owner of the copy's source directory as well must not make
        verify stop comparing modes and owners: every difference is reported."""
        copy = self.fresh_copy()
        root = self.c(copy, "")
        os.chown(root, 4321, 4321)
        os.chmod(root, 0o777)
        victim = self.c(copy, "docs/c.txt")
        os.chown(victim, 0, 0)
        os.chmod(victim, 0o6777)
        damaged = [("data", "metadata"), ("data/docs/c.txt", "metadata")]
        self.assert_verify(copy, damaged)
        self.check_restore(copy, damaged, self.expected)

    def test_a_copy_that_keeps_no_modes_gives_one_line_not_damage_per_entry(self):
        """As a copy on FAT or SMB: every mode differs. verify and restore say so in one line,
        exit 0, and restore still gives every entry its mode from the manifests."""
        copy = self.fresh_copy()
        for dirpath, dirnames, filenames in os.walk(copy):
            for n in dirnames:
                os.chmod(os.path.join(dirpath, n), 0o707)
            for n in filenames:
                if not os.path.islink(os.path.join(dirpath, n)):
                    os.chmod(os.path.join(dirpath, n), 0o606)
        rc, out, _ = self.verify_text(copy)
        self.assertEqual(rc, 0, out)
        self.assertIn("metadata not compared:", out)
        self.assertNotIn(": metadata", out)
        rc, report = self.verify_json(copy)
        self.assertEqual(rc, 0)
        self.assertGreater(report["metadata_not_compared"], 0)
        _, err = self.check_restore(copy, [], self.expected, rc=0)
        self.assertIn("metadata not compared:", err)

    def test_setgid_removed_in_the_copy_is_metadata_damage_restored_from_the_manifest(self):
        copy = self.fresh_copy()
        os.chmod(self.c(copy, "docs/sgid.bin"), 0o755)
        damaged = [("data/docs/sgid.bin", "metadata")]
        self.assert_verify(copy, damaged)
        self.check_restore(copy, damaged, self.expected)

    # -- manifests

    def check_manifest_damage(self, copy, rel, mount=True):
        """data/rel's manifest is damaged: verify says so (only that); restore exits 8 with
        every entry of the directory restored with the copy's metadata minus special bits and
        without xattrs, and says so once; the decrypt mount shows the same."""
        path = "data/" + rel if rel else "data"
        damaged = [(path, "manifest")]
        self.assert_verify(copy, damaged)
        want = {k: dict(v) for k, v in self.expected.items()}
        prefix = rel + "/" if rel else ""
        dropped = 0
        for k, row in want.items():
            if k.startswith(prefix) and "/" not in k[len(prefix):] and k != ".":
                if "mode" in row and int(row["mode"], 8) & SPECIAL_BITS:
                    row["mode"] = "%04o" % (int(row["mode"], 8) & ~SPECIAL_BITS)
                    dropped += 1
                row["xattrs"] = {}
                if row["type"] in ("symlink", "dir"):
                    # rsync keeps a symlink's mtime only to the second when it made the link in
                    # the same second, and a directory it updated in the same second as the
                    # source changed may keep the older copy's: without a manifest, the copy's
                    # own mtime is what can be restored.
                    row["mtime_ns"] = os.lstat(os.path.join(
                        copy, self.cipher_rel(self.config, "data/" + k))).st_mtime_ns
        if rel == "docs":
            self.assertEqual(dropped, 1, "docs/sgid.bin is the special-bit entry")
        _, err = self.check_restore(copy, damaged, want)
        self.assertEqual(len(SPECIAL_BITS_NOTE.findall(err)), 1, err)
        if mount:
            with self.decrypt_mount(copy) as dm:
                self.assert_mount_shows(dm, want, "decrypt mount")

    def test_deleted_manifest(self):
        copy = self.fresh_copy()
        os.unlink(self.m(copy, "docs"))
        self.check_manifest_damage(copy, "docs")

    def test_every_manifest_deleted(self):
        """A copy made to look like one without manifests: its key file says there are."""
        copy = self.fresh_copy()
        n = 0
        for dirpath, dirnames, filenames in os.walk(copy):
            if MANIFEST in filenames:
                os.unlink(os.path.join(dirpath, MANIFEST))
                n += 1
        self.assertGreaterEqual(n, 8)
        rc, out, _ = self.verify_text(copy)
        self.assertEqual(rc, 8, out)
        self.assertNotIn(COMPLETENESS_NOT_CHECKED, out)
        for d in ["data", "data/docs", "data/sub", "data/sub/inner", "data/big"]:
            self.assertIn("damaged: %s: manifest" % d, out.splitlines())
        rc, report = self.verify_json(copy)
        self.assertEqual(rc, 8)
        self.assertEqual(len(report["damaged"]), n, report["damaged"])
        self.assertTrue(all(d["kind"] == "manifest" for d in report["damaged"]), report)
        self.assertIs(report["completeness_checked"], True)

    def test_manifest_swapped_in_from_another_directory(self):
        copy = self.fresh_copy()
        shutil.copyfile(self.m(copy, "sub"), self.m(copy, "docs"))
        self.check_manifest_damage(copy, "docs")

    def test_manifest_with_a_flipped_byte(self):
        for where in ("middle", "first length byte", "trailer"):
            with self.subTest(where=where):
                copy = self.fresh_copy()
                path = self.m(copy, "docs")
                data = bytearray(read_all(path))
                i = {"middle": len(data) // 2, "first length byte": 0,
                     "trailer": len(data) - 3}[where]
                data[i] ^= 0x20
                write_file(path, bytes(data))
                self.check_manifest_damage(copy, "docs", mount=(where == "middle"))

    def test_manifest_cut_or_extended(self):
        cases = {"one byte short": lambda d: d[:-1], "trailer alone": lambda d: d[-16:],
                 "first 16 bytes": lambda d: d[:16], "empty": lambda d: b"",
                 "one byte appended": lambda d: d + b"\0"}
        for what, fn in cases.items():
            with self.subTest(what=what):
                copy = self.fresh_copy()
                path = self.m(copy, "docs")
                write_file(path, fn(read_all(path)))
                self.check_manifest_damage(copy, "docs", mount=(what == "trailer alone"))

    def test_manifest_chunks_dropped_reordered_or_duplicated(self):
        rel = "big"
        data = read_all(self.m(self.pristine, rel))
        chunks, trailer = split_chunks(data)
        self.assertGreaterEqual(len(chunks), 4, "the 400-entry directory has several chunks")
        cases = {
            "middle chunk dropped": chunks[:1] + chunks[2:],
            "last chunk dropped": chunks[:-1],
            "chunks 0 and 1 swapped": [chunks[1], chunks[0]] + chunks[2:],
            "chunk 1 duplicated": chunks[:2] + chunks[1:],
        }
        for what, new in cases.items():
            with self.subTest(what=what):
                copy = self.fresh_copy()
                write_file(self.m(copy, rel), b"".join(new) + trailer)
                self.check_manifest_damage(copy, rel, mount=(what == "middle chunk dropped"))

    def test_root_manifest_flipped(self):
        copy = self.fresh_copy()
        path = os.path.join(copy, MANIFEST)
        data = bytearray(read_all(path))
        data[len(data) // 2] ^= 1
        write_file(path, bytes(data))
        rc, report = self.verify_json(copy)
        self.assertEqual(rc, 8, report)
        self.assertEqual(len(report["damaged"]), 1, report)
        self.assertEqual(report["damaged"][0]["kind"], "manifest", report)
        self.assertIn(report["damaged"][0]["path"], (None, "", "/", "."), report)
        self.assertEqual(report["damaged"][0]["cipher_path"].strip("/"), MANIFEST, report)
        rc, out, _ = self.verify_text(copy)
        self.assertEqual(rc, 8, out)
        self.assertEqual([l for l in out.splitlines() if l.startswith("damaged: ")],
                         ["damaged: %s: manifest" % MANIFEST], out)
        # Without authenticated records of the sources, their own special bits are dropped.
        dest = self.new_path("dest")
        proc = self.restore(copy, dest)
        self.assertEqual(proc.returncode, 8, text(proc.stderr))
        want = {k: v for k, v in self.expected.items() if k != "."}
        self.assert_same_tree(want, {k: v for k, v in describe(os.path.join(dest, "data")).items()
                                     if k != "."}, "restore below the source root")

    # -- changed during backup (warnings, not damage)

    def test_file_spliced_from_an_older_copy_changed_during_backup(self):
        copy = self.fresh_copy()
        for rel in ("docs/spliced.txt", "docs/touched.txt"):
            os.unlink(self.c(copy, rel))
            mountlib.run(["cp", "-a", self.c(self.older, rel), self.c(copy, rel)])
        out = self.assert_verify(copy, changed=["data/docs/spliced.txt", "data/docs/touched.txt"])
        self.assertIn("changed during backup: data/docs/spliced.txt", out.splitlines())

    def test_whole_second_mtime_in_the_copy_is_not_a_change(self):
        copy = self.fresh_copy()
        p = self.c(copy, "nsfile")
        self.assertEqual(os.lstat(p).st_mtime_ns, 1600000000_500000000)
        set_mtime_ns(p, 1600000000_000000000)
        self.assert_verify(copy)
        set_mtime_ns(p, 1600000010_000000000)
        self.assert_verify(copy, changed=["data/nsfile"])
        set_mtime_ns(p, 1600000000_400000000)  # nanoseconds kept, but other ones
        self.assert_verify(copy, changed=["data/nsfile"])

    def test_damage_and_warning_together(self):
        copy = self.fresh_copy()
        os.unlink(self.c(copy, "docs/a.txt"))
        set_mtime_ns(self.c(copy, "nsfile"), ns(1600000005))
        self.assert_verify(copy, [("data/docs/a.txt", "missing")], changed=["data/nsfile"])


# ===================================================================== restored metadata

HARD_LINKS = [["hl/a", "hl/b", "hl2/c"], ["hl/x", "hl2/y"]]


def make_metadata_tree(root):
    """Owners, all mode bits, ns mtimes, xattrs, ACLs, a capability, hard links, symlinks."""
    def mk(rel, data="", mode=0o644, owner=(0, 0), mtime_ns=None):
        return write_file(os.path.join(root, rel), data, mode, owner, mtime_ns)

    def p(rel):
        return os.path.join(root, rel)

    os.makedirs(root)
    mk("owners/u1000", "owned by 1000\n", 0o644, (1000, 1000))
    mk("owners/u0", "owned by root\n", 0o600, (0, 0))
    mk("owners/u1234", "owned by 1234:5678\n", 0o640, (1234, 5678))
    os.makedirs(p("owners/dir1000"))
    os.chown(p("owners/dir1000"), 1000, 1000)
    mk("modes/suid_root", "#!/bin/sh\n", 0o4755, (0, 0))
    mk("modes/suid_user", "#!/bin/sh\n", 0o4750, (1000, 1000))
    mk("modes/sgid", "#!/bin/sh\n", 0o2755, (0, 1234))
    mk("modes/both", "#!/bin/sh\n", 0o6711, (1234, 5678))
    mk("modes/zero", "no permissions\n", 0o000)
    mk("modes/sticky_dir/in", "in a sticky dir\n")
    os.chmod(p("modes/sticky_dir"), 0o1777)
    mk("modes/sgid_dir/in", "in a setgid dir\n", 0o664, (0, 1234))
    os.chown(p("modes/sgid_dir"), 0, 1234)
    os.chmod(p("modes/sgid_dir"), 0o2770)
    os.makedirs(p("modes/all_bits_dir"))
    os.chmod(p("modes/all_bits_dir"), 0o7777)
    mk("times/ns", "nanoseconds\n", mtime_ns=1600000000_123456789)
    mk("times/ns_max", "999999999 ns\n", mtime_ns=1600000000_999999999)
    mk("times/pre1970", "before the epoch\n", mtime_ns=-86400 * 365 * 10**9 + 250000000)
    mk("times/future", "2100\n", mtime_ns=4102444800_000000001)
    os.makedirs(p("times/ns_dir"))
    os.symlink("ns", p("times/ns_link"))
    set_mtime_ns(p("times/ns_link"), 1500000000_000000007)
    mk("xattr/file", "xattrs\n")
    os.setxattr(p("xattr/file"), "user.a", b"1")
    os.setxattr(p("xattr/file"), "user.binary", b"\x00\xff\x00\x01")
    os.setxattr(p("xattr/file"), "user.empty", b"")
    os.setxattr(p("xattr/file"), "user.big", bytes(range(256)) * 12)
    os.setxattr(p("xattr/file"), "trusted.t", b"trusted value")
    os.makedirs(p("xattr/dir"))
    os.setxattr(p("xattr/dir"), "user.d", b"on a directory")
    os.symlink("file", p("xattr/link"))
    os.setxattr(p("xattr/link"), "trusted.l", b"on a symlink", follow_symlinks=False)
    mk("acl/file", "with an ACL\n", 0o640)
    mountlib.run(["setfacl", "-m", "u:1000:rw", p("acl/file")])
    os.makedirs(p("acl/dir"))
    mountlib.run(["setfacl", "-m", "u:1234:rx,g:5678:rwx", p("acl/dir")])
    mountlib.run(["setfacl", "-d", "-m", "u:1000:rwx", p("acl/dir")])
    mk("cap/ping", "#!/bin/sh\necho ping\n", 0o755, (0, 0))
    mountlib.run(["setcap", "cap_net_raw+ep", p("cap/ping")])
    mk("hl/a", "three names, one inode\n" * 100, 0o640, (1000, 1000))
    os.link(p("hl/a"), p("hl/b"))
    os.makedirs(p("hl2"))
    os.link(p("hl/a"), p("hl2/c"))
    mk("hl/x", "two names\n", 0o4755, (0, 0))  # a hard-linked setuid file
    os.link(p("hl/x"), p("hl2/y"))
    mk("hl/single", "one name\n")
    os.makedirs(p("links"))
    os.symlink("../owners/u0", p("links/rel"))
    os.symlink("/etc/hostname", p("links/abs"))
    os.symlink("does/not/exist", p("links/dangling"))
    os.symlink("rel", p("links/owned"))
    os.lchown(p("links/owned"), 1000, 1000)
    # Directory mtimes last, bottom-up; the source root with ns, setgid, an owner, an xattr.
    dirs = sorted((d for d, _, _ in os.walk(root)), key=lambda d: -d.count("/"))
    for i, d in enumerate(dirs):
        if d != root:
            set_mtime_ns(d, 1400000000_000000000 + i * 1000003 + 17)
    set_mtime_ns(p("times/ns_dir"), 1400000000_987654321)
    os.chown(root, 1000, 1234)
    os.chmod(root, 0o2750)
    os.setxattr(root, "user.root", b"source root")
    set_mtime_ns(root, 1300000000_000000001)


class RestoreMetadata(ManifestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.src = cls.work.path("src", "meta")
        make_metadata_tree(cls.src)
        cls.config = cls.make_config([{"name": "meta", "path": cls.src}])
        cls.copy = cls.rsync_view(cls.config, cls.work.path("copy"))
        cls.expected = describe(cls.src)
        cls.rels = sorted(cls.expected)
        cls.dest = cls.work.path("dest")
        cls.restore_proc = cls.encfsr("restore", "--password-file", cls.work.password_file,
                                      cls.copy, cls.dest)
        cls.restored = os.path.join(cls.dest, "meta")

    def setUp(self):
        self.assertEqual(self.restore_proc.returncode, 0, text(self.restore_proc.stderr))

    def test_source_tree_is_what_the_test_means(self):
        e = self.expected
        self.assertEqual(e["modes/suid_root"]["mode"], "4755")
        self.assertEqual(e["modes/both"]["mode"], "6711")
        self.assertEqual(e["modes/all_bits_dir"]["mode"], "7777")
        self.assertIn("system.posix_acl_access", e["acl/file"]["xattrs"])
        self.assertIn("system.posix_acl_default", e["acl/dir"]["xattrs"])
        self.assertIn("security.capability", e["cap/ping"]["xattrs"])
        self.assertIn("trusted.l", e["xattr/link"]["xattrs"])
        self.assertEqual(e["times/pre1970"]["mtime_ns"], -86400 * 365 * 10**9 + 250000000)
        self.assertEqual(os.lstat(os.path.join(self.src, "hl/a")).st_nlink, 3)
        # rsync without -X/-A/-H: the copy holds no xattrs and no hard links.
        for dirpath, dirnames, filenames in os.walk(self.copy):
            for n in dirnames + filenames:
                p = os.path.join(dirpath, n)
                self.assertEqual(xattrs_of(p), {}, p)
                if not os.path.isdir(p):
                    self.assertEqual(os.lstat(p).st_nlink, 1, p)

    def test_verify_is_clean(self):
        self.assert_verify(self.copy)

    def test_restore_stat_fields(self):
        self.assert_same_tree(self.expected, describe(self.restored),
                              "restore: type, mode, uid, gid, mtime_ns, content",
                              fields={"mode", "uid", "gid", "mtime_ns", "size", "sha256",
                                      "target"})
        self.assertNotRegex(text(self.restore_proc.stderr), SPECIAL_BITS_NOTE)

    def test_restore_xattrs(self):
        self.assert_same_tree(self.expected, describe(self.restored), "restore: xattrs",
                              fields={"xattrs"})
        args = ["getfattr", "-h", "-d", "-m", "-", "-e", "hex", "--absolute-names"]
        self.assertEqual(tool_lines(args, self.restored, self.rels),
                         tool_lines(args, self.src, self.rels))

    def test_restore_acls(self):
        rels = [r for r in self.rels if self.expected[r]["type"] != "symlink"]
        args = ["getfacl", "-n", "--absolute-names"]
        got = tool_lines(args, self.restored, rels)
        self.assertEqual(got, tool_lines(args, self.src, rels))
        self.assertIn("user:1000:rw-", got["acl/file"][1])
        self.assertIn("default:user:1000:rwx", got["acl/dir"][1])

    def test_restore_capability(self):
        rels = [r for r in self.rels if self.expected[r]["type"] == "file"]
        got = tool_lines(["getcap"], self.restored, rels)
        self.assertEqual(got, tool_lines(["getcap"], self.src, rels))
        self.assertIn("cap_net_raw=ep", got["cap/ping"][1])

    def test_restore_hard_links(self):
        got = inode_groups(self.restored, [r for g in HARD_LINKS for r in g] + ["hl/single"])
        for group in HARD_LINKS:
            inos = {got[r][:2] for r in group}
            self.assertEqual(len(inos), 1, "%s are not one inode: %s" % (group, got))
            self.assertEqual({got[r][2] for r in group}, {len(group)}, got)
        self.assertNotEqual(got[HARD_LINKS[0][0]][:2], got[HARD_LINKS[1][0]][:2])
        self.assertEqual(got["hl/single"][2], 1)

    def test_restore_symlinks(self):
        rels = [r for r in self.rels if self.expected[r]["type"] == "symlink"]
        self.assertGreaterEqual(len(rels), 5)
        got = describe(self.restored)
        for r in rels:
            self.assertEqual(got[r], self.expected[r], r)

    def test_restore_root_directory_metadata(self):
        got = describe(self.restored)["."]
        self.assertEqual(got, self.expected["."])

    def test_no_same_owner_keeps_the_restoring_users_owner(self):
        dest = self.new_path("dest")
        proc = self.restore(self.copy, dest, "--no-same-owner")
        self.assertEqual(proc.returncode, 0, text(proc.stderr))
        got = describe(os.path.join(dest, "meta"))
        owners = {(row["uid"], row["gid"]) for row in got.values()}
        self.assertEqual(owners, {(os.geteuid(), os.getegid())})
        want = {k: dict(v, uid=os.geteuid(), gid=os.getegid()) for k, v in self.expected.items()}
        # A setuid (setgid) bit is dropped where the owner (group) was not restored: it must not
        # pass to root. Every other bit is kept.
        for k, row in want.items():
            if "mode" in row:
                mode = int(row["mode"], 8)
                if self.expected[k]["uid"] != os.geteuid():
                    mode &= ~stat.S_ISUID
                if self.expected[k]["gid"] != os.getegid():
                    mode &= ~stat.S_ISGID
                row["mode"] = "%04o" % mode
        self.assertTrue(any(int(v["mode"], 8) & stat.S_ISUID and v["uid"] != os.geteuid()
                            for v in self.expected.values() if "mode" in v),
                        "the tree has a setuid file of another owner")
        self.assertRegex(text(proc.stderr), r"setuid/setgid bits of \d+ entries dropped")
        self.assert_same_tree(want, got, "--no-same-owner restore",
                              fields={"mode", "uid", "gid", "mtime_ns", "size", "sha256",
                                      "target"})

    def test_restore_one_directory_keeps_its_metadata(self):
        dest = self.new_path("dest")
        proc = self.restore_paths(self.copy, ["meta/modes", "meta/acl"], dest)
        self.assertEqual(proc.returncode, 0, text(proc.stderr))
        got = describe(os.path.join(dest, "meta"))
        for rel, row in got.items():
            if rel != ".":
                self.assertEqual(row, self.expected[rel], rel)

    # -- the same through the decrypt mount (hard links are separate files there)

    def test_decrypt_mount_shows_the_same_metadata(self):
        with self.decrypt_mount(self.copy) as dm:
            root = os.path.join(dm.path, "meta")
            self.assert_same_tree(self.expected, describe(root),
                                  "decrypt mount: stat fields, content, xattrs")
            args = ["getfattr", "-h", "-d", "-m", "-", "-e", "hex", "--absolute-names"]
            self.assertEqual(tool_lines(args, root, self.rels),
                             tool_lines(args, self.src, self.rels))
            rels = [r for r in self.rels if self.expected[r]["type"] != "symlink"]
            args = ["getfacl", "-n", "--absolute-names"]
            self.assertEqual(tool_lines(args, root, rels), tool_lines(args, self.src, rels))
            rels = [r for r in self.rels if self.expected[r]["type"] == "file"]
            self.assertEqual(tool_lines(["getcap"], root, rels),
                             tool_lines(["getcap"], self.src, rels))
            links = inode_groups(root, [r for g in HARD_LINKS for r in g])
            self.assertEqual({v[2] for v in links.values()}, {1}, links)
            self.assertEqual(len({v[:2] for v in links.values()}), len(links), links)
            for group in HARD_LINKS:
                datas = {read_all(os.path.join(root, r)) for r in group}
                self.assertEqual(len(datas), 1, group)


if __name__ == "__main__":
    mountlib.take_bin_from_argv()
    unittest.main(verbosity=2)
