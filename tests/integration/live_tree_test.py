#!/usr/bin/env python3
"""tests/integration/live_tree_test.py — issue 8, live-tree correctness of real mounts.

Usage: live_tree_test.py [ENCFSR_BINARY] [unittest args, e.g. a class name]
(or ENCFSR_BIN in the environment). One ctest test per class; SoakTest is labelled "soak".

What a backup tool copies from a view whose plaintext changes under it must be, file by file,
authentic ciphertext of one state of the file (or the tool must have been told with an
error): no block mixing two seals (TornBlockTest), no file cut at a size the view never had
(GrowingFileTest), no stale content after a reopen (StaleCacheTest), no open or walk that
blocks on a FIFO or on the view's own mountpoint (NoBlockingTest), no error silently turned
into a missing entry (ErrorsReportedTest), no silently short file from a decrypt mount
(ImpossibleSizeTest), the key file served private (KeyFileTest), and a long soak of rsync
against a busy writer (SoakTest). Blocks are checked with tests/format/reference.py, the
independent decryptor, never with encfsr's own code.

Every mount goes through LiveCase.mount (mountlib.Mount: always unmounted), every test body
runs under a deadline (a hang fails the test instead of stalling it), and every call that
might block on a FIFO or on the view's own mount runs in a child process with a timeout.
"""

import errno
import functools
import json
import multiprocessing
import os
import random
import re
import shutil
import stat
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "format"))

import mountlib  # noqa: E402
from mountlib import Mount, MountError  # noqa: E402
import reference  # noqa: E402

CB = reference.CIPHER_BLOCK  # 4,112 bytes: 16-byte tag + 4,096 plaintext
BLOCK = reference.BLOCK
MiB = 1024 * 1024

# The daemon as root but without the two capabilities that let root ignore file modes.
SETPRIV = ["setpriv", "--bounding-set=-dac_override,-dac_read_search",
           "--inh-caps=-dac_override,-dac_read_search"]
CAP_DAC_OVERRIDE = 1
CAP_DAC_READ_SEARCH = 2

# Opens and reads a path in a child: prints "errno NAME" or "read N".
CHILD_OPEN_READ = r"""
import errno, os, sys
try:
    fd = os.open(sys.argv[1], os.O_RDONLY)
    try:
        n = len(os.read(fd, 1 << 16))
    finally:
        os.close(fd)
except OSError as e:
    print("errno %s" % errno.errorcode.get(e.errno, e.errno))
    sys.exit(0)
print("read %d" % n)
"""


def text(data):
    return mountlib._text(data)


def read_all(path):
    with open(path, "rb") as f:
        return f.read()


