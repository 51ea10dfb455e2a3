#!/usr/bin/env python3
"""tests/integration/ops_test.py — everyday operation of the built binary.

- FstabTest: the form mount(8) runs for a `fuse.encfsr` fstab line (`encfsr CONFIG MNT -o ...`),
  `mount -t fuse 'BIN#CONFIG'`, and inside a private mount namespace (encfsr bound on
  /usr/local/bin, where mount.fuse3's shell finds it) `mount -t fuse.encfsr` and
  `mount --fstab FILE MNT`; all unmounted with umount(8). The config's password_file is used.
- QuietTest: mount, umount and run print nothing on success; -v says what happens (run's
  summary of lookups and bytes); unknown commands are named; non-empty mountpoints are refused
  unless -o nonempty; --pid-file.
- ProgressTest: restore and verify show progress on a terminal, not on a pipe, and on a pipe
  with --progress.
- VersionCheckTest: --version and `encfsr check` (no FUSE needed).
- SystemdUnitsTest: the units of packaging/ pass `systemd-analyze verify`.

The binary: ENCFSR_BIN or argv[1]; then the class to run (all without). FUSE or a tool
unusable: skipped with the reason, or FAILED under CI=true.
"""

import json
import os
import pty
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mountlib  # noqa: E402
from mountlib import Mount, Setup, encfsr_bin, in_ci, is_mounted, require_fuse  # noqa: E402

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROGRESS_RE = re.compile(r"^\s*\d+%  entries (\d+)/(\d+)  \S+ \S+/\S+ \S+  \S+ \S+/s  ETA \S+$")


