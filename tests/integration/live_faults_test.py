#!/usr/bin/env python3
"""tests/integration/live_faults_test.py — issue 11 (deliverable 3), faults of the live tree
under a mounted reverse view, read by the tools users run (tar, rsync).

Usage: live_faults_test.py [ENCFSR_BINARY] [unittest args, e.g. a class name]
(or ENCFSR_BIN in the environment). One ctest test per class.

Each fault must give an errno (or a tool's warning) for the entry concerned and nothing else:
the daemon stays up, every other entry of the backup is complete and byte-exact (the copy is
restored with `encfsr restore` and the untouched files compared with the source), and a later
backup, taken once the faults stop, restores the final state exactly.

- MutatingSourceTest: files truncated, grown, replaced by rename and deleted, and a directory
  removed and recreated, in a loop in a thread while tar and rsync read the view.
- UnreadableEntriesTest: a file and a directory the daemon may not read (the daemon runs as
  nobody when /dev/fuse lets it, else as root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH).
- DaemonKilledTest: the daemon SIGKILLed while a reader is mid-file; the reader gets an errno,
  `encfsr umount MOUNTPOINT` recovers the mountpoint and it mounts again.

Helpers (deadlines, mounts always closed, the reference's cipher names) come from
live_tree_test.py.
"""

import errno
import hashlib
import os
import pwd
import random
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
import live_tree_test as lt  # noqa: E402  (its LiveCase is used as a base, never run here)

MiB = 1024 * 1024
SRC = "s"  # the source's name in the view


def text(data):
    return mountlib._text(data)


