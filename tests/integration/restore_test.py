#!/usr/bin/env python3
"""tests/integration/restore_test.py — `encfsr restore` and `encfsr verify` on real copies.

Usage: restore_test.py [ENCFSR_BINARY] [unittest args] (or ENCFSR_BIN in the environment).
Once per run: a generated plaintext tree is mounted as a reverse view (encfsr mount -f), copied
with `cp -a` to a pristine ciphertext copy, and unmounted. Every test works on its own copy of
that copy: restores (all, one PATH, no-overwrite, --overwrite), verify (text, JSON, -q), then
damaged copies (a flipped bit, truncation, an appended byte, two files' contents swapped, a
renamed entry, a deleted long-name side file, an altered encfsr.key).
"""

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import mountlib  # noqa: E402
from mountlib import FIFO_NAME, Mount  # noqa: E402

SOURCE = "data"
BIG = "big.bin"  # 3 MiB
SUMMARY_RE = re.compile(r"restored (\d+) files, (\d+) directories, (\d+) symlinks, (\d+) bytes "
                        r"in [0-9.]+ s; (\d+) damaged, (\d+) errors")


def plain_digest(root):
    """tree_digest of a plaintext tree without the FIFO (the view leaves it out)."""
    return {rel: row for rel, row in mountlib.tree_digest(root).items()
            if os.path.basename(rel) != FIFO_NAME}


class RestoreCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        mountlib.require_fuse()
        cls.work = mountlib.Setup(prefix="encfsr-restore-it-")
        cls.src = cls.work.path("src")
        outside = cls.work.path("outside.txt")
        with open(outside, "w") as f:
            f.write("outside\n")
        mountlib.make_tree(cls.src, outside, big_dir=40, deep=8)
        cls.config = cls.work.config([{"name": SOURCE, "path": cls.src}])
        cls.pristine = cls.work.path("pristine")
        with Mount(cls.config, cls.work.mountpoint()) as m:
            mountlib.run(["cp", "-a", m.path, cls.pristine], timeout=300)
        cls.expected = plain_digest(cls.src)
        cls.counter = 0

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, "work"):
            cls.work.cleanup()

    # -- helpers

    def fresh_copy(self):
        type(self).counter += 1
        copy = self.work.path("copy%d" % self.counter)
        shutil.copytree(self.pristine, copy, symlinks=True)
        return copy

    def dest(self):
        type(self).counter += 1
        return self.work.path("dest%d" % self.counter)

    def encfsr(self, *args, **kw):
        return mountlib.run([mountlib.encfsr_bin()] + [str(a) for a in args], check=False,
                            timeout=300, **kw)

    def key_opts(self):
        return ["--password-file", self.work.password_file]

    def restore(self, copy, *rest):
        return self.encfsr("restore", *self.key_opts(), copy, *rest)

    def verify(self, copy, *rest):
        return self.encfsr("verify", *self.key_opts(), *rest, copy)

    def cipher_path(self, plain):
        """Path (relative to the copy) of a plaintext view path, from `encfsr path encrypt`."""
        proc = self.encfsr("path", "encrypt", self.config, plain)
        self.assertEqual(proc.returncode, 0, mountlib._text(proc.stderr))
        rel = mountlib._text(proc.stdout).strip().lstrip("/")
        self.assertTrue(rel, "path encrypt printed nothing")
        return rel

    def verify_json(self, copy, *rest):
        proc = self.verify(copy, "--json", *rest)
        try:
            report = json.loads(mountlib._text(proc.stdout))
        except ValueError as e:
            self.fail("verify --json printed no JSON (%s): %r / %r" % (
                e, proc.stdout, proc.stderr))
        return proc, report

    def assert_damaged(self, report, plain=None, cipher=None, kinds=None):
        """The JSON report names the entry (plain or cipher path), with one of `kinds`."""
        hits = []
        for d in report["damaged"]:
            if plain is not None and d.get("path") == plain:
                hits.append(d)
            elif cipher is not None and d.get("cipher_path") and (
                    d["cipher_path"].lstrip("/") == cipher or
                    d["cipher_path"].lstrip("/").startswith(cipher)):
                hits.append(d)
        self.assertTrue(hits, "no damage entry for %s / %s in %s" % (plain, cipher,
                                                                     report["damaged"]))
        if kinds:
            self.assertTrue(any(h["kind"] in kinds for h in hits),
                            "kinds %s not in %s" % (kinds, hits))
        return hits

    def assert_restored_except(self, dest, missing, touched_dirs=()):
        """DEST/data equals the plaintext except the entries in `missing` (absent). The mtimes
        of `touched_dirs` are not compared: damaging the copy changed its directories' mtimes,
        which the decrypt view shows."""
        got = plain_digest(os.path.join(dest, SOURCE))
        want = {k: v for k, v in self.expected.items() if k not in missing}
        for d in touched_dirs:
            self.assertEqual(got[d][:3], want[d][:3], d)
            got[d] = want[d]
        for name in missing:
            self.assertNotIn(name, got)
        self.assertEqual(sorted(set(got) - set(want)), [])
        self.assertEqual(sorted(set(want) - set(got)), [])
        for rel in want:
            self.assertEqual(got[rel], want[rel], rel)