def encfsr(*args, timeout=120, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run([encfsr_bin()] + [str(a) for a in args], timeout=timeout, text=True,
                          **kw)


def need(condition, reason):
    """Skip (or fail under CI=true) with the reason when a tool is missing."""
    if condition:
        return
    if in_ci():
        raise AssertionError("CI=true but " + reason)
    sys.stderr.write("skipping: %s\n" % reason)
    raise unittest.SkipTest(reason)


def wait_for(predicate, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def mount_options(mnt):
    """The per-mount options (field 6) of mnt in /proc/self/mountinfo, or None."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split(" ")
            if fields[4] == mnt:
                return fields[5].split(",")
    return None


def force_unmount(mnt):
    """Cleanup of a failed test: unmount lazily and kill what still serves mnt."""
    if is_mounted(mnt):
        subprocess.run(["umount", "-l", mnt], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    for pid in mountlib.daemon_pids(mnt):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def cipher_size(n):
    """Size in the view of an n-byte file: 16 bytes of tag per 4 KiB block, one for empty."""
    blocks = max(1, (n + 4095) // 4096)
    return n + 16 * blocks


class Base(unittest.TestCase):
    """One key, a small source tree and a config using the key's password_file."""

    @classmethod
    def setUpClass(cls):
        cls.setup = Setup(prefix="encfsr-ops-")
        cls.source = cls.setup.mkdir("source")
        os.makedirs(os.path.join(cls.source, "sub"))
        with open(os.path.join(cls.source, "hello.txt"), "w") as f:
            f.write("hello world\n" * 1000)
        with open(os.path.join(cls.source, "sub", "b.bin"), "wb") as f:
            f.write(os.urandom(20000))
        cls.config = cls.setup.config([{"name": "data", "path": cls.source}], name="ops.yaml")

    @classmethod
    def tearDownClass(cls):
        cls.setup.cleanup()

    def mountpoint(self):
        mnt = self.setup.mountpoint()
        self.addCleanup(force_unmount, mnt)
        return mnt

    def assert_view(self, mnt):
        names = os.listdir(mnt)
        self.assertIn("encfsr.key", names)
        self.assertIn("encfsr.dir", names)
        self.assertEqual(len(names), 3, names)  # key file, manifest and the (encrypted) source
        self.assertNotIn("data", names)

    def assert_unmounted_and_ended(self, mnt):
        self.assertTrue(wait_for(lambda: not is_mounted(mnt)), "%s still mounted" % mnt)
        self.assertTrue(wait_for(lambda: not mountlib.daemon_pids(mnt)),
                        "the daemon of %s did not end" % mnt)


class FstabTest(Base):
    def setUp(self):
        require_fuse()
        need(shutil.which("mount") and os.path.exists("/sbin/mount.fuse3"),
             "mount(8) or /sbin/mount.fuse3 is not installed")
        need(os.geteuid() == 0, "mount(8) of a FUSE type needs root here")

    def test_the_form_mount_runs_daemonizes_quietly_and_is_read_only(self):
        mnt = self.mountpoint()
        # Exactly what mount.fuse3 runs for `mount -t fuse.encfsr CONFIG MNT` (no -o given):
        # rw is asked for, and the view is read-only all the same.
        r = encfsr(self.config, mnt, "-o", "rw,dev,suid")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))
        self.assertTrue(is_mounted(mnt))
        self.assertIn("ro", mount_options(mnt))
        self.assert_view(mnt)
        self.assertEqual(len(mountlib.daemon_pids(mnt)), 1, "one daemon serves the view")
        r = subprocess.run(["umount", mnt], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_unmounted_and_ended(mnt)

    def test_fstab_noise_options_are_accepted(self):
        mnt = self.mountpoint()
        r = encfsr(self.config, mnt, "-o",
                   "ro,noauto,nofail,_netdev,defaults,user,nouser,users,auto,"
                   "x-systemd.automount,comment=x,dev,suid,noexec,nosuid,nodev")
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        self.assertTrue(is_mounted(mnt))
        self.assertEqual(encfsr("umount", mnt).returncode, 0)
        self.assert_unmounted_and_ended(mnt)
        r = encfsr(self.config, mnt, "-o", "ro,rw=1")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("unknown or unsupported -o option 'rw=1'", r.stderr)

    def test_a_mountpoint_named_like_a_command(self):
        mnt = self.setup.mkdir("cwd", "run")
        self.addCleanup(force_unmount, mnt)
        r = encfsr(self.config, "run", "-o", "ro", cwd=os.path.dirname(mnt))
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        self.assert_view(mnt)
        self.assertEqual(encfsr("umount", mnt).returncode, 0)
        self.assert_unmounted_and_ended(mnt)

    def test_mount_t_fuse_with_program_and_source(self):
        # mount.fuse3's own notation: type "fuse", source "PROGRAM#SOURCE".
        mnt = self.mountpoint()
        r = subprocess.run(["mount", "-t", "fuse", "%s#%s" % (encfsr_bin(), self.config), mnt,
                            "-o", "ro"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))
        self.assertTrue(is_mounted(mnt))
        self.assert_view(mnt)
        r = subprocess.run(["umount", mnt], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_unmounted_and_ended(mnt)

    def test_a_failing_mount_fails_mount(self):
        mnt = self.mountpoint()
        bad = os.path.join(self.setup.dir, "missing.yaml")
        r = subprocess.run(["mount", "-t", "fuse", "%s#%s" % (encfsr_bin(), bad), mnt],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("encfsr: error:", r.stderr)
        self.assertFalse(is_mounted(mnt))

    def test_type_fuse_encfsr_and_fstab_in_a_private_namespace(self):
        need(shutil.which("unshare"), "unshare(1) is not installed")
        probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        need(probe.returncode == 0, "unshare -m does not work here: %r" % probe.stdout)
        mnt = self.mountpoint()
        bindir = self.setup.mkdir("bin")
        os.symlink(encfsr_bin(), os.path.join(bindir, "encfsr"))
        fstab = os.path.join(self.setup.dir, "fstab")
        with open(fstab, "w") as f:
            f.write("%s %s fuse.encfsr noauto,ro 0 0\n" % (self.config, mnt))
        # mount.fuse3 runs "encfsr ..." through /bin/sh with mount(8)'s environment, which has
        # no PATH: the shell's default PATH has /usr/local/bin. In this namespace only, the
        # freshly built binary is there. Everything is unmounted before the shell ends; a
        # trap detaches the view if a step fails.
        script = r"""
set -u
MNT="$1"; CONFIG="$2"; FSTAB="$3"; BINDIR="$4"
trap 'umount -l "$MNT" 2>/dev/null' EXIT
mount --bind "$BINDIR" /usr/local/bin || exit 90
step() { echo "== $1"; }
step type
mount -t fuse.encfsr "$CONFIG" "$MNT" -o ro </dev/null; echo "mount=$?"
ls "$MNT"; grep -c " $MNT .* fuse.encfsr " /proc/self/mountinfo
umount "$MNT"; echo "umount=$?"
step fstab
mount --fstab "$FSTAB" "$MNT" </dev/null; echo "mount=$?"
ls "$MNT"
umount "$MNT"; echo "umount=$?"
grep -c " $MNT " /proc/self/mountinfo
"""
        r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script,
                            "sh", mnt, self.config, fstab, bindir],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=120)
        out = r.stdout
        self.assertNotEqual(r.returncode, 90, "cannot bind-mount on /usr/local/bin: " + r.stderr)
        self.assertEqual(r.stderr, "")
        sections = dict(re.findall(r"== (\w+)\n(.*?)(?=\n== |\Z)", out, re.S))
        for name in ("type", "fstab"):
            lines = sections[name].split("\n")
            self.assertEqual(lines[0], "mount=0", out)
            self.assertIn("encfsr.key", lines, out)
            self.assertIn("umount=0", lines, out)
        # after mount=0 and the listing (source, encfsr.dir, encfsr.key): mounted as fuse.encfsr
        self.assertEqual(sections["type"].split("\n")[4], "1", out)
        self.assertEqual(sections["fstab"].strip().split("\n")[-1], "0", out)  # gone at the end
        # The daemons ended with their unmounts (they would hold the namespace otherwise).
        self.assertTrue(wait_for(lambda: not mountlib.daemon_pids(mnt)))


class QuietTest(Base):
    def setUp(self):
        require_fuse()

    def test_mount_and_umount_print_nothing_unless_verbose(self):
        mnt = self.mountpoint()
        r = encfsr("mount", self.config, mnt)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))
        self.assert_view(mnt)
        r = encfsr("umount", mnt)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))
        self.assert_unmounted_and_ended(mnt)
        r = encfsr("mount", "-v", self.config, mnt)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stderr, r"^encfsr: info: mounted %s on %s \(daemon pid \d+\)\n$" % (
            re.escape(self.config), re.escape(mnt)))
        self.assertEqual(encfsr("umount", mnt).returncode, 0)
        self.assert_unmounted_and_ended(mnt)

    def test_foreground_mount_is_quiet_too(self):
        mnt = self.mountpoint()
        with Mount(self.config, mnt) as m:
            self.assert_view(mnt)
        self.assertEqual(m.returncode, 0)
        self.assertEqual(m.stderr_text(), "")

    def test_run_prints_only_the_command_output(self):
        tmpdir = self.setup.mkdir("runtmp-quiet")
        r = encfsr("run", self.config, "--", "sh", "-c", 'ls "$1" >/dev/null && echo done',
                   "sh", "{}", env=dict(os.environ, TMPDIR=tmpdir))
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "done\n", ""))
        self.assertEqual(os.listdir(tmpdir), [])

    def test_run_verbose_summary_counts_lookups_and_bytes(self):
        tmpdir = self.setup.mkdir("runtmp-verbose")
        # The command reads every file of the view once (the key file and two source files).
        r = encfsr("run", "-v", self.config, "--", "sh", "-c",
                   'find "$1" -type f -print0 | xargs -0 cat | wc -c', "sh", "{}",
                   env=dict(os.environ, TMPDIR=tmpdir))
        self.assertEqual(r.returncode, 0, r.stderr)
        total = int(r.stdout.strip())
        expected = cipher_size(12000) + cipher_size(20000)
        self.assertGreater(total, expected)  # plus the key file
        lines = r.stderr.strip().split("\n")
        self.assertRegex(lines[0], r"^encfsr: info: mounted on %s/encfsr-run\.\w+$" % tmpdir)
        self.assertRegex(lines[1], r"^encfsr: info: unmounted ")
        m = re.match(r"^encfsr: info: run: sh exited with status 0 after \d+\.\d s; it looked "
                     r"up (\d+) entries and read (\d+) bytes \(\S+ \S+\) through the view$",
                     lines[2])
        self.assertIsNotNone(m, r.stderr)
        self.assertEqual(len(lines), 3, r.stderr)
        lookups, read = int(m.group(1)), int(m.group(2))
        # source dir, sub, two files, the key file (lookups of readdirplus count too)
        self.assertGreaterEqual(lookups, 5)
        self.assertLess(lookups, 50)
        self.assertEqual(read, total)
        # The status in the summary is the command's.
        r = encfsr("run", "-v", self.config, "--", "sh", "-c", "exit 3",
                   env=dict(os.environ, TMPDIR=tmpdir))
        self.assertEqual(r.returncode, 3)
        self.assertIn("run: sh exited with status 3 after", r.stderr)

    def test_run_summary_goes_to_syslog_without_v(self):
        """In a private mount namespace with its own /dev (null, fuse, and a /dev/log socket
        this test listens on), `encfsr run` without -v sends its summary to syslog."""
        need(shutil.which("unshare"), "unshare(1) is not installed")
        tmpdir = self.setup.mkdir("runtmp-syslog")
        script = r"""
import json, os, socket, stat, subprocess, sys
binary, config, tmpdir = sys.argv[1:4]
devices = {name: os.stat("/dev/" + name).st_rdev for name in ("null", "fuse")}
subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/dev"], check=True)
for name, rdev in devices.items():
    os.mknod("/dev/" + name, 0o666 | stat.S_IFCHR, rdev)
    os.chmod("/dev/" + name, 0o666)
log = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
log.bind("/dev/log")
log.settimeout(2.0)
r = subprocess.run([binary, "run", config, "--", "sh", "-c", 'cat "$1"/encfsr.key', "sh", "{}"],
                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                   text=True, env=dict(os.environ, TMPDIR=tmpdir), timeout=60)
messages = []
try:
    while True:
        messages.append(log.recv(65536).decode("utf-8", "replace"))
except socket.timeout:
    pass
print(json.dumps({"code": r.returncode, "stdout": r.stdout, "stderr": r.stderr,
                  "messages": messages}))
"""
        r = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, "-c",
                            script, encfsr_bin(), self.config, tmpdir],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=120)
        need(r.returncode == 0 or "CalledProcessError" not in r.stderr,
             "cannot mount a tmpfs on /dev in a private mount namespace: " + r.stderr)
        self.assertEqual(r.returncode, 0, r.stderr)
        result = json.loads(r.stdout)
        self.assertEqual(result["code"], 0, result["stderr"])
        self.assertEqual(result["stderr"], "")
        self.assertTrue(result["stdout"].startswith("encfsr-key: 1\n"))
        summaries = [m for m in result["messages"] if "run: sh exited with status 0" in m]
        self.assertEqual(len(summaries), 1, result["messages"])
        # <30> is facility daemon (3) * 8 + priority info (6); the tag names encfsr and its pid.
        self.assertRegex(summaries[0], r"^<30>.*encfsr\[\d+\]: run: sh exited with status 0 "
                         r"after \d+\.\d s; it looked up \d+ entries and read \d+ bytes")

    def test_unknown_command_is_named(self):
        r = encfsr("foo")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, "encfsr: error: unknown command 'foo' (see encfsr --help)\n")
        r = encfsr("mount-it", "x")
        self.assertEqual(r.stderr,
                         "encfsr: error: unknown command 'mount-it' (see encfsr --help)\n")

    def test_non_empty_mountpoint_is_refused_unless_nonempty(self):
        mnt = self.mountpoint()
        hidden = os.path.join(mnt, "hidden.txt")
        with open(hidden, "w") as f:
            f.write("under the mount\n")
        r = encfsr("mount", self.config, mnt)
        self.assertEqual(r.returncode, 6)
        self.assertEqual(r.stderr, "encfsr: error: mountpoint %s is not empty (mounting would "
                         "hide its contents; -o nonempty allows it)\n" % mnt)
        self.assertFalse(is_mounted(mnt))
        # The fstab form says the same.
        r = encfsr(self.config, mnt, "-o", "ro")
        self.assertEqual(r.returncode, 6)
        self.assertIn("is not empty", r.stderr)
        r = encfsr("mount", "-o", "nonempty", self.config, mnt)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        self.assert_view(mnt)
        self.assertFalse(os.path.exists(hidden))
        self.assertEqual(encfsr("umount", mnt).returncode, 0)
        self.assert_unmounted_and_ended(mnt)
        self.assertTrue(os.path.exists(hidden))

    def test_pid_file_names_the_daemon_and_goes_with_it(self):
        mnt = self.mountpoint()
        pid_file = os.path.join(self.setup.dir, "view.pid")
        r = encfsr("mount", "--pid-file", pid_file, self.config, mnt)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        with open(pid_file) as f:
            pid = int(f.read())
        self.assertEqual(mountlib.daemon_pids(mnt), [pid])
        self.assertEqual(encfsr("umount", mnt).returncode, 0)
        self.assert_unmounted_and_ended(mnt)
        self.assertTrue(wait_for(lambda: not os.path.exists(pid_file)), "pid file left behind")
        # A relative name is the caller's directory, also when the daemon removes it.
        r = encfsr("mount", "--pid-file", "rel.pid", self.config, mnt, cwd=self.setup.dir)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        rel = os.path.join(self.setup.dir, "rel.pid")
        self.assertTrue(os.path.exists(rel))
        self.assertEqual(encfsr("umount", mnt).returncode, 0)
        self.assert_unmounted_and_ended(mnt)
        self.assertTrue(wait_for(lambda: not os.path.exists(rel)), "relative pid file left")
        r = encfsr("mount", "-f", "--pid-file", pid_file, self.config, mnt)
        self.assertEqual(r.returncode, 2)
        r = encfsr("mount", "--pid-file", os.path.join(self.setup.dir, "no", "dir.pid"),
                   self.config, mnt)
        self.assertEqual(r.returncode, 9, r.stderr)
        self.assertIn("cannot write the pid file", r.stderr)
        self.assertFalse(is_mounted(mnt))

    def test_umount_lazy_if_busy(self):
        mnt = self.mountpoint()
        self.assertEqual(encfsr("mount", self.config, mnt).returncode, 0)
        holder = open(os.path.join(mnt, "encfsr.key"), "rb")
        try:
            r = encfsr("umount", mnt)
            self.assertEqual(r.returncode, 7, r.stderr)  # busy
            self.assertTrue(is_mounted(mnt))
            r = encfsr("umount", "--lazy-if-busy", mnt)
            self.assertEqual((r.returncode, r.stderr), (0, ""))
            self.assertFalse(is_mounted(mnt))
            self.assertTrue(holder.read().startswith(b"encfsr-key: 1\n"))
        finally:
            holder.close()
        self.assertTrue(wait_for(lambda: not mountlib.daemon_pids(mnt)), "the daemon did not end")

    def test_help_texts_say_so(self):
        out = encfsr("--help").stdout
        for word in ("check", "fuse.encfsr", "-v"):
            self.assertIn(word, out)
        out = encfsr("mount", "--help").stdout
        for word in ("nonempty", "fstab", "--pid-file", "-v,--verbose", "read-only"):
            self.assertIn(word, out)
        out = encfsr("run", "--help").stdout
        for word in ("-v,--verbose", "syslog", "summary"):
            self.assertIn(word, out)
        for command in ("restore", "verify"):
            out = encfsr(command, "--help").stdout
            self.assertIn("--progress", out)
            self.assertIn("--no-progress", out)
        self.assertIn("--lazy-if-busy", encfsr("umount", "--help").stdout)


