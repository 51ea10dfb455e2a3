#!/usr/bin/env python3
"""tests/integration/reverse_view_test.py — real mounts of the reverse (ciphertext) view.

Usage: reverse_view_test.py [ENCFSR_BINARY] [unittest args, e.g. a class name]
(or ENCFSR_BIN in the environment). Every class mounts its own generated tree once and always
unmounts; contents are checked against tests/format/reference.py, an independent decryptor.
"""

import errno
import hashlib
import os
import stat
import subprocess
import sys
import threading
import time
import unittest
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "format"))

import mountlib  # noqa: E402
from mountlib import FIFO_NAME, Mount, PASSWORD  # noqa: E402
import reference  # noqa: E402

SHORT_LIMIT = {"base64url": 160, "base32": 128}  # longest plaintext name without a long form


def long_names_in(root, encoding):
    """Number of entry names under root (FIFOs left out) that need a long form."""
    return sum(1 for rel in mountlib.plain_entries(root)
               if len(os.fsencode(os.path.basename(rel))) > SHORT_LIMIT[encoding])


def read_all(path):
    with open(path, "rb") as f:
        return f.read()


def read_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


class ViewCase(unittest.TestCase):
    """Shared plumbing: a Setup (key, password) per class, removed at the end."""

    @classmethod
    def setUpClass(cls):
        mountlib.require_fuse()
        cls.work = mountlib.Setup()
        cls.keys = reference.Keys(reference.paper_key_to_master(cls.work.paper_key))
        cls._mounts = []

    @classmethod
    def tearDownClass(cls):
        for m in reversed(getattr(cls, "_mounts", [])):
            m.close()
        if hasattr(cls, "work"):
            cls.work.cleanup()

    @classmethod
    def mount_class(cls, source, mode="reverse", **kw):
        m = Mount(source, cls.work.mountpoint(), mode=mode, **kw)
        m.__enter__()
        cls._mounts.append(m)
        return m

    def cipher(self, mnt, plain_path, encoding="base64url"):
        """Path in the view of a plaintext view path, computed with the reference."""
        parts = [p for p in plain_path.split("/") if p]
        node = self.keys.root_id()
        out = []
        for p in parts:
            name, _ = reference.encrypt_name(self.keys, node, p, encoding)
            out.append(name)
            node = self.keys.child_id(node, p)
        return os.path.join(mnt, *out)


# ------------------------------------------------------------------------------ the main tree