class RestoreTest(RestoreCase):
    def test_restore_everything(self):
        dest = self.dest()
        proc = self.restore(self.pristine, dest)
        err = mountlib._text(proc.stderr)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(mountlib.diff_r(self.src, os.path.join(dest, SOURCE))[0], 0,
                         mountlib.diff_r(self.src, os.path.join(dest, SOURCE))[1])
        self.assert_restored_except(dest, [])
        # The root's source directory itself: mode and mtime.
        s, d = os.lstat(self.src), os.lstat(os.path.join(dest, SOURCE))
        self.assertEqual((stat.S_IMODE(s.st_mode), s.st_mtime_ns),
                         (stat.S_IMODE(d.st_mode), d.st_mtime_ns))
        m = SUMMARY_RE.search(err)
        self.assertTrue(m, err)
        # Hard links: the first of each inode is restored as a file, the others are linked to it.
        inodes = {}
        for rel in self.expected:
            st = os.lstat(os.path.join(self.src, rel))
            if stat.S_ISREG(st.st_mode):
                inodes.setdefault((st.st_dev, st.st_ino), []).append(rel)
        hard_links = sum(len(names) - 1 for names in inodes.values())
        self.assertGreater(hard_links, 0, "the tree has hard links")
        self.assertIn("; %d hard links" % hard_links, err)
        for names in inodes.values():
            got = {os.lstat(os.path.join(dest, SOURCE, rel)).st_ino for rel in names}
            self.assertEqual(len(got), 1, names)
        files = sum(1 for r in self.expected.values() if stat.S_ISREG(r[0])) - hard_links
        links = sum(1 for r in self.expected.values() if stat.S_ISLNK(r[0]))
        dirs = sum(1 for r in self.expected.values() if stat.S_ISDIR(r[0])) + 1  # + data/
        self.assertEqual([int(x) for x in m.groups()],
                         [files, dirs, links,
                          sum(os.lstat(os.path.join(self.src, names[0])).st_size
                              for names in inodes.values()), 0, 0])
        # No temporary files left behind; no progress bar without a terminal.
        for dirpath, dirnames, filenames in os.walk(dest):
            for n in dirnames + filenames:
                self.assertFalse(n.startswith(".encfsr-restore"), os.path.join(dirpath, n))
        self.assertNotIn("\r", err)

    def test_modes_planted_in_a_copy_are_not_restored(self):
        """A setuid-root file planted in the copy by whoever holds the storage must not come back
        as one: restore takes modes and owners from the manifests, and reports the difference."""
        copy = self.fresh_copy()
        victim = os.path.join(copy, self.cipher_path(SOURCE + "/modes/ro.txt"))
        os.chown(victim, 0, 0)
        os.chmod(victim, 0o6777)  # after the chown, which clears setuid and setgid
        sticky = os.path.dirname(victim)
        os.chmod(sticky, 0o1777)
        dest = self.dest()
        proc = self.restore(copy, dest)
        err = mountlib._text(proc.stderr)
        self.assertEqual(proc.returncode, 8, err)
        self.assertIn("damaged: %s/modes/ro.txt: metadata" % SOURCE, err)
        self.assertIn("damaged: %s/modes: metadata" % SOURCE, err)
        for rel in ("modes/ro.txt", "modes"):
            got = os.lstat(os.path.join(dest, SOURCE, rel))
            want = os.lstat(os.path.join(self.src, rel))
            self.assertEqual(stat.S_IMODE(got.st_mode), stat.S_IMODE(want.st_mode), rel)
            self.assertEqual((got.st_uid, got.st_gid), (want.st_uid, want.st_gid), rel)
        self.assertNotIn("setuid", err)

    def test_without_manifests_setuid_setgid_and_sticky_bits_are_not_restored(self):
        """A copy made with manifests: false authenticates no mode: special bits are dropped."""
        config = self.work.config([{"name": SOURCE, "path": self.src}], manifests=False)
        copy = self.work.path("nomanifests%d" % self.counter)
        type(self).counter += 1
        with Mount(config, self.work.mountpoint()) as m:
            mountlib.run(["cp", "-a", m.path, copy], timeout=300)
        victim = os.path.join(copy, self.cipher_path(SOURCE + "/modes/ro.txt"))
        os.chown(victim, 0, 0)
        os.chmod(victim, 0o6777)
        os.chmod(os.path.dirname(victim), 0o1777)
        dest = self.dest()
        proc = self.restore(copy, dest)
        err = mountlib._text(proc.stderr)
        self.assertEqual(proc.returncode, 0, err)
        got = os.lstat(os.path.join(dest, SOURCE, "modes", "ro.txt"))
        self.assertEqual(stat.S_IMODE(got.st_mode), 0o777)
        self.assertEqual(stat.S_IMODE(os.lstat(os.path.join(dest, SOURCE, "modes")).st_mode),
                         0o777)
        self.assertRegex(err, r"\d+ entries without an authenticated manifest record: their "
                              r"setuid, setgid and sticky bits were not restored")
        proc = self.verify(copy)
        self.assertEqual(proc.returncode, 0)
        self.assertIn("completeness not checked", mountlib._text(proc.stdout))

    def test_restore_one_path_and_a_directory(self):
        dest = self.dest()
        proc = self.restore(self.pristine, "data/sizes/s4097", "data/modes", dest)
        self.assertEqual(proc.returncode, 0, mountlib._text(proc.stderr))
        self.assertEqual(sorted(os.listdir(os.path.join(dest, SOURCE))), ["modes", "sizes"])
        self.assertEqual(os.listdir(os.path.join(dest, SOURCE, "sizes")), ["s4097"])
        got = plain_digest(os.path.join(dest, SOURCE))
        for rel in ("sizes/s4097", "modes", "modes/ro.txt", "modes/exec.sh", "modes/private"):
            self.assertEqual(got[rel], self.expected[rel], rel)

    def test_missing_path_exit_9_others_restored(self):
        dest = self.dest()
        proc = self.restore(self.pristine, "data/no/such", "data/sizes/one", dest)
        self.assertEqual(proc.returncode, 9)
        self.assertIn("no such entry in the copy: data/no/such", mountlib._text(proc.stderr))
        with open(os.path.join(dest, SOURCE, "sizes", "one"), "rb") as f:
            self.assertEqual(f.read(), b"x")

    def test_never_overwrites_unless_asked(self):
        dest = self.dest()
        self.assertEqual(self.restore(self.pristine, "data/modes", dest).returncode, 0)
        target = os.path.join(dest, SOURCE, "modes", "private")
        os.chmod(target, 0o600)
        with open(target, "wb") as f:
            f.write(b"changed since")
        proc = self.restore(self.pristine, "data/modes/private", dest)
        self.assertEqual(proc.returncode, 9)
        self.assertIn("exists: data/modes/private", mountlib._text(proc.stderr))
        with open(target, "rb") as f:
            self.assertEqual(f.read(), b"changed since")
        proc = self.restore(self.pristine, "--overwrite", "data/modes/private", dest)
        self.assertEqual(proc.returncode, 0, mountlib._text(proc.stderr))
        self.assertEqual(plain_digest(os.path.join(dest, SOURCE))["modes/private"],
                         self.expected["modes/private"])

    def test_verify_clean(self):
        proc = self.verify(self.pristine)
        out = mountlib._text(proc.stdout)
        self.assertEqual(proc.returncode, 0, out + mountlib._text(proc.stderr))
        files = sum(1 for r in self.expected.values() if stat.S_ISREG(r[0]))
        self.assertRegex(out, r"^entries %d \(files %d, directories \d+, symlinks \d+\), "
                              r"\d+ bytes: clean$" % (len(self.expected) + 1, files))
        proc, report = self.verify_json(self.pristine)
        self.assertEqual(proc.returncode, 0)
        self.assertEqual(report["damaged"], [])
        self.assertEqual(report["entries"], len(self.expected) + 1)
        self.assertEqual(report["files"], files)
        self.assertEqual(report["symlinks"],
                         sum(1 for r in self.expected.values() if stat.S_ISLNK(r[0])))
        self.assertEqual(report["bytes"],
                         sum(r[2] for r in self.expected.values() if stat.S_ISREG(r[0])))
        proc = self.verify(self.pristine, "-q")
        self.assertEqual((proc.returncode, proc.stdout), (0, b""))