def stream(name, gen, size):
    """State `gen` of hot file `name`, `size` bytes: a header naming both, then a pattern. A
    truncation keeps a prefix and a growth appends the continuation, so every state a reader
    can see is stream(name, gen, n) for some n."""
    head = ("%s gen %08d\n" % (name, gen)).encode()
    seed = hashlib.sha256(head).digest()
    body = (seed * (size // len(seed) + 2))
    return (head + body)[:size]


def describe_state(name, data):
    """Why data is not a state of hot file `name`: its length, the generation its header names,
    the first offset that differs from that generation and which generations match there."""
    m = re.match(rb"^(\S+) gen (\d{8})\n", data)
    if not m:
        return "%d bytes, no header: %r" % (len(data), data[:40])
    gen = int(m.group(2))
    want = stream(name, gen, len(data))
    first = next((i for i in range(len(data)) if data[i] != want[i]), None)
    if first is None:
        return "%d bytes of generation %d" % (len(data), gen)
    chunk = data[first:first + 64]
    others = [g for g in range(gen + 400) if stream(name, g, first + 64)[first:] == chunk]
    return ("%d bytes, header generation %d, differs from offset %d (block %d): zeros %s, "
            "generations matching there %s" % (len(data), gen, first, first // 4096,
                                               chunk == bytes(len(chunk)), others[:10]))


def valid_state(name, data):
    """Whether data is a prefix of some state of hot file `name`. A rewrite opens the file with
    O_TRUNC before it writes, so a reader can also meet the file empty or cut inside its header:
    those are states it had too."""
    lead = ("%s gen " % name).encode()
    if len(data) <= len(lead):
        return lead.startswith(data)
    if len(data) < len(lead) + 9:  # the header's eight digits and newline, cut short
        return data.startswith(lead) and data[len(lead):].isdigit()
    m = re.match(rb"^(\S+) gen (\d{8})\n", data)
    if not m or m.group(1).decode() != name:
        return False
    return data == stream(name, int(m.group(2)), len(data))


class Mutator:
    """Runs mutate(rng_step) in a loop in a thread until stopped; counts the mutations."""

    def __init__(self, step):
        self.step = step
        self.stop_event = threading.Event()
        self.count = 0
        self.error = None
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        i = 0
        try:
            while not self.stop_event.is_set():
                self.step(i)
                self.count += 1
                i += 1
                time.sleep(0.001)
        except BaseException as e:  # reported by stop()
            self.error = e

    def __enter__(self):
        self.thread.start()
        return self

    def stop(self):
        self.stop_event.set()
        self.thread.join(30)
        if self.error is not None:
            raise self.error

    def __exit__(self, *exc):
        self.stop_event.set()
        self.thread.join(30)
        return False


class FaultCase(lt.LiveCase):
    """A source with stable entries (never touched: must come back byte-exact) and hot ones."""

    def make_stable(self, src):
        rng = random.Random(11)
        for i in range(60):
            size = rng.choice([0, 1, 4095, 4096, 4097, rng.randrange(1, 200000)])
            lt.write_file(os.path.join(src, "stable", "d%d" % (i % 6), "f%02d" % i),
                          rng.randbytes(size), mtime=1600000000 + i)
        lt.write_file(os.path.join(src, "stable", "big.bin"), rng.randbytes(6 * MiB + 7),
                      mtime=1600000100)
        os.symlink("d0/f00", os.path.join(src, "stable", "link"))

    def cipher_prefixes(self, *plain_dirs):
        return [self.cipher_rel(SRC + "/" + d) for d in plain_dirs]

    def assert_errors_name_only(self, err, prefixes, tool, parents=()):
        """Every stderr line of a tool names one of the hot cipher paths, or is one of the
        tool's closing summaries. `parents`: cipher paths of directories whose listing (and
        manifest, encfsr.dir) changes with a hot entry: lines naming exactly them count too."""
        summary = re.compile(r"^(rsync error: some files|rsync warning: some files|"
                             r"tar: Exiting with failure status due to previous errors|"
                             r"IO error encountered -- skipping file deletion|$)")
        exact = [re.compile(re.escape(p) + r"(/encfsr\.dir)?([\"':/ ]|$)") for p in parents]
        for line in err.splitlines():
            if summary.match(line) or any(r.search(line) for r in exact):
                continue
            self.assertTrue(any(p in line for p in prefixes),
                            "%s reported an error about an entry that was not changed: %r\n%s"
                            % (tool, line, err[-3000:]))

    def backup(self, tool, m, copy):
        """One backup of the view into copy (a directory) by rsync or tar: (exit, stderr)."""
        if tool == "rsync":
            proc, _ = lt.bounded(["rsync", "-a", "--delete", m.path + "/", copy + "/"], 150)
            self.assertIsNotNone(proc, "rsync still running after 150 s\n" + self.daemon_logs())
            self.assertIn(proc.returncode, (0, 23, 24), text(proc.stderr)[-3000:])
            return proc.returncode, text(proc.stderr)
        archive = copy + ".tar"
        proc, _ = lt.bounded(["tar", "-cf", archive, "-C", m.path, "."], 150)
        self.assertIsNotNone(proc, "tar still running after 150 s\n" + self.daemon_logs())
        self.assertIn(proc.returncode, (0, 1, 2), text(proc.stderr)[-3000:])
        shutil.rmtree(copy, ignore_errors=True)
        os.makedirs(copy)
        mountlib.run(["tar", "-xpf", archive, "-C", copy], timeout=150)
        os.unlink(archive)
        return proc.returncode, text(proc.stderr)

    def restore(self, copy, dest):
        proc = self.encfsr("restore", "--password-file", self.work.password_file, copy, dest,
                           timeout=150)
        err = text(proc.stderr)
        self.assertIn(proc.returncode, (0, 8), err[-3000:])
        damaged = re.findall(r"^damaged: (.+?): ", err, re.M)
        return proc.returncode, damaged, err

    def assert_stable_exact(self, src, dest):
        want = mountlib.tree_digest(os.path.join(src, "stable"))
        got = mountlib.tree_digest(os.path.join(dest, SRC, "stable"))
        self.assertEqual(sorted(got), sorted(want))
        self.assertEqual([k for k in want if got[k] != want[k]], [],
                         "untouched entries differ from the source")

    def assert_final_state_restores_exactly(self, m, src, tool):
        time.sleep(2.5)  # past the kernel's attribute and entry timeouts (1 s)
        copy = self.work.path("final-%s-%d" % (tool, time.monotonic_ns()))
        if tool == "rsync":
            proc = mountlib.run(["rsync", "-a", "-I", m.path + "/", copy + "/"], check=False,
                                timeout=150)
            self.assertEqual(proc.returncode, 0, text(proc.stderr))
        else:
            code, err = self.backup("tar", m, copy)
            self.assertEqual(code, 0, err)
        dest = copy + "-restored"
        code, damaged, err = self.restore(copy, dest)
        self.assertEqual((code, damaged), (0, []), err)
        want = mountlib.tree_digest(src)
        got = mountlib.tree_digest(os.path.join(dest, SRC))
        self.assertEqual(sorted(got), sorted(want))
        self.assertEqual([k for k in want if got[k] != want[k]], [],
                         "the later backup does not restore the final state")


# ------------------------------------------------------------------- 1. a source that changes

HOT = ["t0", "t1", "g0", "g1", "r0", "r1", "x0", "x1"]  # truncated, grown, renamed, deleted


class MutatingSourceTest(FaultCase):
    """Files truncated, grown, replaced by rename and deleted, and a directory removed and
    recreated, while tar and rsync read the view."""

    def setUp(self):
        super().setUp()
        self.src = self.work.mkdir("mut-%d" % time.monotonic_ns())
        self.make_stable(self.src)
        self.gen = {}
        for n in HOT:
            self.write_hot(n, 0, 3 * MiB + 100)
        self.churn_gen = 0
        self.make_churn()

    def hot(self, name):
        return os.path.join(self.src, "hot", name)

    def write_hot(self, name, gen, size, path=None):
        self.gen[name] = gen
        lt.write_file(path or self.hot(name), stream(name, gen, size))

    def make_churn(self):
        d = os.path.join(self.src, "churn")
        for i in range(5):
            lt.write_file(os.path.join(d, "c%d" % i), stream("c%d" % i, self.churn_gen,
                                                              20000 * (i + 1)))
        lt.write_file(os.path.join(d, "sub", "deep"), stream("deep", self.churn_gen, 5000))

    def mutate_files(self, i):
        name = HOT[i % len(HOT)]
        p = self.hot(name)
        kind = name[0]
        try:
            size = os.path.getsize(p)
        except FileNotFoundError:
            size = None
        gen = self.gen[name]
        if size is None:  # deleted last time: back with a new state
            self.write_hot(name, gen + 1, 2 * MiB + i % 9000)
        elif kind == "t":
            if size < MiB:
                self.write_hot(name, gen + 1, 3 * MiB + i % 5000)
            else:
                os.truncate(p, size - 300000 - i % 4096)
        elif kind == "g":
            if size > 6 * MiB:
                self.write_hot(name, gen + 1, MiB + i % 5000)
            else:
                with open(p, "ab") as f:
                    f.write(stream(name, gen, size + 70000 + i % 4096)[size:])
        elif kind == "r":
            tmp = os.path.join(self.src, "hot", ".%s.new" % name)
            self.write_hot(name, gen + 1, 2 * MiB + i % 7000, path=tmp)
            os.rename(tmp, p)
        else:
            os.unlink(p)

    def mutate_dir(self, i):
        shutil.rmtree(os.path.join(self.src, "churn"))
        time.sleep(0.002)
        self.churn_gen += 1
        self.make_churn()

    def check_round(self, tool, mutate, hot_dirs):
        m = self.mount(self.work.config([{"name": SRC, "path": self.src}]))
        prefixes = self.cipher_prefixes(*hot_dirs)
        # The source's root lists the hot directories: its listing and manifest change too.
        parents = [self.cipher_rel(SRC)]
        for round_ in range(3):
            copy = self.work.path("copy-%s-%d-%d" % (tool, round_, time.monotonic_ns()))
            with Mutator(mutate) as mutator:
                code, err = self.backup(tool, m, copy)
                mutator.stop()
            self.assertGreater(mutator.count, 5, "the mutator hardly ran")
            self.assertTrue(m.alive(), "daemon died:\n" + m.stderr_text())
            self.assert_errors_name_only(err, prefixes, tool, parents)
            dest = copy + "-restored"
            _, damaged, rerr = self.restore(copy, dest)
            for path in damaged:
                self.assertTrue(path == SRC or
                                any(path.startswith(SRC + "/" + d) for d in hot_dirs),
                                "damage outside the changed entries: %s\n%s" % (path, rerr))
            self.assert_stable_exact(self.src, dest)
            for d in hot_dirs:  # what came back of a changed entry is one of its states
                root = os.path.join(dest, SRC, d)
                for dirpath, _, files in os.walk(root):
                    for n in files:
                        if n.startswith("."):
                            continue
                        data = lt.read_all(os.path.join(dirpath, n))
                        self.assertTrue(valid_state(n, data), "%s: not a state the file had: "
                                        "%s\n%s: %s\nrestore: %s" % (
                                            os.path.join(dirpath, n), describe_state(n, data),
                                            tool, err[-3000:], rerr[-2000:]))
        self.assertEqual(m.stderr_text().count("internal error"), 0, m.stderr_text())
        self.assert_final_state_restores_exactly(m, self.src, tool)
        self.assert_clean_unmount(m)

    @lt.deadline(280)
    def test_rsync_while_files_are_truncated_grown_replaced_and_deleted(self):
        self.check_round("rsync", self.mutate_files, ["hot"])

    @lt.deadline(280)
    def test_tar_while_files_are_truncated_grown_replaced_and_deleted(self):
        self.check_round("tar", self.mutate_files, ["hot"])

    @lt.deadline(280)
    def test_rsync_while_a_directory_is_removed_and_recreated(self):
        self.check_round("rsync", self.mutate_dir, ["churn"])

    @lt.deadline(280)
    def test_tar_while_a_directory_is_removed_and_recreated(self):
        self.check_round("tar", self.mutate_dir, ["churn"])

    @lt.deadline(120)
    def test_open_directory_removed_and_recreated_gives_an_errno_then_the_new_one(self):
        """A directory of the view held open (a tool's cwd, an fd) while its source directory
        is removed and recreated: the old handle gives an errno or the new entries, never a
        mix; a fresh lookup shows the new directory exactly."""
        m = self.mount(self.work.config([{"name": SRC, "path": self.src}]))
        view_dir = self.cipher(m.path, SRC + "/churn")
        fd = os.open(view_dir, os.O_RDONLY | os.O_DIRECTORY)
        try:
            before = set(os.listdir(fd))
            self.assertEqual(len(before), 7)  # c0..c4, sub and the manifest encfsr.dir
            self.mutate_dir(0)
            time.sleep(2.5)  # past the entry timeout
            try:
                old = set(os.listdir(fd))
            except OSError as e:
                self.assertIn(e.errno, (errno.ENOENT, errno.ESTALE, errno.EIO), e)
            else:
                self.assertIn(old, (set(), before), "the old handle lists a mix")
            fresh = set(os.listdir(view_dir))
            self.assertEqual(fresh, before)  # same names, new contents
            for i in range(5):
                data = lt.read_all(self.cipher(m.path, SRC + "/churn/c%d" % i))
                self.assertEqual(data, self.sealed(SRC + "/churn/c%d" % i,
                                                   stream("c%d" % i, 1, 20000 * (i + 1))))
        finally:
            os.close(fd)
        self.assert_clean_unmount(m)


# ---------------------------------------------------------------- 2. entries it may not read

def nobody_may_mount_for_root():
    """Whether a daemon running as nobody can mount a view root may read: /dev/fuse open to
    all (Debian's default) and user_allow_other in /etc/fuse.conf (for -o allow_other)."""
    if (os.stat("/dev/fuse").st_mode & 0o006) != 0o006:
        return False
    try:
        with open("/etc/fuse.conf") as f:
            return any(line.strip() == "user_allow_other" for line in f)
    except OSError:
        return False


class UnreadableEntriesTest(FaultCase):
    """A file (mode 000) and a directory (mode 000, with contents) the daemon may not read,
    while tar and rsync read the view: Permission denied for those two entries and nothing
    else; the rest of the backup restores byte-exact; the daemon stays up."""

    def daemon(self, src):
        """The mount, its daemon unprivileged: as nobody (with -o allow_other, so that the tools
        run as root) if nobody_may_mount_for_root() (the key, password and config are then
        given to nobody), else as root without the two DAC capabilities (as live_tree_test's
        ErrorsReportedTest)."""
        if os.geteuid() != 0:
            if mountlib.in_ci():
                self.fail("CI=true but not root: cannot make entries the daemon may not read")
            self.skipTest("needs root (to make entries the daemon may not read)")
        if nobody_may_mount_for_root():
            nobody = pwd.getpwnam("nobody")
            own = self.work.mkdir("nobody-%d" % time.monotonic_ns())
            os.chmod(self.work.dir, 0o711)
            key = os.path.join(own, "host.key")
            password = os.path.join(own, "password")
            shutil.copy(self.work.key, key)
            shutil.copy(self.work.password_file, password)
            config = mountlib.write_config(os.path.join(own, "config.yaml"), key, password,
                                           [{"name": SRC, "path": src}])
            mnt = os.path.join(own, "mnt")
            os.makedirs(mnt)
            for p in (own, key, password, config, mnt):
                os.chown(p, nobody.pw_uid, nobody.pw_gid)
            os.chmod(self.work.dir, 0o711)
            for dirpath, dirs, files in os.walk(src):
                os.chmod(dirpath, 0o755)
            os.chmod(os.path.dirname(src), 0o755)
            prefix = ["setpriv", "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid,
                      "--clear-groups"]
            m = self.mount(config, mnt=mnt, prefix=prefix, options=["allow_other"])
            with open("/proc/%d/status" % m.pid) as f:
                uid_line = [line for line in f if line.startswith("Uid:")][0]
            self.assertEqual(int(uid_line.split()[2]), nobody.pw_uid)
            return m
        m = self.mount(self.work.config([{"name": SRC, "path": src}]), prefix=lt.SETPRIV)
        caps = lt.cap_effective(m.pid)
        self.assertEqual(caps & ((1 << lt.CAP_DAC_OVERRIDE) | (1 << lt.CAP_DAC_READ_SEARCH)), 0)
        return m

    def check(self, tool):
        src = self.work.mkdir("unreadable-%s" % tool)
        self.make_stable(src)
        lt.write_file(os.path.join(src, "no", "secret.txt"), b"secret\n" * 1000)
        lt.write_file(os.path.join(src, "no", "readable.txt"), b"readable\n" * 1000)
        lt.write_file(os.path.join(src, "locked", "inside.txt"), b"inside\n")
        os.chmod(os.path.join(src, "no", "secret.txt"), 0)
        m = self.daemon(src)
        os.chmod(os.path.join(src, "locked"), 0)
        self.addCleanup(os.chmod, os.path.join(src, "locked"), 0o755)
        copy = self.work.path("copy-unreadable-%s" % tool)
        code, err = self.backup(tool, m, copy)
        self.assertNotEqual(code, 0, "%s reported no error" % tool)
        self.assertIn("Permission denied", err)
        secret = self.cipher_rel(SRC + "/no/secret.txt")
        locked = self.cipher_rel(SRC + "/locked")
        self.assert_errors_name_only(err, [secret, locked], tool)
        self.assertIn(secret, err)
        self.assertIn(locked, err)
        self.assertTrue(m.alive(), "daemon died:\n" + m.stderr_text())
        dest = copy + "-restored"
        _, damaged, rerr = self.restore(copy, dest)
        for path in damaged:
            self.assertIn(path, (SRC + "/no/secret.txt", SRC + "/locked"), rerr)
        self.assert_stable_exact(src, dest)
        self.assertEqual(lt.read_all(os.path.join(dest, SRC, "no", "readable.txt")),
                         b"readable\n" * 1000)
        self.assertFalse(os.path.exists(os.path.join(dest, SRC, "no", "secret.txt")))
        # Once the modes are back, a later backup restores everything.
        os.chmod(os.path.join(src, "locked"), 0o755)
        os.chmod(os.path.join(src, "no", "secret.txt"), 0o644)
        self.assert_final_state_restores_exactly(m, src, tool)
        self.assert_clean_unmount(m)

    @lt.deadline(200)
    def test_rsync_of_entries_the_daemon_may_not_read(self):
        self.check("rsync")

    @lt.deadline(200)
    def test_tar_of_entries_the_daemon_may_not_read(self):
        self.check("tar")


# ----------------------------------------------------------------------- 3. the daemon killed

# Reads a file in 64 KiB reads; after the first MiB says "going" and waits for a line on stdin.
READER = r"""
import errno, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
done = 0
try:
    while True:
        b = os.read(fd, 65536)
        if not b:
            print("eof %d" % done, flush=True)
            break
        if done < 1 << 20 <= done + len(b):  # 1 MiB read: wait until told to read on
            print("going %d" % (done + len(b)), flush=True)
            sys.stdin.readline()
        done += len(b)
except OSError as e:
    print("errno %s" % errno.errorcode.get(e.errno, e.errno), flush=True)
"""


class DaemonKilledTest(FaultCase):
    """SIGKILL to the daemon while a reader is mid-file: the reader gets an errno (it does not
    hang), `encfsr umount MOUNTPOINT` recovers the dead mountpoint, and it mounts again and
    serves the same bytes."""

    @lt.deadline(150)
    def test_daemon_killed_mid_read_then_umount_recovers_the_mountpoint(self):
        src = self.work.mkdir("killed")
        lt.write_file(os.path.join(src, "big.bin"), random.Random(5).randbytes(48 * MiB))
        config = self.work.config([{"name": SRC, "path": src}])
        # The bytes the view serves, read through another mount (so that none of them is in
        # the page cache of the mount killed below: cached pages would still be served).
        with mountlib.Mount(config, self.work.mountpoint()) as first_mount:
            want = mountlib.file_sha256(self.cipher(first_mount.path, SRC + "/big.bin"))
        mnt = self.work.mountpoint()
        m = self.mount(config, mnt=mnt)
        big = self.cipher(m.path, SRC + "/big.bin")
        reader = subprocess.Popen([sys.executable, "-c", READER, big], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            first = reader.stdout.readline().decode()
            self.assertTrue(first.startswith("going"), repr(first))
            self.assertEqual(mountlib.daemon_pids(mnt), [m.pid])
            os.kill(m.pid, signal.SIGKILL)
            m.proc.wait(timeout=10)
            out, err = reader.communicate(b"go\n", timeout=30)  # read on
        finally:
            if reader.poll() is None:
                reader.kill()
                reader.communicate()
        last = text(out).strip().splitlines()[-1] if text(out).strip() else ""
        self.assertRegex(last, r"^errno (ENOTCONN|ECONNABORTED|EIO)$",
                         "the reader did not get an errno: %r %r" % (text(out), text(err)))
        self.assertTrue(mountlib.is_mounted(mnt), "the dead mount is already gone")
        probe, _ = lt.bounded([sys.executable, "-c", "import os,sys; os.listdir(sys.argv[1])", mnt],
                              10)
        self.assertIsNotNone(probe, "listing the dead mountpoint hangs")
        self.assertIn("Transport endpoint is not connected", text(probe.stderr))
        proc = self.encfsr("umount", mnt, timeout=30)
        self.assertEqual(proc.returncode, 0, text(proc.stderr))
        self.assertFalse(mountlib.is_mounted(mnt))
        self.assertEqual(os.listdir(mnt), [])
        m.close()
        m2 = self.mount(config, mnt=mnt)
        self.assertEqual(mountlib.file_sha256(self.cipher(m2.path, SRC + "/big.bin")), want)
        self.assert_clean_unmount(m2)


if __name__ == "__main__":
    mountlib.take_bin_from_argv()
    unittest.main(verbosity=2)