class ReverseViewTest(ViewCase):
    """One generated tree with every awkward kind of entry, two sources, one mount."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        w = cls.work
        cls.plain = w.mkdir("plain")
        cls.outside = os.path.join(w.dir, "outside-secret.txt")
        with open(cls.outside, "w") as f:
            f.write("outside the source: must never be served\n")
        cls.facts = mountlib.make_tree(os.path.join(cls.plain, "data"), cls.outside)
        etc = w.mkdir("plain", "etc")
        with open(os.path.join(etc, "hosts"), "w") as f:
            f.write("127.0.0.1 localhost\n")
        os.makedirs(os.path.join(etc, "sub"))
        with open(os.path.join(etc, "sub", "conf"), "w") as f:
            f.write("x = 1\n")
        cls.config = w.config([{"name": "data", "path": os.path.join(cls.plain, "data")},
                               {"name": "etc", "path": etc}])
        cls.m = cls.mount_class(cls.config)
        cls.mnt = cls.m.path
        cls._walk = None
        cls._tree = None
        cls._digest = None
        cls._remount_digest = None

    # cached views of the mount
    def walk(self):
        if self.__class__._walk is None:
            self.__class__._walk = mountlib.view_walk(self.mnt)
        return self.__class__._walk

    def tree(self):
        if self.__class__._tree is None:
            self.__class__._tree = reference.decrypt_tree(self.mnt, self.keys, "base64url")
        return self.__class__._tree

    def digest(self):
        if self.__class__._digest is None:
            self.__class__._digest = mountlib.tree_digest(self.mnt, with_ino=True)
        return self.__class__._digest

    def remount_digest(self):
        if self.__class__._remount_digest is None:
            with Mount(self.config, self.work.mountpoint()) as m2:
                self.__class__._remount_digest = mountlib.tree_digest(m2.path, with_ino=True)
        return self.__class__._remount_digest

    def plain_view(self):
        """{view path: lstat} of the plaintext, as the view should show it."""
        out = {}
        for src in ("data", "etc"):
            out[src] = os.lstat(os.path.join(self.plain, src))
            for rel, st in mountlib.plain_entries(os.path.join(self.plain, src)).items():
                out[src + "/" + rel] = st
        return out

    # --- structure
    def test_root_has_one_dir_per_source_and_the_key_file(self):
        names = sorted(os.listdir(self.mnt))
        self.assertEqual(len(names), 4, names)
        self.assertIn("encfsr.key", names)
        self.assertIn("encfsr.dir", names)
        for n in names:
            st = os.lstat(os.path.join(self.mnt, n))
            if n in ("encfsr.key", "encfsr.dir"):
                self.assertTrue(stat.S_ISREG(st.st_mode))
            else:
                self.assertTrue(stat.S_ISDIR(st.st_mode), n)
                self.assertNotIn(n, ("data", "etc"), "source names must be encrypted")

    def test_entry_counts_match_plaintext_less_exclusions(self):
        walk = self.walk()
        plain = self.plain_view()
        n_long = sum(1 for p in plain if len(os.fsencode(p.rsplit("/", 1)[-1])) > 160)
        self.assertEqual(n_long, 5)
        kinds = Counter(stat.S_IFMT(st.st_mode) for st in walk.values())
        pkinds = Counter(stat.S_IFMT(st.st_mode) for st in plain.values())
        self.assertEqual(kinds[stat.S_IFDIR], pkinds[stat.S_IFDIR], "directories")
        self.assertEqual(kinds[stat.S_IFLNK], pkinds[stat.S_IFLNK], "symlinks")
        n_dirs = pkinds[stat.S_IFDIR] + 1  # a manifest per directory, the root's included
        self.assertEqual(kinds[stat.S_IFREG], pkinds[stat.S_IFREG] + 1 + n_long + n_dirs,
                         "files (+ encfsr.key + one side file per long name + manifests)")
        self.assertEqual(len(walk), len(plain) + 1 + n_long + n_dirs)
        self.assertNotIn(stat.S_IFIFO, kinds, "the FIFO must be left out")
        # the shape: the multiset of directory sizes is the same
        def sizes(entries, long_of):
            c = Counter()
            for p in entries:
                parent = p.rsplit("/", 1)[0] if "/" in p else ""
                c[parent] += 1 + (1 if long_of(p) else 0)
            return sorted(c.values())
        view_sizes = sizes([p for p in walk if os.path.basename(p) != "encfsr.dir"],
                           lambda p: False)
        plain_sizes = sizes(list(plain) + ["encfsr.key"],
                            lambda p: len(os.fsencode(p.rsplit("/", 1)[-1])) > 160)
        self.assertEqual(view_sizes, plain_sizes)

    def test_find_and_tar_walk_the_view(self):
        proc = mountlib.run(["find", self.mnt])
        self.assertEqual(len(proc.stdout.splitlines()), len(self.walk()) + 1)
        tar = subprocess.Popen(["tar", "-cf", "-", "-C", self.mnt, "."], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
        h = hashlib.sha256()
        total = 0
        while True:
            b = tar.stdout.read(1 << 20)
            if not b:
                break
            total += len(b)
            h.update(b)
        err = tar.stderr.read().decode(errors="replace")
        tar.stdout.close()
        tar.stderr.close()
        self.assertEqual(tar.wait(timeout=300), 0, err)
        self.assertEqual(err, "")
        self.assertGreater(total, 3 * 1024 * 1024)

    def test_no_name_over_255_bytes(self):
        longest = max(len(os.fsencode(os.path.basename(p))) for p in self.walk())
        self.assertLessEqual(longest, 255)
        side = [p for p in self.walk() if p.endswith(".name")]
        for p in side:
            self.assertTrue(os.path.basename(p).startswith("encfsr.long."), p)
            self.assertIn(p[:-len(".name")], self.walk(), "side file without its long form")

    # --- sizes and contents
    def test_st_size_equals_bytes_read_for_every_file(self):
        for rel, st in self.walk().items():
            if stat.S_ISREG(st.st_mode):
                data = read_all(os.path.join(self.mnt, rel))
                self.assertEqual(len(data), st.st_size, rel)

    def test_file_sizes_follow_the_format(self):
        want = Counter(reference.cipher_size(st.st_size) for st in self.plain_view().values()
                       if stat.S_ISREG(st.st_mode))
        got = Counter(st.st_size for rel, st in self.walk().items()
                      if stat.S_ISREG(st.st_mode) and rel != "encfsr.key"
                      and not rel.endswith(".name") and os.path.basename(rel) != "encfsr.dir")
        self.assertEqual(got, want)

    def test_reference_decrypts_the_whole_view_to_the_plaintext(self):
        tree = self.tree()
        plain = self.plain_view()
        self.assertEqual(sorted(tree), sorted(plain))
        for path, st in plain.items():
            e = tree[path]
            src = os.path.join(self.plain, path)
            if stat.S_ISREG(st.st_mode):
                self.assertEqual(e.kind, "file", path)
                self.assertTrue(e.data == read_all(src), path)
            elif stat.S_ISLNK(st.st_mode):
                self.assertEqual(e.kind, "link", path)
                self.assertEqual(e.data, os.fsencode(os.readlink(src)), path)
            else:
                self.assertEqual(e.kind, "dir", path)
            if e.kind != "link":  # a symlink's mode bits mean nothing on Linux
                self.assertEqual(e.mode, stat.S_IMODE(st.st_mode), path)
            self.assertEqual(e.mtime_ns, st.st_mtime_ns, path)

    def test_key_file_in_view_opens_with_the_password(self):
        text = read_all(os.path.join(self.mnt, "encfsr.key")).decode()
        master, names = reference.open_key_file(text, PASSWORD)
        self.assertEqual(master, self.keys.master)
        self.assertEqual(names, "base64url")
        with self.assertRaises(reference.FormatError):
            reference.open_key_file(text, "wrong password")

    # --- determinism and inode numbers
    def test_whole_view_hashes_the_same_after_a_remount(self):
        strip = lambda d: {k: v[:5] for k, v in d.items()}  # noqa: E731
        first, second = strip(self.digest()), strip(self.remount_digest())
        self.assertEqual(sorted(first), sorted(second), "names differ")
        diffs = [k for k in first if first[k] != second[k]]
        self.assertEqual(diffs, [], "entries differ after a remount")
        self.assertEqual(hashlib.sha256(repr(sorted(first.items())).encode()).digest(),
                         hashlib.sha256(repr(sorted(second.items())).encode()).digest())

    def test_inode_numbers_unique(self):
        inos = [v[5] for v in self.digest().values()]
        dup = [i for i, n in Counter(inos).items() if n > 1]
        self.assertEqual(dup, [], "duplicate inode numbers")
        self.assertNotIn(os.lstat(self.mnt).st_ino, inos)

    def test_inode_numbers_stable_across_remount(self):
        first = {k: v[5] for k, v in self.digest().items()}
        second = {k: v[5] for k, v in self.remount_digest().items()}
        changed = [k for k in first if first[k] != second.get(k)]
        self.assertEqual(changed, [], "inode numbers changed after a remount")

    def test_hard_links_are_separate_files(self):
        paths = ["data/hard/a", "data/hard/b", "data/hard/sub/c"]
        self.assertEqual(os.lstat(os.path.join(self.plain, paths[0])).st_nlink, 3)
        cps = [os.path.join(self.mnt, self.tree()[p].cipher_path) for p in paths]
        sts = [os.lstat(p) for p in cps]
        self.assertEqual([s.st_nlink for s in sts], [1, 1, 1])
        self.assertEqual(len({s.st_ino for s in sts}), 3)
        datas = [read_all(p) for p in cps]
        self.assertEqual(len(set(datas)), 3, "path-bound IDs give each name its own ciphertext")
        for rel, st in self.walk().items():
            if not stat.S_ISDIR(st.st_mode):
                self.assertEqual(st.st_nlink, 1, rel)

    # --- symlinks
    def _link(self, plain_path):
        return os.path.join(self.mnt, self.tree()[plain_path].cipher_path)

    def test_outside_symlink_is_a_link_never_followed(self):
        for name in ("outside", "dotdot", "absolute"):
            p = self._link("data/links/" + name)
            st = os.lstat(p)
            self.assertTrue(stat.S_ISLNK(st.st_mode), name)
            target = os.readlink(p)
            plain_target = os.readlink(os.path.join(self.plain, "data/links", name))
            self.assertNotEqual(target, plain_target)
            self.assertNotIn("/", target, "an encrypted target is one base64url word")
            self.assertEqual(reference.decrypt_link(
                self.keys, self.keys.id_of("data/links/" + name), target),
                os.fsencode(plain_target))
            try:
                fst = os.stat(p)
            except OSError:
                pass
            else:
                self.assertEqual(fst.st_ino, st.st_ino, "%s was followed" % name)
            try:
                data = read_all(p)
            except OSError:
                data = b""
            self.assertNotIn(b"outside the source", data)

    def test_symlink_sizes_are_target_lengths(self):
        for rel, st in self.walk().items():
            if stat.S_ISLNK(st.st_mode):
                self.assertEqual(st.st_size, len(os.fsencode(
                    os.readlink(os.path.join(self.mnt, rel)))), rel)

    # --- concurrency and resources
    def test_eight_concurrent_readers_get_identical_correct_data(self):
        path = os.path.join(self.mnt, self.tree()["data/big.bin"].cipher_path)
        want = reference.seal_content(self.keys, self.keys.id_of("data/big.bin"),
                                      read_all(os.path.join(self.plain, "data/big.bin")))
        results = [None] * 8
        errors = []

        def reader(i):
            try:
                chunk = [4096, 65536, 1 << 20, 4112, 131072 + 7, 333333, 1, 8192][i]
                if i == 2:  # pread from the end backwards
                    fd = os.open(path, os.O_RDONLY)
                    try:
                        size = os.fstat(fd).st_size
                        parts = []
                        off = size
                        while off > 0:
                            n = min(chunk, off)
                            off -= n
                            parts.append(os.pread(fd, n, off))
                        results[i] = b"".join(reversed(parts))
                    finally:
                        os.close(fd)
                    return
                buf = []
                with open(path, "rb", buffering=0) as f:
                    while True:
                        b = f.read(chunk if i != 6 else 70000)
                        if not b:
                            break
                        buf.append(b)
                results[i] = b"".join(buf)
            except Exception as e:  # reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=reader, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        for i, r in enumerate(results):
            self.assertIsNotNone(r, i)
            self.assertEqual(len(r), len(want), i)
            self.assertTrue(r == want, "reader %d got different bytes" % i)

    def test_daemon_open_fds_stay_under_64_after_a_full_walk(self):
        for rel, st in self.walk().items():
            p = os.path.join(self.mnt, rel)
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    f.read(1)
            elif stat.S_ISLNK(st.st_mode):
                os.readlink(p)
        n = self.m.fd_count()
        self.assertLess(n, 64, "daemon holds %d fds" % n)

    # --- round trips
    def test_plain_view_shows_the_plaintext_tree(self):
        with Mount(self.config, self.work.mountpoint(), mode="plain") as pm:
            self.assertEqual(sorted(os.listdir(pm.path)), ["data", "etc"])
            rc, out = mountlib.diff_r(self.plain, pm.path)
            self.assertEqual(rc, 0, out[:3000])
            self.assertFalse(os.path.lexists(os.path.join(pm.path, "data", FIFO_NAME)))

    def test_rsync_copy_then_decrypt_mount_and_restore_give_the_plaintext(self):
        copy = self.work.path("copy")
        mountlib.run(["rsync", "-a", self.mnt + "/", copy + "/"], timeout=300)
        self.assertTrue(os.path.isfile(os.path.join(copy, "encfsr.key")))
        with Mount(copy, self.work.mountpoint(), mode="decrypt",
                   key_options=["--password-file", self.work.password_file]) as dm:
            rc, out = mountlib.diff_r(self.plain, dm.path)
            self.assertEqual(rc, 0, out[:3000])
            plain = self.plain_view()
            for path, st in plain.items():
                dst = os.lstat(os.path.join(dm.path, path))
                self.assertEqual(stat.S_IMODE(dst.st_mode), stat.S_IMODE(st.st_mode), path)
                if not stat.S_ISLNK(st.st_mode):
                    self.assertEqual(dst.st_mtime_ns // 10**9, st.st_mtime_ns // 10**9, path)
        dest = self.work.path("restored")
        proc = mountlib.run([mountlib.encfsr_bin(), "restore", "--password-file",
                             self.work.password_file, copy, dest], check=False, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        rc, out = mountlib.diff_r(self.plain, dest)
        self.assertEqual(rc, 0, out[:3000])


def _make_erofs_test(op):
    def test(self):
        mountlib.expect_errno(self, errno.EROFS, op, self)
    test.__name__ = "test_erofs_" + op.__name__
    return test


class ReadOnlyTest(ViewCase):
    """Every write-type call answers EROFS."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        src = cls.work.mkdir("plain", "src")
        with open(os.path.join(src, "file"), "wb") as f:
            f.write(b"content\n" * 1000)
        os.makedirs(os.path.join(src, "dir"))
        os.makedirs(os.path.join(src, "empty"))
        os.symlink("file", os.path.join(src, "link"))
        cls.src = src
        cls.m = cls.mount_class(cls.work.config([{"name": "src", "path": src}]))
        cls.dir = cls.cipher(cls, cls.m.path, "src")
        cls.file = cls.cipher(cls, cls.m.path, "src/file")
        cls.empty = cls.cipher(cls, cls.m.path, "src/empty")
        cls.link = cls.cipher(cls, cls.m.path, "src/link")

    def test_targets_exist(self):
        self.assertTrue(os.path.isfile(self.file))
        self.assertTrue(os.path.isdir(self.empty))
        self.assertTrue(os.path.islink(self.link))

    def tearDown(self):
        # the plaintext is never changed
        with open(os.path.join(self.src, "file"), "rb") as f:
            self.assertEqual(f.read(), b"content\n" * 1000)

    def write(self):
        os.open(self.file, os.O_WRONLY)

    def write_rdwr(self):
        os.open(self.file, os.O_RDWR)

    def create(self):
        os.open(os.path.join(self.dir, "new"), os.O_CREAT | os.O_WRONLY, 0o644)

    def mkdir(self):
        os.mkdir(os.path.join(self.dir, "newdir"))

    def unlink(self):
        os.unlink(self.file)

    def rmdir(self):
        os.rmdir(self.empty)

    def rename(self):
        os.rename(self.file, os.path.join(self.dir, "renamed"))

    def chmod(self):
        os.chmod(self.file, 0o600)

    def chown(self):
        os.chown(self.file, 1, 1)

    def truncate(self):
        os.truncate(self.file, 0)

    def utime(self):
        os.utime(self.file, (0, 0))

    def setxattr(self):
        os.setxattr(self.file, "user.test", b"1")

    def removexattr(self):
        os.removexattr(self.file, "user.test")

    def link(self):
        os.link(self.file, os.path.join(self.dir, "hardlink"))

    def symlink(self):
        os.symlink("file", os.path.join(self.dir, "newlink"))

    def mknod_fifo(self):
        os.mkfifo(os.path.join(self.dir, "fifo"))