class DamageTest(RestoreCase):
    """Each test damages its own copy; verify exits 8 naming it, restore exits 8 and restores
    everything else identically."""

    def check_restore(self, copy, missing, touched_dirs=()):
        dest = self.dest()
        proc = self.restore(copy, dest)
        err = mountlib._text(proc.stderr)
        self.assertEqual(proc.returncode, 8, err)
        self.assertRegex(err, r"damaged: ")
        self.assert_restored_except(dest, missing, touched_dirs)
        return dest

    def test_flipped_bit_block(self):
        copy = self.fresh_copy()
        path = os.path.join(copy, self.cipher_path("data/" + BIG))
        with open(path, "r+b") as f:  # a bit in the middle of block 2 (4112-byte blocks)
            f.seek(2 * 4112 + 2000)
            b = f.read(1)
            f.seek(2 * 4112 + 2000)
            f.write(bytes([b[0] ^ 0x10]))
        proc, report = self.verify_json(copy)
        self.assertEqual(proc.returncode, 8)
        hits = self.assert_damaged(report, plain="data/" + BIG, kinds={"block"})
        self.assertEqual([h["block"] for h in hits if h["kind"] == "block"], [2])
        text = self.verify(copy)
        self.assertEqual(text.returncode, 8)
        self.assertIn("damaged: data/big.bin: block 2", mountlib._text(text.stdout))
        dest = self.check_restore(copy, ["big.bin"])
        self.assertFalse(os.path.exists(os.path.join(dest, SOURCE, "big.bin.damaged")))
        # --salvage: good blocks written, the bad one zeroed, as NAME.damaged.
        dest = self.dest()
        proc = self.restore(copy, "--salvage", "data/" + BIG, dest)
        self.assertEqual(proc.returncode, 8, mountlib._text(proc.stderr))
        with open(os.path.join(self.src, BIG), "rb") as f:
            want = bytearray(f.read())
        want[2 * 4096:3 * 4096] = bytes(4096)
        with open(os.path.join(dest, SOURCE, BIG + ".damaged"), "rb") as f:
            self.assertEqual(f.read(), bytes(want))
        self.assertFalse(os.path.exists(os.path.join(dest, SOURCE, BIG)))

    def test_truncated_file(self):
        copy = self.fresh_copy()
        path = os.path.join(copy, self.cipher_path("data/sizes/s8192"))
        os.truncate(path, os.path.getsize(path) - 100)
        proc, report = self.verify_json(copy)
        self.assertEqual(proc.returncode, 8)
        self.assert_damaged(report, plain="data/sizes/s8192", kinds={"size", "block"})
        self.check_restore(copy, ["sizes/s8192"])

    def test_truncated_at_block_boundary(self):
        copy = self.fresh_copy()
        path = os.path.join(copy, self.cipher_path("data/sizes/s8192"))
        os.truncate(path, 4112)
        proc, report = self.verify_json(copy)
        self.assertEqual(proc.returncode, 8)
        self.assert_damaged(report, plain="data/sizes/s8192", kinds={"size", "block"})
        self.check_restore(copy, ["sizes/s8192"])

    def test_appended_byte(self):
        copy = self.fresh_copy()
        path = os.path.join(copy, self.cipher_path("data/sizes/s4095"))
        with open(path, "ab") as f:
            f.write(b"\0")
        proc, report = self.verify_json(copy)
        self.assertEqual(proc.returncode, 8)
        self.assert_damaged(report, plain="data/sizes/s4095", kinds={"size", "block"})
        self.check_restore(copy, ["sizes/s4095"])

    def test_swapped_contents(self):
        copy = self.fresh_copy()
        a = os.path.join(copy, self.cipher_path("data/bigdir/f0001"))
        b = os.path.join(copy, self.cipher_path("data/bigdir/f0002"))
        with open(a, "rb") as f:
            da = f.read()
        with open(b, "rb") as f:
            db = f.read()
        self.assertEqual(len(da), len(db))
        for p, d in ((a, db), (b, da)):
            os.chmod(p, 0o600)
            with open(p, "wb") as f:
                f.write(d)
        proc, report = self.verify_json(copy)
        self.assertEqual(proc.returncode, 8)
        self.assert_damaged(report, plain="data/bigdir/f0001", kinds={"block"})
        self.assert_damaged(report, plain="data/bigdir/f0002", kinds={"block"})
        self.check_restore(copy, ["bigdir/f0001", "bigdir/f0002"])

    def test_renamed_entry(self):
        copy = self.fresh_copy()
        rel = self.cipher_path("data/sizes/one")
        other_dir = os.path.dirname(self.cipher_path("data/modes/private"))
        moved = os.path.join(other_dir, os.path.basename(rel))
        os.rename(os.path.join(copy, rel), os.path.join(copy, moved))
        proc, report = self.verify_json(copy)
        self.assertEqual(proc.returncode, 8)
        self.assert_damaged(report, cipher=moved, kinds={"name"})
        self.check_restore(copy, ["sizes/one"], touched_dirs=["sizes", "modes"])

    def test_deleted_side_file(self):
        copy = self.fresh_copy()
        long_plain = "data/" + [n for n in sorted(self.expected)
                                if n.startswith("names/L200_")][0]
        rel = self.cipher_path(long_plain)
        self.assertTrue(os.path.basename(rel).startswith("encfsr.long."), rel)
        side = os.path.join(copy, rel + ".name")
        self.assertTrue(os.path.exists(side))
        os.unlink(side)
        proc, report = self.verify_json(copy)
        self.assertEqual(proc.returncode, 8)
        self.assert_damaged(report, cipher=rel, kinds={"side-file", "name"})
        self.check_restore(copy, [long_plain[len("data/"):]], touched_dirs=["names"])

    def test_altered_key_file(self):
        copy = self.fresh_copy()
        key = os.path.join(copy, "encfsr.key")
        os.chmod(key, 0o600)
        with open(key) as f:
            lines = f.read().splitlines(True)
        # Change one hex digit of the wrapped key.
        for i, line in enumerate(lines):
            if line.startswith("wrapped: "):
                c = line[9]
                lines[i] = line[:9] + ("0" if c != "0" else "1") + line[10:]
        with open(key, "w") as f:
            f.write("".join(lines))
        # With the copy's own key file: it cannot be opened (key file or password error).
        proc = self.verify(copy)
        self.assertIn(proc.returncode, (4, 5), mountlib._text(proc.stderr))
        self.assertIn("encfsr: error:", mountlib._text(proc.stderr))
        # With the original key file: the copy's key file is reported as damaged.
        proc, report = self.verify_json(copy, "--key", self.work.key)
        self.assertEqual(proc.returncode, 8)
        self.assert_damaged(report, cipher="encfsr.key", kinds={"key-file"})