def write_file(path, data, mtime=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    if mtime is not None:
        mountlib.set_mtime(path, mtime)


_stragglers = []  # children killed at their deadline but stuck in a view request


def bounded(args, timeout, **kw):
    """Runs args with a deadline: (CompletedProcess or None if it timed out, seconds).

    A child stuck in a FUSE request the daemon is handling cannot die before the daemon answers
    or the mount's connection ends; it is then left in _stragglers, reaped by reap_stragglers()
    after the mounts are closed."""
    start = time.monotonic()
    args = [str(a) for a in args]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        try:
            proc.communicate(timeout=2)
        except subprocess.TimeoutExpired:
            _stragglers.append(proc)
        return None, time.monotonic() - start
    return subprocess.CompletedProcess(args, proc.returncode, out, err), \
        time.monotonic() - start


def reap_stragglers():
    while _stragglers:
        proc = _stragglers.pop()
        proc.kill()
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def open_read_in_child(path, timeout):
    """("errno ENAME" | "read N" | "TIMEOUT", seconds) of opening and reading path in a child."""
    proc, took = bounded([sys.executable, "-c", CHILD_OPEN_READ, path], timeout)
    if proc is None:
        return "TIMEOUT", took
    return (text(proc.stdout).strip() or "child failed: " + text(proc.stderr)), took


def cap_effective(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    raise AssertionError("no CapEff in /proc/%d/status" % pid)


def unauthentic_blocks(keys, file_id, data, have):
    """(indices of the cipher blocks fully present that do not authenticate, blocks checked).

    data: the assembled ciphertext (a bytearray of the file's cipher size); have: a bytearray
    of the same length, non-zero where a byte was obtained. A block with a byte missing (never
    read, or its read gave EIO) is not checked."""
    size = len(data)
    count = max(1, (size + CB - 1) // CB)
    bad, checked = [], 0
    for i in range(count):
        s, e = i * CB, min((i + 1) * CB, size)
        if have.find(0, s, e) != -1:
            continue
        checked += 1
        try:
            reference.open_block(keys, file_id, i, i == count - 1, bytes(data[s:e]))
        except reference.FormatError:
            bad.append(i)
    return bad, checked


def describe_damage(copy, damaged):
    """One line per damaged file of a copy: its size, whether that is a size the format has,
    and for its damaged blocks whether they are all zero bytes (Z) or end in N zero bytes (zN)
    — zeros are what the kernel fills in after a short read reply."""
    by_file = {}
    lines = []
    for d in damaged:
        if d.get("cipher_path"):
            by_file.setdefault(d["cipher_path"].lstrip("/"), []).append(d)
        else:
            lines.append(json.dumps(d))
    for rel, items in sorted(by_file.items()):
        p = os.path.join(copy, rel)
        try:
            data = read_all(p)
        except OSError as e:
            lines.append("%s: %s" % (rel, e))
            continue
        size_ok = any(reference.cipher_size(q) == len(data)
                      for q in range(max(0, len(data) - 16 * (len(data) // BLOCK + 2)),
                                     len(data) + 1))
        marks = []
        for d in items:
            if d.get("block") is None:
                marks.append(d["kind"])
                continue
            blk = data[d["block"] * CB:(d["block"] + 1) * CB]
            tail = len(blk) - len(blk.rstrip(b"\0"))
            marks.append("%d:%s" % (d["block"], "Z" if tail == len(blk) else "z%d" % tail))
        lines.append("%s (%s): %d bytes (%s), damaged %s" % (
            items[0].get("path"), rel, len(data), "a format size" if size_ok else
            "NOT a format size", " ".join(marks[:40])))
    return "\n".join(lines)


def deadline(seconds):
    """Runs the test body in a thread; a body still running after `seconds` fails the test
    (tearDown then closes the test's mounts, which ends any call stuck in the view)."""
    def wrap(fn):
        @functools.wraps(fn)
        def run(self):
            box = {}

            def body():
                try:
                    fn(self)
                except BaseException as e:  # re-raised in the test's thread
                    box["exc"] = e
            t = threading.Thread(target=body, daemon=True, name=fn.__name__)
            t.start()
            t.join(seconds)
            if t.is_alive():
                self.fail("%s still running after %d s (a blocking call in the view?)\n%s" % (
                    fn.__name__, seconds, self.daemon_logs()))
            if "exc" in box:
                raise box["exc"]
        return run
    return wrap


class LiveCase(unittest.TestCase):
    """A Setup (key, password) per class; mounts registered per test and always closed."""

    @classmethod
    def setUpClass(cls):
        mountlib.require_fuse()
        cls.work = mountlib.Setup(prefix="encfsr-live-it-")
        cls.keys = reference.Keys(reference.paper_key_to_master(cls.work.paper_key))
        cls._class_mounts = []

    @classmethod
    def tearDownClass(cls):
        for m in reversed(getattr(cls, "_class_mounts", [])):
            m.close()
        reap_stragglers()
        if hasattr(cls, "work"):
            cls.work.cleanup()

    def setUp(self):
        self._mounts = []
        self._fifos = []

    def tearDown(self):
        # A test that failed may have left daemon threads blocked opening a FIFO: let them go
        # (a writer opens and closes it), so the unmount below is quick.
        for path in self._fifos:
            for _ in range(3):
                try:
                    os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
                except OSError:
                    pass
                time.sleep(0.05)
        for m in reversed(self._mounts):
            m.close()
        reap_stragglers()

    def make_fifo(self, path, replace=False):
        if replace:
            os.unlink(path)
        os.mkfifo(path)
        self._fifos.append(path)

    @classmethod
    def mount_class(cls, source, mode="reverse", **kw):
        m = Mount(source, cls.work.mountpoint(), mode=mode, **kw)
        m.__enter__()
        cls._class_mounts.append(m)
        return m

    def mount(self, source, mnt=None, mode="reverse", **kw):
        """A started Mount, closed in tearDown (use it as a context manager to close earlier)."""
        m = Mount(source, mnt or self.work.mountpoint(), mode=mode, **kw)
        self._mounts.append(m)
        m.__enter__()
        return m

    def decrypt_mount(self, copy, **kw):
        return self.mount(copy, mode="decrypt",
                          key_options=["--password-file", self.work.password_file], **kw)

    def daemon_logs(self):
        out = []
        for m in list(getattr(self, "_mounts", [])) + list(getattr(self, "_class_mounts", [])):
            out.append("daemon for %s:\n%s" % (m.path, m.stderr_text()[-4000:]))
        return "\n".join(out)

    def cipher_rel(self, plain_path, encoding="base64url"):
        """Path (relative to a view or copy root) of a plaintext view path, by the reference."""
        node = self.keys.root_id()
        out = []
        for part in [p for p in plain_path.split("/") if p]:
            out.append(reference.encrypt_name(self.keys, node, part, encoding)[0])
            node = self.keys.child_id(node, part)
        return "/".join(out)

    def cipher(self, root, plain_path):
        return os.path.join(root, self.cipher_rel(plain_path))

    def sealed(self, plain_path, data):
        return reference.seal_content(self.keys, self.keys.id_of(plain_path), data)

    def encfsr(self, *args, timeout=120):
        return mountlib.run([mountlib.encfsr_bin()] + [str(a) for a in args], check=False,
                            timeout=timeout)

    def verify_json(self, copy, timeout=120):
        proc = self.encfsr("verify", "--password-file", self.work.password_file, "--json", copy,
                           timeout=timeout)
        try:
            report = json.loads(text(proc.stdout))
        except ValueError as e:
            self.fail("verify --json printed no JSON (%s): %r / %r" % (e, proc.stdout,
                                                                        proc.stderr))
        return proc, report

    def assert_verifies_clean(self, copy, msg=""):
        proc, report = self.verify_json(copy)
        self.assertEqual(report["damaged"], [], "%s\n%s" % (msg, self.daemon_logs()))
        self.assertEqual(proc.returncode, 0, text(proc.stderr))
        return report

    def assert_clean_unmount(self, m):
        """Unmounts now: the daemon must have been alive and must exit 0 on its own."""
        self.assertTrue(m.alive(), "daemon died:\n" + m.stderr_text())
        start = time.monotonic()
        m.close()
        took = time.monotonic() - start
        self.assertFalse(mountlib.is_mounted(m.path))
        self.assertEqual(m.returncode, 0, "daemon exit after unmount (%.1f s; a negative code "
                         "means it had to be killed):\n%s" % (took, m.stderr_text()[-4000:]))


# ---------------------------------------------------------------------------- 1. torn blocks

class TornBlockTest(LiveCase):
    """A 4,112-byte cipher block straddles page boundaries, so two FUSE reads of one open cut it
    in two. With the plaintext edited in place between the two, the view must serve the earlier
    seal again or EIO: every block a reader obtains whole must authenticate."""

    SIZE = 8 * MiB + 777  # a short last block too

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.src = cls.work.mkdir("torn")
        rng = random.Random(8)
        for i in range(6):
            write_file(os.path.join(cls.src, "big%d" % i), rng.randbytes(cls.SIZE))
        for i in range(10):
            write_file(os.path.join(cls.src, "small%d" % i), rng.randbytes(rng.randrange(1, 9000)))
        cls.m = cls.mount_class(cls.work.config([{"name": "torn", "path": cls.src}]))

    def tearDown(self):
        super().tearDown()
        self.assertTrue(self.m.alive(), "daemon died:\n" + self.m.stderr_text())

    def edit_block(self, fd, rng, cipher_offset):
        """Rewrites, in place and at the same size, the plaintext block holding cipher_offset."""
        index = cipher_offset // CB
        start = index * BLOCK
        n = min(BLOCK, self.SIZE - start)
        if n > 0:
            os.pwrite(fd, rng.randbytes(n), start)

    def read_plan(self, name, steps, advice, seed):
        """Reads the view of `name` through one fd, step by step: a step is (offset, length,
        evict). Before every step but the first, the plaintext blocks at both ends of the step's
        range are rewritten; evict drops the view fd's page cache (POSIX_FADV_DONTNEED) before
        the read. Bytes are assembled latest-read-wins (what a tool combining its reads has);
        every block fully obtained must authenticate."""
        rng = random.Random(seed)
        plain_path = "torn/" + name
        view = self.cipher(self.m.path, plain_path)
        size = reference.cipher_size(self.SIZE)
        self.assertEqual(os.stat(view).st_size, size)
        data, have = bytearray(size), bytearray(size)
        eio = 0
        pfd = os.open(os.path.join(self.src, name), os.O_WRONLY)
        fd = os.open(view, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, advice)
            for j, (off, length, evict) in enumerate(steps):
                if j > 0:
                    self.edit_block(pfd, rng, off)
                    self.edit_block(pfd, rng, min(off + length, size) - 1)
                if evict:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                try:
                    got = os.pread(fd, length, off)
                except OSError as e:
                    self.assertEqual(e.errno, errno.EIO, "read at %d: %s" % (off, e))
                    self.assertGreater(j, 0, "the first read, before any edit, failed")
                    eio += 1
                    continue
                data[off:off + len(got)] = got
                have[off:off + len(got)] = b"\1" * len(got)
        finally:
            os.close(fd)
            os.close(pfd)
        bad, checked = unauthentic_blocks(self.keys, self.keys.id_of(plain_path), data, have)
        self.assertEqual(bad, [], "%d of %d whole blocks mix two seals (%d reads, %d EIO)\n%s" % (
            len(bad), checked, len(steps), eio, self.daemon_logs()))
        self.assertGreater(checked, 0)
        # The view is not stuck: a fresh open serves the current plaintext.
        self.assertTrue(read_all(view) == self.sealed(plain_path, read_all(
            os.path.join(self.src, name))), "a fresh open does not serve the current plaintext")
        return checked, eio

    def cuts(self, rng, lo, hi):
        """Consecutive (offset, length) ranges of random lengths covering the cipher file."""
        size = reference.cipher_size(self.SIZE)
        out, off = [], 0
        while off < size:
            n = min(rng.randrange(lo, hi), size - off)
            out.append((off, n))
            off += n
        return out

    @deadline(60)
    def test_random_order_aligned_64k_reads_with_edits_between_never_tear_a_block(self):
        size = reference.cipher_size(self.SIZE)
        steps = [(off, 65536, False) for off in range(0, size, 65536)]
        random.Random(1).shuffle(steps)
        self.read_plan("big0", steps, os.POSIX_FADV_RANDOM, 11)

    @deadline(60)
    def test_random_order_unaligned_reads_with_edits_between_never_tear_a_block(self):
        rng = random.Random(2)
        steps = [(off, n, False) for off, n in self.cuts(rng, 1000, 140000)]
        rng.shuffle(steps)
        self.read_plan("big1", steps, os.POSIX_FADV_RANDOM, 12)

    @deadline(60)
    def test_sequential_unaligned_reads_with_page_cache_eviction_never_tear_a_block(self):
        steps = [(off, n, True) for off, n in self.cuts(random.Random(3), 1000, 140000)]
        self.read_plan("big2", steps, os.POSIX_FADV_NORMAL, 13)

    @deadline(60)
    def test_rereads_after_page_cache_eviction_never_tear_a_block(self):
        # Each range read, evicted, re-read after the edit (latest wins): a block cut by the
        # first read of a range must come back from the same seal when the range is re-read.
        steps = []
        for off, n in self.cuts(random.Random(4), 3000, 70000):
            steps += [(off, n, True), (off, n, True)]
        self.read_plan("big3", steps, os.POSIX_FADV_RANDOM, 14)

    @deadline(120)
    def test_rsync_while_a_writer_edits_in_place_copies_only_authentic_blocks(self):
        """rsync -a of the view while a thread rewrites 4 KiB pieces of big4/big5 in place,
        three times, each into a fresh copy. A read the view refuses (EIO) makes rsync name the
        file ("read errors mapping"), zero-fill the rest, keep it and exit 23: damage in such a
        file is reported. Damage in any other file is a torn block served silently (rsync's
        checksum is of what it read, so it cannot notice). A file missing from the copy without
        rsync naming it would be an error hidden."""
        stop = threading.Event()
        edits = [0]

        def writer():
            rng = random.Random(5)
            fds = [os.open(os.path.join(self.src, n), os.O_WRONLY) for n in ("big4", "big5")]
            try:
                while not stop.is_set():
                    os.pwrite(rng.choice(fds), rng.randbytes(4096),
                              rng.randrange(0, self.SIZE - 4096))
                    edits[0] += 1
                    if edits[0] % 16 == 0:
                        time.sleep(0.0005)
            finally:
                for fd in fds:
                    os.close(fd)

        big_rel = {n: self.cipher_rel("torn/" + n) for n in ("big4", "big5")}
        t = threading.Thread(target=writer, daemon=True)
        t.start()
        try:
            results = []
            for run in range(3):
                copy = self.work.path("rsync-copy%d" % run)
                proc = mountlib.run(["rsync", "-a", self.m.path + "/", copy + "/"], check=False,
                                    timeout=180)
                results.append((copy, proc))
        finally:
            stop.set()
            t.join(30)
        self.assertGreater(edits[0], 100, "the writer hardly ran")
        for copy, proc in results:
            err = text(proc.stderr)
            self.assertIn(proc.returncode, (0, 23, 24), err)
            named = set(re.findall(r'"%s/([^"]+)"' % re.escape(self.m.path), err))
            proc_v, report = self.verify_json(copy)
            silent = [d for d in report["damaged"]
                      if (d.get("cipher_path") or "").lstrip("/") not in named]
            self.assertEqual(silent, [], "damage in files rsync copied without an error "
                             "(rsync exit %d: %s)\n%s\n%s" % (
                                 proc.returncode, err[-2000:], describe_damage(copy, silent),
                                 self.daemon_logs()))
            for n, rel in big_rel.items():
                if os.path.basename(rel) not in err:
                    self.assertTrue(os.path.isfile(os.path.join(copy, rel)),
                                    "%s missing from the copy, rsync said nothing" % n)
            # The files nobody wrote are all there and exact.
            for i in range(10):
                p = "torn/small%d" % i
                self.assertEqual(read_all(os.path.join(copy, self.cipher_rel(p))),
                                 self.sealed(p, read_all(os.path.join(self.src, "small%d" % i))))
            shutil.rmtree(copy)


# ------------------------------------------------------------------ 2. grown after the stat

class GrowingFileTest(LiveCase):
    """A 5,000-byte file is stat'ed through the view (the kernel caches its size), then grows
    by 5,000 bytes, then is copied: the copy must be the file at one of its sizes and verify
    clean (today the tool reads the old cipher size of the new file: a damaged last block)."""

    OLD = 5000
    ADDED = 5000

    def setUp(self):
        super().setUp()
        self.src = self.work.mkdir("grow-%s" % self._testMethodName)
        self.rng = random.Random(self._testMethodName)
        for n in ("a", "b", "c"):
            write_file(os.path.join(self.src, n), self.rng.randbytes(3000))
        self.old = self.rng.randbytes(self.OLD)
        write_file(os.path.join(self.src, "g"), self.old)
        self.new = self.old + self.rng.randbytes(self.ADDED)
        # Long attribute timeouts: the kernel keeps the size of the stat for the whole test.
        self.config = self.work.config([{"name": "s", "path": self.src}],
                                       mount={"entry_timeout": 30, "attr_timeout": 30})

    def grow_after_stat(self, m):
        view = self.cipher(m.path, "s/g")
        self.assertEqual(os.stat(view).st_size, reference.cipher_size(self.OLD))
        with open(os.path.join(self.src, "g"), "ab") as f:
            f.write(self.new[self.OLD:])
        return view

    def assert_one_of_its_sizes(self, copy):
        data = read_all(os.path.join(copy, self.cipher_rel("s/g")))
        try:
            plain = reference.open_content(self.keys, self.keys.id_of("s/g"), data)
        except reference.FormatError as e:
            self.fail("copy of the grown file (%d bytes) does not authenticate: %s\n%s" % (
                len(data), e, self.daemon_logs()))
        self.assertIn(len(plain), (self.OLD, len(self.new)))
        self.assertTrue(plain == self.new[:len(plain)])
        self.assert_verifies_clean(copy)

    def copy_then_grow(self, m):
        copy = self.work.path("copy-" + self._testMethodName)
        mountlib.run(["cp", "-a", m.path, copy], timeout=60)
        self.assert_verifies_clean(copy, "the copy before the growth")
        return copy, self.grow_after_stat(m)

    @deadline(120)
    def test_cat_of_file_grown_after_stat_is_the_file_at_one_of_its_sizes(self):
        m = self.mount(self.config)
        copy, view = self.copy_then_grow(m)
        mountlib.run(["sh", "-c", 'cat "$0" > "$1"', view,
                      os.path.join(copy, self.cipher_rel("s/g"))], timeout=30)
        self.assert_one_of_its_sizes(copy)

    @deadline(120)
    def test_cp_of_file_grown_after_stat_is_the_file_at_one_of_its_sizes(self):
        m = self.mount(self.config)
        copy, view = self.copy_then_grow(m)
        mountlib.run(["cp", view, os.path.join(copy, self.cipher_rel("s/g"))], timeout=30)
        self.assert_one_of_its_sizes(copy)

    @deadline(120)
    def test_tar_of_file_grown_after_stat_extracts_to_a_clean_copy(self):
        # tar is given the file itself: a directory walk would list the directory first, and
        # readdirplus would refresh the cached size before tar's own lstat.
        m = self.mount(self.config)
        copy, _ = self.copy_then_grow(m)
        archive = self.work.path("grow.tar")
        # "./": a base64url name may start with "-", which tar would take for an option.
        proc = mountlib.run(["tar", "-cf", archive, "-C", m.path, "./" + self.cipher_rel("s/g")],
                            check=False, timeout=60)
        # 1: "file changed as we read it" is tar's honest warning, not a failure
        self.assertIn(proc.returncode, (0, 1), text(proc.stderr))
        listing = text(mountlib.run(["tar", "-tvf", archive]).stdout)
        self.assertIn(self.cipher_rel("s/g"), listing)
        mountlib.run(["tar", "-xf", archive, "-C", copy], timeout=60)
        self.assert_one_of_its_sizes(copy)


# ----------------------------------------------------------------------------- 3. stale cache

class StaleCacheTest(LiveCase):
    """Content changed without a change of size or mtime (ctime changes) must be served after a
    reopen, not the old ciphertext from the kernel's page cache."""

    MTIME = 1700000000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.src = cls.work.mkdir("stale")
        write_file(os.path.join(cls.src, "stay"), b"stay")
        cls.m = cls.mount_class(cls.work.config([{"name": "st", "path": cls.src}]))

    def tearDown(self):
        super().tearDown()
        self.assertTrue(self.m.alive(), "daemon died:\n" + self.m.stderr_text())

    def read_twice(self, name, data):
        view = self.cipher(self.m.path, "st/" + name)
        for _ in range(2):  # two opens: the second one may keep the page cache
            self.assertTrue(read_all(view) == self.sealed("st/" + name, data))
        return view

    @deadline(60)
    def test_in_place_edit_keeping_size_and_mtime_is_seen_after_reopen(self):
        rng = random.Random(31)
        old = rng.randbytes(100000)
        path = os.path.join(self.src, "edited")
        write_file(path, old, mtime=self.MTIME)
        view = self.read_twice("edited", old)
        ctime = os.stat(path).st_ctime_ns
        new = bytearray(old)
        new[50000:50100] = rng.randbytes(100)
        time.sleep(0.01)  # a ctime the edit surely changes
        with open(path, "r+b") as f:
            f.seek(50000)
            f.write(new[50000:50100])
        mountlib.set_mtime(path, self.MTIME)
        st = os.stat(path)
        self.assertEqual((st.st_size, st.st_mtime_ns), (len(old), self.MTIME * 10**9))
        self.assertNotEqual(st.st_ctime_ns, ctime)
        got = read_all(view)
        self.assertTrue(got == self.sealed("st/edited", bytes(new)),
                        "old ciphertext served after a reopen" if got == self.sealed(
                            "st/edited", old) else "wrong ciphertext served after a reopen")

    @deadline(60)
    def test_file_replaced_under_the_same_name_size_and_mtime_is_seen_after_reopen(self):
        rng = random.Random(32)
        old, new = rng.randbytes(50000), rng.randbytes(50000)
        path = os.path.join(self.src, "replaced")
        write_file(path, old, mtime=self.MTIME)
        view = self.read_twice("replaced", old)
        os.unlink(path)  # the new file may well get the same inode number
        write_file(path, new, mtime=self.MTIME)
        got = read_all(view)
        self.assertTrue(got == self.sealed("st/replaced", new),
                        "old ciphertext served after a reopen" if got == self.sealed(
                            "st/replaced", old) else "wrong ciphertext served after a reopen")

    @deadline(60)
    def test_directory_left_out_for_a_mount_on_it_is_listed_again_once_unmounted(self):
        """With one_file_system, a directory with another filesystem mounted on it is left out.
        Unmounting it changes no timestamp the view can see (not its parent's, not its own), so
        the parent's next listing must be a new pass, not the previous one served again."""
        if os.geteuid() != 0:
            if mountlib.in_ci():
                self.fail("CI=true but not root: cannot mount a tmpfs")
            self.skipTest("needs root to mount a tmpfs")
        src = self.work.mkdir("ofs-unmount")
        write_file(os.path.join(src, "top"), b"top")
        other = os.path.join(src, "other")
        write_file(os.path.join(other, "below"), b"below")
        mountlib.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", other])
        mounted = True
        try:
            # Every timestamp over a second old, so that a pass over the source's root may be
            # served again (what is checked here is that this one is not).
            time.sleep(2.2)
            m = self.mount(self.work.config([{"name": "ofs", "path": src}],
                                            one_file_system=True))

            def walk():
                proc, took = bounded(["find", m.path], 20)
                self.assertIsNotNone(proc, "find still running after %.0f s\n%s" % (
                    took, m.stderr_text()))
                self.assertEqual(proc.returncode, 0, text(proc.stderr))
                return text(proc.stdout).splitlines()

            inner = self.cipher(m.path, "ofs/other")
            for _ in range(2):  # a pass, then (past the 1 s ttl) a pass that could be reused
                lines = walk()
                self.assertIn(self.cipher(m.path, "ofs/top"), lines)
                self.assertNotIn(inner, lines)
                time.sleep(1.2)
            mountlib.run(["umount", other])
            mounted = False
            time.sleep(1.2)
            lines = walk()
            self.assertIn(inner, lines)
            self.assertIn(self.cipher(m.path, "ofs/other/below"), lines)
            self.assert_clean_unmount(m)
        finally:
            if mounted:
                mountlib.run(["umount", "-l", other], check=False)


# -------------------------------------------------------------------------- 4. nothing blocks

class NoBlockingTest(LiveCase):
    """No open, listing or walk may block: FIFOs in a source or in a copy, and a mountpoint
    inside a source."""

    OPEN_DEADLINE = 3.0  # "an errno within a second", with slack for a loaded CI machine
    TOOL_DEADLINE = 8.0  # verify, restore, ls, find of a few files: "within a few seconds"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        src = cls.work.mkdir("nb")
        rng = random.Random(41)
        cls.long_name = "L" * 200
        for n in ("victim", "other", cls.long_name, "sub/inner"):
            write_file(os.path.join(src, n), rng.randbytes(6000))
        cls.src = src
        cls.config = cls.work.config([{"name": "nb", "path": src}])
        cls.pristine = cls.work.path("pristine")
        with Mount(cls.config, cls.work.mountpoint()) as m:
            mountlib.run(["cp", "-a", m.path, cls.pristine], timeout=120)
        cls.copies = 0

    def fresh_copy(self):
        type(self).copies += 1
        copy = self.work.path("copy%d" % self.copies)
        shutil.copytree(self.pristine, copy, symlinks=True)
        return copy

    def assert_finishes_naming(self, args, names, what):
        proc, took = bounded(args, self.TOOL_DEADLINE)
        self.assertIsNotNone(proc, "%s still running after %.0f s" % (what, took))
        out = text(proc.stdout) + text(proc.stderr)
        self.assertNotEqual(proc.returncode, 0, "%s exit 0:\n%s" % (what, out))
        self.assertTrue(any(n in out for n in names), "%s names none of %s:\n%s" % (
            what, names, out))
        return proc

    def verify_and_restore_name(self, copy, names, what):
        key = ["--password-file", self.work.password_file]
        with self.subTest(tool="verify"):
            self.assert_finishes_naming([mountlib.encfsr_bin(), "verify"] + key + [copy], names,
                                        "verify of a copy with %s" % what)
        with self.subTest(tool="restore"):
            self.assert_finishes_naming([mountlib.encfsr_bin(), "restore"] + key + [
                copy, self.work.path("dest-" + self._testMethodName)], names,
                "restore of a copy with %s" % what)

    # --- in a source

    @deadline(45)
    def test_source_file_swapped_for_a_fifo_after_lookup_gives_an_errno(self):
        src = self.work.mkdir("swap")
        write_file(os.path.join(src, "f"), b"plain file" * 100)
        m = self.mount(self.work.config([{"name": "sw", "path": src}]))
        view = self.cipher(m.path, "sw/f")
        self.assertEqual(os.stat(view).st_size, reference.cipher_size(1000))  # the lookup
        self.make_fifo(os.path.join(src, "f"), replace=True)
        outcome, took = open_read_in_child(view, self.OPEN_DEADLINE)
        self.assertTrue(outcome.startswith("errno "), "open of a view file whose source is now a "
                        "FIFO: %s after %.1f s\n%s" % (outcome, took, m.stderr_text()))
        self.assert_clean_unmount(m)

    @deadline(45)
    def test_fifo_named_cachedir_tag_with_exclude_caches_lists_and_walks(self):
        src = self.work.mkdir("cachefifo")
        write_file(os.path.join(src, "cache/data"), b"data")
        write_file(os.path.join(src, "top"), b"top")
        self.make_fifo(os.path.join(src, "cache/CACHEDIR.TAG"))
        m = self.mount(self.work.config([{"name": "cf", "path": src, "exclude_caches": True}]))
        root = self.cipher(m.path, "cf")
        proc, took = bounded(["ls", "-la", root], self.TOOL_DEADLINE)
        self.assertIsNotNone(proc, "listing still running after %.0f s\n%s" % (
            took, m.stderr_text()))
        self.assertEqual(proc.returncode, 0, text(proc.stderr))
        proc, took = bounded(["find", m.path], self.TOOL_DEADLINE)
        self.assertIsNotNone(proc, "find still running after %.0f s\n%s" % (
            took, m.stderr_text()))
        self.assertEqual(proc.returncode, 0, text(proc.stderr))
        self.assertIn(self.cipher(m.path, "cf/top"), text(proc.stdout).splitlines())
        self.assert_clean_unmount(m)

    def mountpoint_inside_source(self, one_file_system):
        src = self.work.mkdir("inside-%s" % one_file_system)
        write_file(os.path.join(src, "top"), b"top")
        write_file(os.path.join(src, "sub/file"), b"file")
        mnt = os.path.join(src, "sub", "mnt")
        os.makedirs(mnt)
        m = self.mount(self.work.config([{"name": "in", "path": src}],
                                        one_file_system=one_file_system), mnt=mnt)
        proc, took = bounded(["find", m.path], 20)
        self.assertIsNotNone(proc, "find of a view mounted inside its source still running "
                             "after %.0f s\n%s" % (took, m.stderr_text()))
        lines = text(proc.stdout).splitlines()
        inner = self.cipher(m.path, "in/sub/mnt")
        below = [p for p in lines if p.startswith(inner + "/")]
        self.assertEqual(below, [], "the walk descended into the view itself (%d entries; find "
                         "exit %d: %s)" % (len(below), proc.returncode, text(proc.stderr)[:2000]))
        for p in ("in", "in/top", "in/sub", "in/sub/file"):
            self.assertIn(self.cipher(m.path, p), lines)
        self.assertLess(len(lines), 10, lines)
        self.assert_clean_unmount(m)

    @deadline(45)
    def test_mountpoint_inside_source_with_one_file_system_is_not_descended(self):
        self.mountpoint_inside_source(True)

    @deadline(45)
    def test_mountpoint_inside_source_without_one_file_system_is_not_descended(self):
        self.mountpoint_inside_source(False)

    # --- in a copy

    def decrypt_mount_does_not_block(self, copy, plain, open_fails):
        """Through `mount --decrypt`: listing the entry's directory and opening the entry both
        finish; with open_fails the open (or read) gives an errno."""
        with self.subTest(tool="mount --decrypt"):
            m = self.decrypt_mount(copy)
            parent = os.path.join(m.path, os.path.dirname(plain))
            proc, took = bounded(["ls", "-l", parent], self.TOOL_DEADLINE)
            self.assertIsNotNone(proc, "decrypt mount, listing still running after %.0f s\n%s"
                                 % (took, m.stderr_text()))
            outcome, took = open_read_in_child(os.path.join(m.path, plain), self.OPEN_DEADLINE)
            self.assertNotEqual(outcome, "TIMEOUT", "decrypt mount, open of %s still running "
                                "after %.1f s\n%s" % (plain, took, m.stderr_text()))
            if open_fails:
                self.assertTrue(outcome.startswith("errno "), "decrypt mount, open of %s: %s\n%s"
                                % (plain, outcome, m.stderr_text()))
            self.assert_clean_unmount(m)

    @deadline(45)
    def test_copy_content_file_replaced_by_fifo(self):
        copy = self.fresh_copy()
        rel = self.cipher_rel("nb/victim")
        self.make_fifo(os.path.join(copy, rel), replace=True)
        self.verify_and_restore_name(copy, ["nb/victim", os.path.basename(rel)],
                                     "a FIFO for a content file")
        self.decrypt_mount_does_not_block(copy, "nb/victim", open_fails=True)

    @deadline(45)
    def test_copy_long_name_side_file_replaced_by_fifo(self):
        copy = self.fresh_copy()
        rel = self.cipher_rel("nb/" + self.long_name)
        self.assertTrue(os.path.basename(rel).startswith("encfsr.long."), rel)
        self.assertTrue(os.path.isfile(os.path.join(copy, rel + ".name")))
        self.make_fifo(os.path.join(copy, rel + ".name"), replace=True)
        self.verify_and_restore_name(copy, ["nb/" + self.long_name, os.path.basename(rel)],
                                     "a FIFO for a side file")
        # A lookup by plaintext name needs no side file; a listing does.
        self.decrypt_mount_does_not_block(copy, "nb/" + self.long_name, open_fails=False)

    @deadline(45)
    def test_copy_key_file_replaced_by_fifo(self):
        copy = self.fresh_copy()
        self.make_fifo(os.path.join(copy, "encfsr.key"), replace=True)
        self.verify_and_restore_name(copy, ["encfsr.key"], "a FIFO for encfsr.key")
        # The decrypt mount needs the copy's key file: it must give up, not hang.
        with self.subTest(tool="mount --decrypt"):
            m = Mount(copy, self.work.mountpoint(), mode="decrypt",
                      key_options=["--password-file", self.work.password_file],
                      timeout=self.TOOL_DEADLINE)
            self._mounts.append(m)
            with self.assertRaises(MountError) as cm:
                m.__enter__()
            self.assertIn("exited", str(cm.exception), "mount --decrypt hung on a FIFO key file")
            self.assertIn("encfsr.key", str(cm.exception))


# ------------------------------------------------------------------- 5. errors never hidden

class ErrorsReportedTest(LiveCase):
    """An entry the daemon cannot read is listed and its error reported to the tool, never
    turned into a silently missing entry. The daemon runs as root without CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH, so file modes bind it."""

    def unreadable_tree(self, tag):
        src = self.work.mkdir("unreadable-" + tag)
        for n in ("a/one", "a/two", "locked/secret1", "locked/deeper/secret2", "z/last", "top"):
            write_file(os.path.join(src, n), n.encode() * 50)
        os.chmod(os.path.join(src, "locked"), 0)
        self.addCleanup(os.chmod, os.path.join(src, "locked"), 0o755)
        return src

    def daemon_without_dac(self, config):
        m = self.mount(config, prefix=SETPRIV)
        caps = cap_effective(m.pid)
        self.assertEqual(caps & ((1 << CAP_DAC_OVERRIDE) | (1 << CAP_DAC_READ_SEARCH)), 0,
                         "the daemon still has DAC capabilities: CapEff %x" % caps)
        return m

    def unreadable_dir_reported(self, **source_options):
        tag = "-".join(sorted(source_options)) or "plain"
        src = self.unreadable_tree(tag)
        one_file_system = source_options.pop("one_file_system", None)
        m = self.daemon_without_dac(self.work.config([dict(name="u", path=src,
                                                           **source_options)],
                                                     one_file_system=one_file_system))
        locked = self.cipher(m.path, "u/locked")
        listing = os.listdir(self.cipher(m.path, "u"))
        self.assertIn(os.path.basename(locked), listing,
                      "the unreadable directory is not listed\n" + m.stderr_text())
        st = os.lstat(locked)
        self.assertTrue(stat.S_ISDIR(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0)
        # find: exit non-zero, "Permission denied" on that directory
        proc, took = bounded(["find", m.path], 60)
        self.assertIsNotNone(proc, "find still running")
        err = text(proc.stderr)
        self.assertNotEqual(proc.returncode, 0, "find reported no error")
        self.assertRegex(err, re.escape(locked) + r".*Permission denied")
        found = set(text(proc.stdout).splitlines())
        for p in ("u/a/one", "u/a/two", "u/z/last", "u/top", "u/locked"):
            self.assertIn(self.cipher(m.path, p), found, p)
        # rsync: exit 23, every other entry copied
        dest = self.work.path("rsync-" + tag)
        proc, took = bounded(["rsync", "-a", m.path + "/", dest + "/"], 120)
        self.assertIsNotNone(proc, "rsync still running")
        self.assertEqual(proc.returncode, 23, text(proc.stderr))
        self.assertIn("Permission denied", text(proc.stderr))
        want = set(mountlib.view_walk(m.path))  # os.walk skips what it cannot list
        self.assertIn(self.cipher_rel("u/locked"), want)
        got = set(mountlib.view_walk(dest))
        self.assertEqual(got, want)
        for p in ("u/a/one", "u/z/last", "u/top"):
            self.assertEqual(read_all(os.path.join(dest, self.cipher_rel(p))),
                             self.sealed(p, read_all(os.path.join(src, p[2:]))))
        self.assert_clean_unmount(m)

    @deadline(120)
    def test_unreadable_directory_with_one_file_system_is_listed_and_reported(self):
        self.unreadable_dir_reported(one_file_system=True)

    @deadline(120)
    def test_unreadable_directory_with_exclude_caches_is_listed_and_reported(self):
        self.unreadable_dir_reported(exclude_caches=True)

    @deadline(120)
    def test_unreadable_directory_without_options_is_listed_and_reported(self):
        self.unreadable_dir_reported()

    @deadline(150)
    def test_entries_whose_lookup_fails_do_not_hide_the_others_in_a_listing(self):
        """Three dead FUSE mounts among 200 files of a source directory: the daemon lists them
        (getdents works) but its stat of each gives ENOTCONN. The listing is read the way a
        tool stat'ing as it goes reads it (os.scandir + lstat per entry), so the kernel asks
        for READDIRPLUS, which looks every entry up: a failed lookup must neither end the
        listing nor hide the entries after it, and the failing entries stay listed."""
        src = self.work.mkdir("deadlookups")
        names = ["f%03d" % i for i in range(200)]
        for n in names:
            write_file(os.path.join(src, n), n.encode())
        inner_src = self.work.mkdir("inner-src")
        write_file(os.path.join(inner_src, "x"), b"x")
        # no attribute caching: the kernel must ask the (dead) daemon at once
        inner_config = self.work.config([{"name": "i", "path": inner_src}],
                                        mount={"entry_timeout": 0, "attr_timeout": 0})
        dead = ("dead1", "dead2", "dead3")
        for d in dead:
            os.makedirs(os.path.join(src, d))
        # The only FUSE filesystem at hand is encfsr, and a view leaves out the encfsr mounts
        # inside its sources that exist when it is mounted: the dead ones come after.
        m = self.mount(self.work.config([{"name": "dl", "path": src}]))
        for d in dead:
            inner = self.mount(inner_config, mnt=os.path.join(src, d))
            inner.proc.kill()
            inner.proc.wait(10)
            self.assertTrue(mountlib.is_mounted(os.path.join(src, d)))
            mountlib.expect_errno(self, errno.ENOTCONN, os.stat, os.path.join(src, d))
        dirpath = self.cipher(m.path, "dl")
        order = sorted(os.path.basename(self.cipher_rel("dl/" + n)) for n in names + list(dead))
        script = (
            "import errno, os, sys\n"
            "for e in os.scandir(sys.argv[1]):\n"
            "    try:\n"
            "        e.stat(follow_symlinks=False)\n"
            "        print(e.name, 'ok')\n"
            "    except OSError as x:\n"
            "        print(e.name, errno.errorcode.get(x.errno, x.errno))\n")
        proc, took = bounded([sys.executable, "-c", script, dirpath], 30)
        self.assertIsNotNone(proc, "listing still running")
        self.assertEqual(proc.returncode, 0, "listing failed: %s\n%s" % (
            text(proc.stderr), m.stderr_text()))
        listed = dict(line.split(" ", 1) for line in text(proc.stdout).splitlines())
        positions = sorted(order.index(os.path.basename(self.cipher_rel("dl/" + d)))
                           for d in dead)
        missing = [n for n in names if os.path.basename(self.cipher_rel("dl/" + n)) not in listed]
        self.assertEqual(missing, [], "%d entries hidden by failed lookups (the failing ones are "
                         "at %s of %d in name order)\n%s" % (len(missing), positions, len(order),
                                                            m.stderr_text()[-3000:]))
        for n in names:
            self.assertEqual(listed[os.path.basename(self.cipher_rel("dl/" + n))], "ok", n)
        # The failing entries themselves are errors to report, not entries to hide: listed,
        # and a lookup gives the error (or works), never ENOENT.
        for d in dead:
            name = os.path.basename(self.cipher_rel("dl/" + d))
            self.assertIn(name, listed, "%s hidden from the listing" % d)
            self.assertNotEqual(listed[name], "ENOENT", "%s: listed, but not found" % d)
        self.assert_clean_unmount(m)

    @deadline(120)
    def test_entries_of_a_listable_but_unsearchable_directory_are_never_silently_missing(self):
        """A directory of mode 0444: the daemon (no DAC capabilities) may list it but can stat
        nothing in it. Either the listing fails with EACCES (the error is the directory's), or
        every entry is listed and each lookup gives EACCES. Never a listing with entries
        silently missing, and find reports the error either way."""
        src = self.work.mkdir("unsearchable")
        names = ["e%02d" % i for i in range(20)]
        for n in names:
            write_file(os.path.join(src, "d", n), n.encode())
        write_file(os.path.join(src, "other"), b"other")
        os.chmod(os.path.join(src, "d"), 0o444)
        self.addCleanup(os.chmod, os.path.join(src, "d"), 0o755)
        m = self.daemon_without_dac(self.work.config([{"name": "us", "path": src}]))
        d = self.cipher(m.path, "us/d")
        script = ("import errno, os, sys\n"
                  "try:\n"
                  "    print('\\n'.join(os.listdir(sys.argv[1])))\n"
                  "except OSError as e:\n"
                  "    print('errno', errno.errorcode.get(e.errno, e.errno))\n")
        proc, took = bounded([sys.executable, "-c", script, d], 15)
        self.assertIsNotNone(proc, "listing still running")
        lines = text(proc.stdout).splitlines()
        proc_find, took = bounded(["find", m.path], 30)
        self.assertIsNotNone(proc_find, "find still running")
        self.assertNotEqual(proc_find.returncode, 0, "find reported no error")
        err = text(proc_find.stderr)
        if lines == ["errno EACCES"]:
            self.assertRegex(err, re.escape(d) + r".*Permission denied")
        else:
            want = {os.path.basename(self.cipher_rel("us/d/" + n)) for n in names}
            self.assertEqual(sorted(want - set(lines)), [], "entries silently missing")
            for n in names:
                mountlib.expect_errno(self, errno.EACCES, os.lstat,
                                      self.cipher(m.path, "us/d/" + n))
            self.assertEqual(err.count("Permission denied"), len(names), err)
        self.assert_clean_unmount(m)

    @deadline(120)
    def test_tiers_listing_and_lookup_agree_when_the_first_tier_does_not_admit_a_name(self):
        t0, t1 = self.work.mkdir("tier0"), self.work.mkdir("tier1")
        want = {}
        for k in range(5):  # several of each: whether a clash shows can depend on name order
            os.mkfifo(os.path.join(t0, "fifo_then_file%d" % k))       # T0: a FIFO, T1: a file
            write_file(os.path.join(t1, "fifo_then_file%d" % k), b"T1 file")
            want["fifo_then_file%d" % k] = b"T1 file"
            os.mkfifo(os.path.join(t0, "fifo_only%d" % k))            # T0: a FIFO, T1: nothing
            want["fifo_only%d" % k] = None
            write_file(os.path.join(t0, "excl_dir%d/inside" % k), b"T0 dir")  # T0: an excluded
            write_file(os.path.join(t1, "excl_dir%d" % k), b"T1 file too")     # dir, T1: a file
            want["excl_dir%d" % k] = b"T1 file too"
        write_file(os.path.join(t0, "plain"), b"T0 plain")
        m = self.mount(self.work.config([{"name": "t", "paths": [t0, t1],
                                          "exclude": ["excl_dir*/"]}]))
        proc, took = bounded([sys.executable, "-c", "import os, sys; "
                              "print('\\n'.join(os.listdir(sys.argv[1])))",
                              self.cipher(m.path, "t")], 15)
        self.assertIsNotNone(proc, "listing still running")
        self.assertEqual(proc.returncode, 0, text(proc.stderr))
        listed = set(text(proc.stdout).splitlines())
        self.assertIn(os.path.basename(self.cipher_rel("t/plain")), listed)
        for name, t1_data in want.items():
            view = self.cipher(m.path, "t/" + name)
            if os.path.basename(view) in listed:
                try:
                    st = os.lstat(view)  # listed: the lookup must work
                    data = read_all(view)
                except OSError as e:
                    self.fail("%s listed, but %s" % (name, e))
                self.assertTrue(stat.S_ISREG(st.st_mode), name)
                self.assertIsNotNone(t1_data, "%s listed, but no tier admits it" % name)
                self.assertEqual(data, self.sealed("t/" + name, t1_data))
            else:
                mountlib.expect_errno(self, errno.ENOENT, os.lstat, view)
        self.assert_clean_unmount(m)


# ------------------------------------------------------------- 6. impossible ciphertext sizes

class ImpossibleSizeTest(LiveCase):
    """A ciphertext file of a size no encoder produces (0, under 16, 4112*q + r with r in 1..16)
    is damage: the decrypt mount gives EIO (cp fails, never a silently shorter file), verify and
    restore report it, restore --salvage still salvages it."""

    CUTS = {"zero": 0, "seven": 7, "q1r1": CB + 1, "q2r16": 2 * CB + 16}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.src = cls.work.mkdir("imp")
        rng = random.Random(61)
        cls.plain = {}
        for n in cls.CUTS:
            cls.plain[n] = rng.randbytes(5 * BLOCK + 100)
            write_file(os.path.join(cls.src, n), cls.plain[n])
        write_file(os.path.join(cls.src, "intact"), b"intact")
        config = cls.work.config([{"name": "imp", "path": cls.src}])
        cls.copy = cls.work.path("copy")
        with Mount(config, cls.work.mountpoint()) as m:
            mountlib.run(["cp", "-a", m.path, cls.copy], timeout=120)
        for n, size in cls.CUTS.items():
            os.truncate(os.path.join(cls.copy, cls.cipher_rel(cls, "imp/" + n)), size)

    @deadline(120)
    def test_decrypt_mount_cp_of_an_impossible_size_fails(self):
        m = self.decrypt_mount(self.copy)
        for n, size in self.CUTS.items():
            with self.subTest(name=n, cipher_size=size):
                dest = self.work.path("cp-" + n)
                proc, took = bounded(["cp", os.path.join(m.path, "imp", n), dest], 15)
                self.assertIsNotNone(proc, "cp still running")
                got = os.path.getsize(dest) if os.path.exists(dest) else None
                self.assertNotEqual(proc.returncode, 0, "cp of a %d-byte ciphertext succeeded "
                                    "with %s bytes\n%s" % (size, got, m.stderr_text()))
        self.assertEqual(read_all(os.path.join(m.path, "imp", "intact")), b"intact")
        self.assert_clean_unmount(m)

    @deadline(120)
    def test_verify_and_restore_report_each_impossible_size_as_damage(self):
        proc, report = self.verify_json(self.copy)
        self.assertEqual(proc.returncode, 8, text(proc.stderr))
        named = {d.get("path") for d in report["damaged"]}
        for n in self.CUTS:
            self.assertIn("imp/" + n, named, report["damaged"])
        dest = self.work.path("restore")
        proc = self.encfsr("restore", "--password-file", self.work.password_file, self.copy,
                           dest)
        err = text(proc.stderr)
        self.assertEqual(proc.returncode, 8, err)
        for n in self.CUTS:
            self.assertIn("imp/" + n, err)
            self.assertFalse(os.path.exists(os.path.join(dest, "imp", n)), n)
        self.assertEqual(read_all(os.path.join(dest, "imp", "intact")), b"intact")

    @deadline(120)
    def test_restore_salvage_still_salvages_each_impossible_size(self):
        dest = self.work.path("salvage")
        proc = self.encfsr("restore", "--salvage", "--password-file", self.work.password_file,
                           self.copy, dest)
        self.assertEqual(proc.returncode, 8, text(proc.stderr))
        for n, size in self.CUTS.items():
            with self.subTest(name=n, cipher_size=size):
                salvaged = os.path.join(dest, "imp", n + ".damaged")
                self.assertTrue(os.path.isfile(salvaged), "%s not salvaged: %s" % (
                    n, text(proc.stderr)))
                good = (size // CB) * BLOCK  # the whole blocks before the cut authenticate
                self.assertTrue(read_all(salvaged)[:good] == self.plain[n][:good], n)


# ------------------------------------------------------------------------------ 7. key file

class KeyFileTest(LiveCase):
    @deadline(60)
    def test_key_file_in_view_is_mode_0400_and_owned_like_the_config_key_file(self):
        src = self.work.mkdir("k")
        write_file(os.path.join(src, "f"), b"f")
        os.chown(self.work.key, 1234, 1234)
        m = self.mount(self.work.config([{"name": "k", "path": src}]))
        st = os.lstat(os.path.join(m.path, "encfsr.key"))
        self.assertTrue(stat.S_ISREG(st.st_mode))
        self.assertEqual(oct(stat.S_IMODE(st.st_mode)), oct(0o400))
        self.assertEqual((st.st_uid, st.st_gid), (1234, 1234))
        master, _ = reference.open_key_file(read_all(os.path.join(m.path, "encfsr.key")).decode(),
                                            mountlib.PASSWORD)
        self.assertEqual(master, self.keys.master)


# --------------------------------------------------------------------------------- 8. soak

SOAK_SECONDS = 60
SOAK_NAMES = ["f%02d" % i for i in range(10)] + ["sub/g%02d" % i for i in range(6)]


def soak_writer(src, seed, seconds):
    """Appends to, rewrites in place, truncates, renames, deletes and creates files of src
    (some over 4 MiB) for `seconds`. Names stay short: see SoakTest."""
    rng = random.Random(seed)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        p = os.path.join(src, rng.choice(SOAK_NAMES))
        op = rng.choices(["append", "rewrite", "truncate", "rename", "delete", "create"],
                         weights=[4, 5, 2, 1, 1, 2])[0]
        try:
            size = os.path.getsize(p) if os.path.exists(p) else None
            if size is None or op == "create":
                size = rng.choice([0, 1, 4095, 4096, 4097, rng.randrange(1, 300000),
                                   rng.randrange(4 * MiB, 6 * MiB)])
                with open(p, "wb") as f:
                    f.write(rng.randbytes(size))
            elif op == "append":
                with open(p, "ab") as f:
                    f.write(rng.randbytes(rng.choice([1, 16, 100, 4096, 5000, 70000])))
                if size > 7 * MiB:
                    os.truncate(p, 4 * MiB + rng.randrange(MiB))
            elif op == "rewrite" and size > 0:
                off = rng.randrange(size)
                with open(p, "r+b") as f:
                    f.seek(off)
                    f.write(rng.randbytes(min(rng.randrange(1, 20000), size - off)))
            elif op == "truncate":
                os.truncate(p, rng.randrange(size + 1))
            elif op == "rename":
                os.rename(p, os.path.join(src, rng.choice(SOAK_NAMES)))
            elif op == "delete":
                os.unlink(p)
        except FileNotFoundError:
            pass
        time.sleep(rng.choice([0, 0.001, 0.005, 0.02]))


class SoakTest(LiveCase):
    """A writer changes a source for 60 s while `rsync -a --delete VIEW/ COPY/` runs in a loop;
    after every run `encfsr verify COPY` must find no damage rsync did not report.

    What rsync does with a file that changes under it (seen with rsync 3.5.0 here): it reads
    each file up to the size it found (the stat of its file list, or its fstat at open). When
    a read fails (EIO: the view refuses a block it cannot serve from one seal) or ends early
    (EOF: the file shrank after the stat; "read errors mapping ... No data available"), it
    fills the rest with zeros, says "read errors mapping NAME", exits 23 — and KEEPS that file.
    So a copy may hold damaged files, but only files rsync named with a read error in the run
    that last wrote them: those are reported, not hidden. Any other damage counts as failure:
    a "block" damage in a file rsync read without an error is a torn or stale block the view
    served silently, a "size" damage a file the view served at a size it never reported (grown
    after the stat: the last block cut), a "name" or "side-file" damage is nothing this
    scenario can produce (long names, whose side file may legitimately outlive a vanished
    entry, are kept out of the writer's names). Which run last wrote a file comes from rsync's
    --out-format list. After the writer stops, a final rsync (-I: rewrite every file, so a
    change within one mtime tick is not skipped by rsync's quick check) must exit 0 and verify
    clean, and a restore must give back the source exactly."""

    def rsync(self, m, copy, *extra):
        """One rsync run: (exit code, stderr, files it wrote, files it named in an error)."""
        proc = mountlib.run(["rsync", "-a", "--delete", "--out-format=WROTE %n"] + list(extra) +
                            [m.path + "/", copy + "/"], check=False, timeout=150)
        wrote = {line[len("WROTE "):].rstrip("/") for line in text(proc.stdout).splitlines()
                 if line.startswith("WROTE ")}
        err = text(proc.stderr)
        named = set(re.findall(r'"%s/([^"]+)"' % re.escape(m.path), err))
        named |= set(re.findall(r"(?:ERROR|WARNING): (\S+) failed verification", err))
        return proc.returncode, err, wrote, named

    @deadline(230)
    def test_rsync_loop_against_a_busy_writer_never_copies_damage_and_restores_exactly(self):
        src = self.work.mkdir("soak")
        os.makedirs(os.path.join(src, "sub"))
        rng = random.Random(81)
        for i, n in enumerate(SOAK_NAMES):
            size = [5 * MiB, 4 * MiB + 123, 300000, 4097, 0][i % 5]
            write_file(os.path.join(src, n), rng.randbytes(size))
        m = self.mount(self.work.config([{"name": "soak", "path": src}]))
        copy = self.work.path("soak-copy")
        writer = multiprocessing.get_context("fork").Process(
            target=soak_writer, args=(src, 82, SOAK_SECONDS), daemon=True)
        writer.start()
        runs = []
        reported = {}  # cipher path -> whether rsync named it in an error when it last wrote it
        try:
            while writer.is_alive():
                code, err, wrote, named = self.rsync(m, copy)
                self.assertIn(code, (0, 23, 24), err[-3000:])
                for path in wrote | named:
                    reported[path] = path in named
                vproc, report = self.verify_json(copy)
                silent = [d for d in report["damaged"] if not reported.get(
                    (d.get("cipher_path") or self.cipher_rel(d.get("path") or "")).lstrip("/"))]
                runs.append((code, len(report["damaged"]), len(silent)))
                if silent:
                    self.fail("rsync run %d (exit %d): %d damaged entries rsync did not report:"
                              "\n%s\nrsync: %s\n%s" % (
                                  len(runs), code, len(silent), describe_damage(copy, silent),
                                  err[-3000:], m.stderr_text()[-3000:]))
        finally:
            if writer.is_alive():
                writer.terminate()
            writer.join(10)
        self.assertEqual(writer.exitcode, 0, "the writer failed")
        self.assertGreaterEqual(len(runs), 3, runs)
        time.sleep(2.5)  # past the kernel's attribute and entry timeouts (1 s)
        code, err, wrote, named = self.rsync(m, copy, "-I")
        self.assertEqual(code, 0, err)
        self.assert_verifies_clean(copy, "after the final rsync (runs: exit code, damaged, "
                                   "damaged unreported: %s)" % runs)
        self.assert_clean_unmount(m)
        dest = self.work.path("soak-restored")
        proc = self.encfsr("restore", "--password-file", self.work.password_file, copy, dest,
                           timeout=150)
        self.assertEqual(proc.returncode, 0, text(proc.stderr))
        want = mountlib.tree_digest(src)
        got = mountlib.tree_digest(os.path.join(dest, "soak"))
        self.assertEqual(sorted(got), sorted(want))
        diffs = [k for k in want if got[k] != want[k]]
        self.assertEqual(diffs, [], "restored entries differ from the source")


if __name__ == "__main__":
    mountlib.take_bin_from_argv()
    unittest.main(verbosity=2)