for _op in (ReadOnlyTest.write, ReadOnlyTest.write_rdwr, ReadOnlyTest.create,
            ReadOnlyTest.mkdir, ReadOnlyTest.unlink, ReadOnlyTest.rmdir, ReadOnlyTest.rename,
            ReadOnlyTest.chmod, ReadOnlyTest.chown, ReadOnlyTest.truncate, ReadOnlyTest.utime,
            ReadOnlyTest.setxattr, ReadOnlyTest.removexattr, ReadOnlyTest.link,
            ReadOnlyTest.symlink, ReadOnlyTest.mknod_fifo):
    setattr(ReadOnlyTest, "test_erofs_" + _op.__name__, _make_erofs_test(_op))


# --------------------------------------------------------------------------- block locality

class BlockLocalityTest(ViewCase):
    def test_one_byte_change_changes_exactly_one_cipher_block(self):
        src = self.work.mkdir("plain", "loc")
        path = os.path.join(src, "three")
        data = bytearray(os.urandom(3 * 4096 - 50))
        with open(path, "wb") as f:
            f.write(data)
        config = self.work.config([{"name": "loc", "path": src}])
        with Mount(config, self.work.mountpoint()) as m:
            before = read_all(self.cipher(m.path, "loc/three"))
        offset = 4096 + 1234  # the middle block
        data[offset] ^= 0x55
        with open(path, "r+b") as f:
            f.seek(offset)
            f.write(bytes([data[offset]]))
        with Mount(config, self.work.mountpoint()) as m:
            after = read_all(self.cipher(m.path, "loc/three"))
        self.assertEqual(len(before), len(after))
        self.assertEqual(len(before), 3 * 4096 - 50 + 3 * 16)
        blocks = lambda b: [b[i:i + 4112] for i in range(0, len(b), 4112)]  # noqa: E731
        changed = [i for i, (x, y) in enumerate(zip(blocks(before), blocks(after))) if x != y]
        self.assertEqual(changed, [1])
        self.assertEqual(reference.open_content(self.keys, self.keys.id_of("loc/three"), after),
                         bytes(data))