HUGE = "huge.bin"
HUGE_SIZE = 256 * 1024 * 1024


def temporaries(root):
    """Restore's temporary entries (".encfsr-restore.*") anywhere under root."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        found += [os.path.join(dirpath, n) for n in dirnames + filenames
                  if n.startswith(".encfsr-restore")]
    return found


def tree_state(root):
    """{relative path: (mode, mtime_ns, nlink, size)} of everything under root, root included."""
    out = {".": os.lstat(root)}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            out[os.path.relpath(p, root)] = os.lstat(p)
    return {k: (st.st_mode, st.st_mtime_ns, st.st_nlink, st.st_size) for k, st in out.items()}


class HardeningTest(RestoreCase):
    """Issue 11: no symlink in DEST is followed, in any component of a path; SIGINT/SIGTERM
    remove the temporary file and exit 130/143 with nothing partial under a final name; a full
    destination filesystem gives one clear line naming the file and no partial file."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A second copy with one 256 MiB file (sparse plaintext), slow enough to interrupt.
        huge_src = cls.work.mkdir("huge_src")
        with open(os.path.join(huge_src, HUGE), "wb") as f:
            f.truncate(HUGE_SIZE)
            f.seek(HUGE_SIZE // 2)
            f.write(b"not only zeros")
        config = cls.work.config([{"name": SOURCE, "path": huge_src}])
        cls.huge_copy = cls.work.path("huge_copy")
        with Mount(config, cls.work.mountpoint()) as m:
            mountlib.run(["cp", "-a", m.path, cls.huge_copy], timeout=300)

    def make_outside(self):
        """A directory outside DEST with a file and a subdirectory of unusual mode and mtime."""
        type(self).counter += 1
        outside = self.work.mkdir("outside%d" % self.counter)
        for sub in ("modes", "sub"):
            os.makedirs(os.path.join(outside, sub))
            with open(os.path.join(outside, sub, "ro.txt"), "wb") as f:
                f.write(b"outside\n")
            os.chmod(os.path.join(outside, sub), 0o711)
            mountlib.set_mtime(os.path.join(outside, sub), 1000000000)
        mountlib.set_mtime(outside, 1000000000)
        return outside

    def test_symlink_planted_in_dest_is_not_followed(self):
        for planted in ("data", "data/modes"):
            with self.subTest(planted=planted):
                dest = self.dest()
                outside = self.make_outside()
                before = tree_state(outside)
                os.makedirs(os.path.dirname(os.path.join(dest, planted)), exist_ok=True)
                os.symlink(outside, os.path.join(dest, planted))
                for args in ([], ["data/modes/ro.txt"], ["data/modes"]):
                    proc = self.restore(self.pristine, *args, dest)
                    err = mountlib._text(proc.stderr)
                    self.assertEqual(proc.returncode, 9, err)
                    self.assertIn("exists: %s (a symlink, not followed)" % planted, err)
                    self.assertEqual(tree_state(outside), before, args)
                    self.assertEqual(os.readlink(os.path.join(dest, planted)), outside)
                if planted == "data/modes":  # the rest of data/ is restored
                    with open(os.path.join(dest, "data", "sizes", "one"), "rb") as f:
                        self.assertEqual(f.read(), b"x")
                self.assertEqual(temporaries(dest), [])

    def test_directories_swapped_for_symlinks_while_restoring_are_not_followed(self):
        """A thread swaps the restore's directories in DEST for symlinks to a directory outside
        and back while restores run (also of a PATH whose ancestors are fixed up at the end, and
        of hard links): nothing outside changes."""
        outside = self.make_outside()
        os.makedirs(os.path.join(outside, "hard", "sub"))
        before = tree_state(outside)
        total_swaps = 0
        for round_ in range(12):
            dest = self.dest()
            stop = threading.Event()
            swaps = [0]

            def swapper():
                targets = ["data/modes", "data/hard", "data/hard/sub", "data"]
                while not stop.is_set():
                    for rel in targets:
                        p = os.path.join(dest, rel)
                        moved = p + ".moved"
                        try:
                            os.rename(p, moved)
                        except OSError:
                            continue
                        try:
                            os.symlink(outside, p)
                            swaps[0] += 1
                            time.sleep(0.001)
                            os.unlink(p)
                        except OSError:
                            pass
                        try:
                            os.rename(moved, p)
                        except OSError:
                            pass

            t = threading.Thread(target=swapper)
            t.start()
            try:
                args = [[], ["data/hard/sub/c", "data/modes/ro.txt"], ["data/hard"]][round_ % 3]
                proc = self.restore(self.pristine, *args, dest)
            finally:
                stop.set()
                t.join()
            self.assertIn(proc.returncode, (0, 9), mountlib._text(proc.stderr))
            self.assertEqual(tree_state(outside), before, "round %d" % round_)
            self.assertEqual(temporaries(dest), [])
            total_swaps += swaps[0]
        self.assertGreater(total_swaps, 0, "no directory was ever swapped for a symlink")

    def interrupt(self, sig):
        dest = self.dest()
        proc = subprocess.Popen([mountlib.encfsr_bin(), "restore"] + self.key_opts() +
                                [self.huge_copy, dest], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        temp = None
        deadline = time.monotonic() + 120
        try:
            while time.monotonic() < deadline and proc.poll() is None:
                found = temporaries(os.path.join(dest, SOURCE)) \
                    if os.path.isdir(os.path.join(dest, SOURCE)) else []
                if found and os.path.getsize(found[0]) >= 8 * 1024 * 1024:
                    temp = found[0]
                    break
                time.sleep(0.002)
            self.assertIsNotNone(temp, "no temporary file seen mid-way; restore exited %r" %
                                 proc.poll())
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        err = mountlib._text(err)
        self.assertEqual(proc.returncode, 128 + sig, err)
        self.assertIn("encfsr: interrupted by %s; temporary files removed" %
                      signal.Signals(sig).name, err)
        self.assertFalse(os.path.exists(temp), temp)
        self.assertEqual(temporaries(dest), [])
        self.assertFalse(os.path.lexists(os.path.join(dest, SOURCE, HUGE)))

    def test_sigint_mid_file_removes_the_temporary_file(self):
        self.interrupt(signal.SIGINT)

    def test_sigterm_mid_file_removes_the_temporary_file(self):
        self.interrupt(signal.SIGTERM)

    def test_full_destination_filesystem(self):
        if os.geteuid() != 0:
            if mountlib.in_ci():
                self.fail("CI=true but not root: cannot mount a small tmpfs")
            self.skipTest("needs root to mount a small tmpfs")
        small = self.work.mkdir("small%d" % self.counter)
        mountlib.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", small])
        try:
            dest = os.path.join(small, "dest")
            proc = self.restore(self.pristine, "data/big.bin", "data/sizes/s4097", dest)
            err = mountlib._text(proc.stderr)
            self.assertEqual(proc.returncode, 9, err)
            lines = [l for l in err.splitlines() if "big.bin" in l]
            self.assertEqual(lines, ["encfsr: error: cannot write data/big.bin: No space left "
                                     "on device"], err)
            self.assertEqual(len([l for l in err.splitlines() if "No space" in l]), 1, err)
            self.assertFalse(os.path.lexists(os.path.join(dest, SOURCE, BIG)))
            self.assertEqual(temporaries(dest), [])
            got = plain_digest(os.path.join(dest, SOURCE))
            self.assertEqual(got["sizes/s4097"], self.expected["sizes/s4097"])
        finally:
            mountlib.run(["umount", small], check=False)


if __name__ == "__main__":
    mountlib.take_bin_from_argv()
    unittest.main(verbosity=2)