def run_on_a_terminal(args, timeout=120):
    """Runs args with stderr on a pseudo-terminal; returns (code, stdout, terminal output)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=slave)
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    while True:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the other side is closed
                data = b""
            if not data and proc.poll() is not None:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("timeout")
    out = proc.stdout.read()
    proc.stdout.close()
    proc.wait()
    os.close(master)
    return proc.returncode, out.decode(), b"".join(chunks).decode("utf-8", "replace")


class ProgressTest(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A copy of the view: many files and some MiB, so that there is progress to show.
        big = os.path.join(cls.source, "many")
        os.makedirs(big)
        for i in range(200):
            with open(os.path.join(big, "f%03d" % i), "wb") as f:
                f.write(os.urandom(20000))
        with open(os.path.join(cls.source, "big.bin"), "wb") as f:
            f.write(os.urandom(8 * 1024 * 1024))
        cls.copy = os.path.join(cls.setup.dir, "copy")
        mnt = cls.setup.mountpoint()
        try:
            with Mount(cls.config, mnt):
                shutil.copytree(mnt, cls.copy, symlinks=True)
        except unittest.SkipTest:
            cls.copy = None
        cls.entries = None
        if cls.copy:
            r = encfsr("verify", "--password-file", cls.setup.password_file, cls.copy)
            cls.entries = int(re.match(r"entries (\d+) ", r.stdout).group(1))

    def setUp(self):
        if self.copy is None:
            require_fuse()

    def key_options(self):
        return ["--password-file", self.setup.password_file]

    def progress_lines(self, text):
        return [line for line in text.split("\n") if PROGRESS_RE.match(line)]

    def test_verify_progress_on_a_pipe_only_when_asked(self):
        r = encfsr("verify", *self.key_options(), self.copy)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        summary = r.stdout
        r = encfsr("verify", "--no-progress", *self.key_options(), self.copy)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        r = encfsr("verify", "--progress", *self.key_options(), self.copy)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, summary)  # the summary is untouched
        lines = self.progress_lines(r.stderr)
        self.assertGreaterEqual(len(lines), 1, r.stderr)
        self.assertEqual(len(lines), len(r.stderr.strip().split("\n")), r.stderr)
        self.assertNotIn("\r", r.stderr)  # no terminal codes on a pipe
        last = PROGRESS_RE.match(lines[-1])
        self.assertEqual(last.group(1), last.group(2), lines[-1])  # all done
        self.assertTrue(lines[-1].lstrip().startswith("100%"), lines[-1])
        # -q silences progress too, unless it is asked for.
        r = encfsr("verify", "-q", *self.key_options(), self.copy)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))
        r = encfsr("verify", "-q", "--progress", *self.key_options(), self.copy)
        self.assertEqual(r.stdout, "")
        self.assertTrue(self.progress_lines(r.stderr))

    def test_restore_progress_on_a_pipe_only_when_asked(self):
        dest = os.path.join(self.setup.dir, "restored-quiet")
        r = encfsr("restore", *self.key_options(), self.copy, dest)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.progress_lines(r.stderr), [])
        self.assertRegex(r.stderr, r"^restored \d+ files")
        dest = os.path.join(self.setup.dir, "restored-progress")
        r = encfsr("restore", "--progress", *self.key_options(), self.copy, dest)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = self.progress_lines(r.stderr)
        self.assertGreaterEqual(len(lines), 1, r.stderr)
        last = PROGRESS_RE.match(lines[-1])
        self.assertEqual(last.group(1), last.group(2), lines[-1])
        self.assertEqual(int(last.group(2)), self.entries, lines[-1])
        self.assertRegex(r.stderr.strip().split("\n")[-1], r"^restored \d+ files")

    def test_progress_is_drawn_on_a_terminal_by_default(self):
        code, out, term = run_on_a_terminal(
            [encfsr_bin(), "verify", *self.key_options(), self.copy])
        self.assertEqual(code, 0, term)
        self.assertIn("clean", out)
        self.assertIn("\r\x1b[K", term)
        self.assertRegex(term, r"\d+%%  entries \d+/%d " % self.entries)
        code, out, term = run_on_a_terminal(
            [encfsr_bin(), "verify", "--no-progress", *self.key_options(), self.copy])
        self.assertEqual((code, term), (0, ""))


class VersionCheckTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.setup = Setup(prefix="encfsr-check-")

    @classmethod
    def tearDownClass(cls):
        cls.setup.cleanup()

    def test_version_names_format_and_libraries(self):
        r = encfsr("--version")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.strip().split("\n")
        self.assertRegex(lines[0], r"^encfsr \d+\.\d+\.\d+$")
        self.assertEqual(lines[1], "format version 3 (siv-blake2b-xchacha20-4096)")
        self.assertRegex(lines[2], r"^libfuse 3\.\d+\.\d+$")
        self.assertRegex(lines[3], r"^libsodium \d+\.\d+\.\d+$")
        self.assertRegex(lines[4], r"^yaml-cpp \d+\.\d+\.\d+ ")
        self.assertEqual(len(lines), 5, r.stdout)
        with open(os.path.join(SOURCE_DIR, "docs", "FORMAT.md")) as f:
            self.assertIn("version 3 (`siv-blake2b-xchacha20-4096`)", f.readline())
        if shutil.which("pkg-config"):
            for line, module in ((lines[2], "fuse3"), (lines[3], "libsodium")):
                p = subprocess.run(["pkg-config", "--modversion", module],
                                   stdout=subprocess.PIPE, text=True)
                if p.returncode == 0:
                    self.assertEqual(line.split(" ")[1], p.stdout.strip(), module)

    def make_tree(self, name):
        root = self.setup.mkdir(name)

        def write(rel, data=b"x"):
            p = os.path.join(root, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)

        write("a.txt", b"12345")
        write("b.log")
        write("keep.log")
        write("sub/c.log")
        write("sub/d.txt", b"123")
        write("build/out.o")
        write("build/more/x.o")
        write("cache/CACHEDIR.TAG", b"Signature: 8a477f597d28d172789f06886806bc55\n")
        write("cache/blob")
        os.symlink("a.txt", os.path.join(root, "link"))
        os.mkfifo(os.path.join(root, "fifo"))
        return root

    def test_check_shows_sources_and_what_each_rule_excludes(self):
        root = self.make_tree("src1")
        tier2 = self.setup.mkdir("tier2")
        with open(os.path.join(tier2, "only2.txt"), "w") as f:
            f.write("22")
        with open(os.path.join(tier2, "a.txt"), "w") as f:
            f.write("shadowed by the first tier")
        with open(os.path.join(tier2, "z.log"), "w") as f:
            f.write("")
        other = self.setup.mkdir("other")
        with open(os.path.join(other, "o.txt"), "w") as f:
            f.write("o")
        config = self.setup.config(
            [{"name": "main", "paths": [root, tier2],
              "exclude": ["*.log", "# a comment", "!keep.log", "build/", "*.nothing"],
              "exclude_caches": True},
             {"name": "other", "path": other}], name="check.yaml")
        r = encfsr("check", config)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        # main: a.txt keep.log sub sub/d.txt link only2.txt = 6 entries (4 files, 1 dir,
        # 1 symlink), 5 + 1 + 3 + 2 bytes; excluded: b.log sub/c.log z.log by *.log,
        # build by build/, cache by exclude_caches; the FIFO is left out.
        expected = [
            "config %s: valid" % config,
            "key file %s: argon2id, 1 passes, 8 MiB" % self.setup.key,
            "password: password_file %s" % self.setup.password_file,
            "names: base64url; key_in_view: yes; one_file_system: no",
            'source "main": 6 entries (4 files, 1 directory, 1 symlink), 11 bytes (11 B)',
            "  path %s (tier 1)" % root,
            "  path %s (tier 2)" % tier2,
            '  exclude "*.log": excludes 3 entries',
            '  exclude "!keep.log": keeps 1 entry',
            '  exclude "build/": excludes 1 entry',
            '  exclude "*.nothing": excludes 0 entries',
            "  exclude_caches: excludes 1 directory",
            "  left out: 1 entry (sockets, FIFOs, devices)",
            'source "other": 1 entry (1 file, 0 directories, 0 symlinks), 1 bytes (1 B)',
            "  path %s" % other,
            "total: 7 entries, 12 bytes (12 B)",
        ]
        self.assertEqual(r.stdout.split("\n")[:-1], expected, r.stdout)

    def test_check_counts_match_a_plain_mount(self):
        require_fuse()
        root = self.make_tree("src2")
        config = self.setup.config([{"name": "s", "path": root, "exclude": ["*.log"],
                                     "exclude_caches": True}], name="check2.yaml")
        r = encfsr("check", config)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.search(r'^source "s": (\d+) entries', r.stdout, re.M)
        mnt = self.setup.mountpoint()
        with Mount(config, mnt, mode="plain"):
            seen = sum(len(dirs) + len(files) for _, dirs, files in os.walk(os.path.join(mnt, "s")))
        self.assertEqual(int(m.group(1)), seen)

    def test_check_errors_are_those_of_mount(self):
        bad = os.path.join(self.setup.dir, "bad.yaml")
        with open(bad, "w") as f:
            f.write("key: %s\nsources:\n  - name: x\n    path: /no/such/dir\nfoo: 1\n"
                    % self.setup.key)
        r = encfsr("check", bad)
        self.assertEqual(r.returncode, 3)
        self.assertEqual(r.stdout, "")
        m = encfsr("run", bad, "--", "true")  # loads the config the way mount does
        self.assertEqual(m.returncode, 3)
        self.assertEqual(r.stderr, m.stderr)
        self.assertGreaterEqual(len(r.stderr.strip().split("\n")), 2, r.stderr)
        r = encfsr("check", os.path.join(self.setup.dir, "missing.yaml"))
        self.assertEqual(r.returncode, 3, r.stderr)
        # A missing key file is a config error (3), a damaged one exit 4, as for mount.
        src = self.setup.mkdir("src3")
        nokey = mountlib.write_config(os.path.join(self.setup.dir, "nokey.yaml"),
                                      os.path.join(self.setup.dir, "none.key"), None,
                                      [{"name": "s", "path": src}])
        r = encfsr("check", nokey)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(r.stderr, encfsr("run", nokey, "--", "true").stderr)
        damaged_key = os.path.join(self.setup.dir, "damaged.key")
        with open(self.setup.key) as f:
            text = f.read()
        with open(damaged_key, "w") as f:
            f.write(text.replace("kdf: argon2id13", "kdf: argon2i"))
        os.chmod(damaged_key, 0o600)
        damaged = mountlib.write_config(os.path.join(self.setup.dir, "damaged.yaml"),
                                        damaged_key, None, [{"name": "s", "path": src}])
        r = encfsr("check", damaged)
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertTrue(r.stderr.startswith("encfsr: error: key file "), r.stderr)
        self.assertEqual(r.stderr, encfsr("run", damaged, "--", "true").stderr)

    def test_check_needs_no_password(self):
        src = self.setup.mkdir("src4")
        config = mountlib.write_config(os.path.join(self.setup.dir, "nopw.yaml"),
                                       self.setup.key, None, [{"name": "s", "path": src}])
        r = encfsr("check", config)  # stdin is /dev/null: a prompt would fail
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("password: none in the config: asked at mount", r.stdout)


class SystemdUnitsTest(unittest.TestCase):
    UNITS = ("encfsr@.service", "encfsr-backup@.service", "encfsr-backup@.timer")

    def read(self, unit):
        with open(os.path.join(SOURCE_DIR, "packaging", unit)) as f:
            return f.read()

    def test_units_pass_systemd_analyze_verify(self):
        tool = shutil.which("systemd-analyze")
        need(tool, "systemd-analyze is not installed: the units are not verified")
        tmp = tempfile.mkdtemp(prefix="encfsr-units-")
        self.addCleanup(shutil.rmtree, tmp, True)
        paths = []
        for unit in self.UNITS:
            # An instance of each template, with ExecStart= pointing at the built binary (verify
            # checks that the programs exist). --man=no: the man page may not be installed.
            text = self.read(unit).replace("/usr/bin/encfsr", encfsr_bin())
            path = os.path.join(tmp, unit.replace("@.", "@test."))
            with open(path, "w") as f:
                f.write(text)
            paths.append(path)
        r = subprocess.run([tool, "verify", "--man=no"] + paths, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=120)
        if r.returncode != 0 and re.search(r"Failed to (initialize manager|setup|connect)",
                                           r.stdout):
            need(False, "systemd-analyze verify cannot run here: " + r.stdout.strip())
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(r.stdout, "", "systemd-analyze verify warned")

    def test_mount_unit_commands_start_a_ready_view_and_stop_it(self):
        """Runs ExecStartPre/ExecStart/ExecStop the way systemd would (without systemd: paths
        below /etc/encfsr and /run/encfsr moved to a temporary directory), with the default
        mountpoint and with one from the environment file."""
        require_fuse()
        setup = Setup(prefix="encfsr-unit-")
        self.addCleanup(setup.cleanup)
        source = setup.mkdir("source")
        with open(os.path.join(source, "f.txt"), "w") as f:
            f.write("unit test\n")
        etc, run = setup.mkdir("etc"), os.path.join(setup.dir, "run")
        setup.config([{"name": "s", "path": source}], name=os.path.join("etc", "home.yaml"))
        text = (self.read("encfsr@.service").replace("/usr/bin/encfsr", encfsr_bin())
                .replace("/etc/encfsr", etc).replace("/run/encfsr", run).replace("%i", "home"))
        settings = re.findall(r"^(\w+)=(.*)$", text, re.M)
        environment = dict(v.split("=", 1) for k, v in settings if k == "Environment")
        env_file = [v.lstrip("-") for k, v in settings if k == "EnvironmentFile"][0]
        pid_file = dict(settings)["PIDFile"]
        other = os.path.join(setup.dir, "elsewhere", "mnt")
        for env_text in (None, "ENCFSR_MOUNTPOINT=%s\n" % other):
            env = dict(environment)
            if env_text:
                with open(env_file, "w") as f:
                    f.write(env_text)
                env.update(dict([env_text.strip().split("=", 1)]))  # the file overrides
            mnt = env["ENCFSR_MOUNTPOINT"]
            self.addCleanup(force_unmount, mnt)

            def commands(key):
                return [shlex.split(v.lstrip("-").replace("${ENCFSR_MOUNTPOINT}", mnt))
                        for k, v in settings if k == key]
            for argv in commands("ExecStartPre") + commands("ExecStart"):
                r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, timeout=60)
                self.assertEqual((r.returncode, r.stderr), (0, ""), argv)
            # Ready when ExecStart returned: the view is there and the pid file names its daemon.
            self.assertTrue(is_mounted(mnt), mnt)
            self.assertEqual(len(os.listdir(mnt)), 3)  # source, key file, manifest
            with open(pid_file) as f:
                self.assertEqual(mountlib.daemon_pids(mnt), [int(f.read())])
            for argv in commands("ExecStop"):
                r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, timeout=60)
                self.assertEqual((r.returncode, r.stderr), (0, ""), argv)
            self.assertFalse(is_mounted(mnt))
            self.assertTrue(wait_for(lambda: not mountlib.daemon_pids(mnt)), "the daemon did not end")
            self.assertTrue(wait_for(lambda: not os.path.exists(pid_file)), "pid file left")
        self.assertTrue(os.path.isdir(os.path.join(run, "home")))  # the default was used once

    def test_mount_unit_is_forking_with_a_pid_file_and_no_mount_namespace(self):
        text = self.read("encfsr@.service")
        settings = re.findall(r"^(\w+)=(.*)$", text, re.M)
        keys = [k for k, _ in settings]
        values = dict(settings)
        self.assertEqual(values["Type"], "forking")
        self.assertIn("--pid-file %s " % values["PIDFile"], values["ExecStart"])
        self.assertIn("/usr/bin/encfsr umount", values["ExecStop"])
        self.assertIn("DeviceAllow", keys)
        self.assertIn("CAP_SYS_ADMIN", values["CapabilityBoundingSet"])
        # Any of these puts the service in its own mount namespace: the view would be invisible.
        for key in ("ProtectSystem", "ProtectHome", "PrivateTmp", "ReadWritePaths",
                    "ReadOnlyPaths", "InaccessiblePaths", "PrivateDevices", "PrivateMounts",
                    "ProtectKernelTunables", "ProtectKernelModules", "ProtectControlGroups",
                    "TemporaryFileSystem", "BindPaths", "MountFlags"):
            self.assertNotIn(key, keys, key)
        backup = dict(re.findall(r"^(\w+)=(.*)$", self.read("encfsr-backup@.service"), re.M))
        self.assertEqual(backup["ProtectHome"], "read-only")  # sources in /home stay readable
        self.assertIn("encfsr run", backup["ExecStart"])


if __name__ == "__main__":
    mountlib.take_bin_from_argv()
    if not mountlib._BIN and os.environ.get("ENCFSR_BIN"):
        mountlib.set_bin(os.environ["ENCFSR_BIN"])
    unittest.main(verbosity=2)