# ---------------------------------------------------------------------- name encodings, key

class NameOptionsTest(ViewCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        src = cls.work.mkdir("plain", "n")
        for name in ("a", "UPPER", "MiXeD.TXT", "x" * 128, "y" * 129, "z" * 200, "é" * 120):
            with open(os.path.join(src, name), "w") as f:
                f.write(name)
        os.makedirs(os.path.join(src, "Dir"))
        with open(os.path.join(src, "Dir", "Inner"), "w") as f:
            f.write("inner")
        cls.src = src

    def test_base32_names_are_lowercase_and_decrypt(self):
        config = self.work.config([{"name": "n", "path": self.src}], names="base32")
        with Mount(config, self.work.mountpoint()) as m:
            walk = mountlib.view_walk(m.path)
            for rel in walk:
                for part in rel.split("/"):
                    self.assertEqual(part, part.lower(), rel)
                    self.assertTrue(set(part) <= set("abcdefghijklmnopqrstuvwxyz234567."), rel)
                    self.assertLessEqual(len(part), 255)
            n_long = long_names_in(self.src, "base32")
            self.assertEqual(n_long, 3)
            self.assertEqual(sum(1 for r in walk if r.endswith(".name")), n_long)
            tree = reference.decrypt_tree(m.path, self.keys, "base32")
            self.assertEqual(len(tree), 1 + len(mountlib.plain_entries(self.src)))
            self.assertEqual(tree["n/Dir/Inner"].data, b"inner")
            key_text = read_all(os.path.join(m.path, "encfsr.key")).decode()
            self.assertEqual(reference.open_key_file(key_text, PASSWORD)[1], "base32")

    def test_key_in_view_false_hides_the_key_file(self):
        config = self.work.config([{"name": "n", "path": self.src}], key_in_view=False)
        with Mount(config, self.work.mountpoint()) as m:
            names = os.listdir(m.path)
            self.assertEqual(len(names), 2, names)  # the source and the root's manifest
            self.assertNotIn("encfsr.key", names)
            mountlib.expect_errno(self, errno.ENOENT, os.lstat,
                                  os.path.join(m.path, "encfsr.key"))

    def test_key_in_view_default_serves_the_key_file(self):
        config = self.work.config([{"name": "n", "path": self.src}])
        with Mount(config, self.work.mountpoint()) as m:
            self.assertEqual(len(os.listdir(m.path)), 3)  # source, key file, manifest
            self.assertTrue(os.path.isfile(os.path.join(m.path, "encfsr.key")))


# -------------------------------------------------------------------------------------- tiers

def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(data)


class TiersTest(ViewCase):
    EXPECTED = {
        "t": None, "t/common.txt": "A", "t/only_a.txt": "a", "t/only_b.txt": "b",
        "t/dir": None, "t/dir/x_a": "xa", "t/dir/x_b": "xb", "t/dir/both": "A-both",
        "t/clash_kind": "A-file", "t/clash2": None, "t/clash2/in_a": "ina",
        "t/dir/deeper": None, "t/dir/deeper/from_b": "fb",
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        a, b = cls.work.mkdir("tier_a"), cls.work.mkdir("tier_b")
        _write(os.path.join(a, "common.txt"), "A")
        _write(os.path.join(b, "common.txt"), "B")
        _write(os.path.join(a, "only_a.txt"), "a")
        _write(os.path.join(b, "only_b.txt"), "b")
        _write(os.path.join(a, "dir/x_a"), "xa")
        _write(os.path.join(b, "dir/x_b"), "xb")
        _write(os.path.join(a, "dir/both"), "A-both")
        _write(os.path.join(b, "dir/both"), "B-both")
        _write(os.path.join(b, "dir/deeper/from_b"), "fb")
        _write(os.path.join(a, "clash_kind"), "A-file")
        _write(os.path.join(b, "clash_kind/inner"), "B-inner")
        _write(os.path.join(a, "clash2/in_a"), "ina")
        _write(os.path.join(b, "clash2"), "B-file")
        cls.config = cls.work.config([{"name": "t", "paths": [a, b]}])

    def check(self, tree):
        got = {p: (None if e.kind == "dir" else e.data.decode()) for p, e in tree.items()}
        self.assertEqual(got, self.EXPECTED)

    def test_plain_view_is_the_union_first_tier_wins(self):
        with Mount(self.config, self.work.mountpoint(), mode="plain") as m:
            got = {}
            for rel, st in mountlib.view_walk(m.path).items():
                got[rel] = None if stat.S_ISDIR(st.st_mode) else \
                    read_all(os.path.join(m.path, rel)).decode()
            self.assertEqual(got, self.EXPECTED)

    def test_encrypted_view_is_the_union_first_tier_wins(self):
        with Mount(self.config, self.work.mountpoint()) as m:
            self.check(reference.decrypt_tree(m.path, self.keys))


# --------------------------------------------------------------------------------- exclusions

class ExclusionTest(ViewCase):
    LONG = "long_" + "q" * 195
    VISIBLE = {"x", "x/keep.tmp", "x/sub", "x/sub/build", "x/sub/top_only.txt", "x/logs",
               "x/logs/app.log", "x/badcache", "x/badcache/CACHEDIR.TAG", "x/badcache/f",
               "x/normal.txt", "x/" + "long_" + "q" * 195}
    HIDDEN = ["x/a.tmp", "x/sub/b.tmp", "x/build", "x/build/out.o", "x/logs/.cache",
              "x/logs/.cache/c", "x/cachedir", "x/cachedir/CACHEDIR.TAG", "x/cachedir/f",
              "x/encfsr.key", "x/side.name", "x/top_only.txt", "x/encfsr.long.zzz"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        src = cls.work.mkdir("ex")
        for rel in ["a.tmp", "keep.tmp", "sub/b.tmp", "sub/build", "sub/top_only.txt",
                    "build/out.o", "logs/app.log", "logs/.cache/c", "cachedir/f", "badcache/f",
                    "normal.txt", "encfsr.key", "side.name", "top_only.txt", cls.LONG,
                    "encfsr.long.zzz"]:
            _write(os.path.join(src, rel), rel)
        _write(os.path.join(src, "cachedir/CACHEDIR.TAG"),
               mountlib.CACHEDIR_SIGNATURE + "\n# a cache directory tag\n")
        _write(os.path.join(src, "badcache/CACHEDIR.TAG"),
               "Signature: 00000000000000000000000000000000\n")
        cls.src = src
        cls.config = cls.work.config([{
            "name": "x", "path": src, "exclude_caches": True,
            "exclude": ["*.tmp", "!keep.tmp", "build/", "**/.cache/", "encfsr.key", "*.name",
                        "encfsr.long.*", "/top_only.txt"]}])

    def test_plain_view_hides_from_listing_and_lookup(self):
        with Mount(self.config, self.work.mountpoint(), mode="plain") as m:
            got = set(mountlib.view_walk(m.path))
            self.assertEqual(got, self.VISIBLE)
            for p in self.HIDDEN:
                mountlib.expect_errno(self, errno.ENOENT, os.lstat, os.path.join(m.path, p))

    def test_encrypted_view_hides_from_listing_and_lookup(self):
        with Mount(self.config, self.work.mountpoint()) as m:
            tree = reference.decrypt_tree(m.path, self.keys)
            self.assertEqual(set(tree), self.VISIBLE)
            # lookup by the (reference-computed) cipher name fails as well
            for p in self.HIDDEN:
                if "/" in p[2:] and p.rsplit("/", 1)[0] in [h for h in self.HIDDEN]:
                    continue  # below a hidden directory: its parent is already gone
                mountlib.expect_errno(self, errno.ENOENT, os.lstat, self.cipher(m.path, p))
            for p in self.VISIBLE:  # the reference's names are the view's names
                self.assertTrue(os.path.lexists(self.cipher(m.path, p)), p)

    def test_patterns_never_hide_the_key_file_or_a_side_file(self):
        with Mount(self.config, self.work.mountpoint()) as m:
            self.assertTrue(os.path.isfile(os.path.join(m.path, "encfsr.key")))
            long_cipher = self.cipher(m.path, "x/" + self.LONG)
            self.assertTrue(os.path.basename(long_cipher).startswith("encfsr.long."))
            self.assertTrue(os.path.isfile(long_cipher))
            self.assertTrue(os.path.isfile(long_cipher + ".name"))
            listing = os.listdir(os.path.dirname(long_cipher))
            self.assertIn(os.path.basename(long_cipher) + ".name", listing)


# ---------------------------------------------------------------------------------- live tree

class LiveTreeTest(ViewCase):
    TTL = 0.3

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.src = cls.work.mkdir("live")
        _write(os.path.join(cls.src, "stay"), "stay")
        cls.m = cls.mount_class(cls.work.config(
            [{"name": "live", "path": cls.src}],
            mount={"entry_timeout": cls.TTL, "attr_timeout": cls.TTL}))

    def tearDown(self):
        self.assertTrue(self.m.alive(), "daemon died:\n" + self.m.stderr_text())
        self.assertTrue(os.path.isfile(self.cipher(self.m.path, "live/stay")))

    def p(self, name):
        return os.path.join(self.src, name)

    def c(self, name):
        return self.cipher(self.m.path, "live/" + name)

    def test_deleted_file_disappears_after_the_timeout(self):
        _write(self.p("victim"), "v")
        self.assertTrue(mountlib.wait_until(lambda: os.path.lexists(self.c("victim")), 5))
        os.unlink(self.p("victim"))
        self.assertTrue(mountlib.wait_until(lambda: not os.path.lexists(self.c("victim")), 5))
        self.assertNotIn(os.path.basename(self.c("victim")),
                         os.listdir(os.path.dirname(self.c("victim"))))

    def test_renamed_file_is_found_under_its_new_name(self):
        _write(self.p("old_name"), "renamed content")
        self.assertTrue(mountlib.wait_until(lambda: os.path.lexists(self.c("old_name")), 5))
        os.rename(self.p("old_name"), self.p("new_name"))
        self.assertTrue(mountlib.wait_until(
            lambda: not os.path.lexists(self.c("old_name"))
            and os.path.lexists(self.c("new_name")), 5))
        self.assertEqual(reference.open_content(self.keys, self.keys.id_of("live/new_name"),
                                                read_all(self.c("new_name"))),
                         b"renamed content")

    def test_file_replaced_by_directory_is_seen_as_directory(self):
        _write(self.p("morph"), "file")
        self.assertTrue(mountlib.wait_until(lambda: os.path.isfile(self.c("morph")), 5))
        os.unlink(self.p("morph"))
        _write(self.p("morph/inner"), "inner")
        self.assertTrue(mountlib.wait_until(lambda: os.path.isdir(self.c("morph")), 5),
                        "still not a directory")
        self.assertEqual(len(os.listdir(self.c("morph"))), 2)  # inner and encfsr.dir
        self.assertEqual(read_all(self.c("morph/inner")), reference.seal_content(
            self.keys, self.keys.id_of("live/morph/inner"), b"inner"))

    def _change_while_open(self, name, old, new):
        """Reads through an fd opened before the plaintext changed: every read gives an errno
        or bytes identical, at that offset, to the view of the old plaintext, of the new one,
        or of the new one cut at the size known at open (a consistent short result) — so
        never a block that authenticates wrong data; a fresh open sees the new file."""
        fid = self.keys.id_of("live/" + name)
        views = [reference.seal_content(self.keys, fid, v) for v in (old, new, new[:len(old)])]
        with open(self.p(name), "wb") as f:
            f.write(old)
        self.assertTrue(mountlib.wait_until(lambda: os.path.isfile(self.c(name)), 5))
        fd = os.open(self.c(name), os.O_RDONLY)
        try:
            first = os.pread(fd, 4112, 0)
            self.assertEqual(first, views[0][:4112])
            with open(self.p(name), "r+b") as f:
                f.truncate(0)
                f.write(new)
            time.sleep(self.TTL * 2)
            for off in range(0, max(len(views[0]), len(views[1])) + 2 * 4112, 4112):
                try:
                    got = os.pread(fd, 4112, off)
                except OSError as e:
                    self.assertIn(e.errno, (errno.EIO, errno.ESTALE, errno.ENOENT), off)
                    continue
                if got:
                    self.assertTrue(any(v[off:off + len(got)] == got for v in views),
                                    "%s: %d bytes at %d match neither version" % (
                                        name, len(got), off))
        finally:
            os.close(fd)
        self.assertTrue(mountlib.wait_until(lambda: read_all(self.c(name)) == views[1], 5),
                        "a fresh open does not see the new content")

    def test_file_shrunk_while_open(self):
        self._change_while_open("shrink", os.urandom(5 * 4096 + 7), os.urandom(1000))

    def test_file_grown_while_open(self):
        self._change_while_open("grow", os.urandom(2 * 4096 + 3), os.urandom(6 * 4096 + 11))


# ----------------------------------------------------------------------------- encfsr run

class RunTest(ViewCase):
    """`encfsr run` returns the command's status and leaves no mount and no directory."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        src = cls.work.mkdir("runsrc")
        _write(os.path.join(src, "f"), "f")
        cls.config = cls.work.config([{"name": "r", "path": src}])

    def run_encfsr(self, script):
        note = self.work.path("run-note")
        if os.path.exists(note):
            os.unlink(note)
        proc = mountlib.run([mountlib.encfsr_bin(), "run", self.config, "--",
                             "sh", "-c", script, "sh", "{}", note], check=False, timeout=60)
        mnt = read_text(note).split("\n")[0] if os.path.exists(note) else None
        return proc, mnt, note

    def test_exit_status_of_the_command_and_nothing_left(self):
        proc, mnt, note = self.run_encfsr(
            'echo "$1" > "$2"; ls "$1" | wc -l >> "$2"; test -f "$1/encfsr.key" || exit 99; '
            'exit 7')
        self.assertEqual(proc.returncode, 7, proc.stderr)
        self.assertIsNotNone(mnt, "the command did not run")
        self.assertEqual(read_text(note).split("\n")[1].strip(), "3")  # source, key, manifest
        self.assertFalse(mountlib.is_mounted(mnt))
        self.assertFalse(os.path.exists(mnt), "temporary mountpoint left behind")

    def test_command_killed_by_a_signal(self):
        proc, mnt, _ = self.run_encfsr('echo "$1" > "$2"; kill -9 $$')
        self.assertEqual(proc.returncode, 128 + 9, proc.stderr)
        self.assertIsNotNone(mnt)
        self.assertFalse(mountlib.is_mounted(mnt))
        self.assertFalse(os.path.exists(mnt), "temporary mountpoint left behind")

    def test_fixed_mountpoint_is_the_same_path_every_run_and_stays(self):
        fixed = self.work.mkdir("fixed-mnt")
        for _ in range(2):
            note = self.work.path("run-note")
            proc = mountlib.run([mountlib.encfsr_bin(), "run", "--mountpoint", fixed,
                                 self.config, "--", "sh", "-c",
                                 'echo "$1" > "$2"; test -f "$1/encfsr.key"', "sh", "{}", note],
                                check=False, timeout=60)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(read_text(note).strip(), os.path.realpath(fixed))
            self.assertFalse(mountlib.is_mounted(fixed))
            self.assertTrue(os.path.isdir(fixed), "a fixed mountpoint is left in place")
        _write(os.path.join(fixed, "clutter"), "x")
        proc = mountlib.run([mountlib.encfsr_bin(), "run", "--mountpoint", fixed, self.config,
                             "--", "true"], check=False, timeout=60)
        self.assertEqual(proc.returncode, 6, "a non-empty mountpoint is refused")


# ------------------------------------------------------------------------- 30,000 entries

class LargeTreeTest(ViewCase):
    """The walk works with `ulimit -n 1024` over 30,000 entries; the daemon's fds stay low."""

    DIRS = 150
    FILES = 199  # 150 * (1 + 199) = 30,000 entries

    def test_walk_30000_entries_under_ulimit_1024(self):
        src = self.work.mkdir("large")
        for d in range(self.DIRS):
            dp = os.path.join(src, "d%03d" % d)
            os.mkdir(dp)
            for i in range(self.FILES):
                with open(os.path.join(dp, "f%03d" % i), "wb") as f:
                    f.write(b"%d/%d\n" % (d, i))
        config = self.work.config([{"name": "large", "path": src}])
        with Mount(config, self.work.mountpoint(), ulimit_n=1024, timeout=30) as m:
            limits = read_text("/proc/%d/limits" % m.pid)
            self.assertRegex(limits, r"Max open files\s+1024\s")
            proc = mountlib.run(["find", m.path], timeout=300)
            # root + source dir + key + 30,000 entries + a manifest per directory
            self.assertEqual(len(proc.stdout.splitlines()),
                             3 + self.DIRS * (1 + self.FILES) + 2 + self.DIRS)
            tar = mountlib.run(["sh", "-c", 'tar -cf - -C "$0" . | wc -c', m.path], timeout=300)
            self.assertEqual(tar.stderr, b"")
            self.assertGreater(int(tar.stdout), self.DIRS * self.FILES * 512)
            self.assertLess(m.fd_count(), 64)
            self.assertTrue(m.alive())


if __name__ == "__main__":
    mountlib.take_bin_from_argv()
    unittest.main(verbosity=2)
