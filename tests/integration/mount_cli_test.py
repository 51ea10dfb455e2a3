#!/usr/bin/env python3
"""tests/integration/mount_cli_test.py — `encfsr mount`, `umount` and `run` of the built binary.

Exit codes of mount errors (mountpoint 6, config 3, password 5, key file 4, usage 2), daemon
readiness (the view is there the moment `mount` returns 0), umount (also of a dead daemon),
-f ending cleanly on SIGTERM, and `run`: the command's status, {} replaced in every argument,
128+N for a command killed by signal N, no mount and no temporary directory left behind, and
the command never started when the mount fails. Also a --decrypt round trip of a copy.

The binary: ENCFSR_BIN or argv[1]. FUSE unusable: skipped, or FAILED under CI=true.
"""

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mountlib  # noqa: E402
from mountlib import require_fuse  # noqa: E402  (shared: fails under CI=true, else skips)

BIN = os.environ.get("ENCFSR_BIN")
PASSWORD = "mount cli test password"


def encfsr(*args, timeout=60, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run([BIN] + [str(a) for a in args], timeout=timeout, text=True, **kw)


def unescape(field):
    out, i = "", 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1:i + 4].isdigit():
            out += chr(int(field[i + 1:i + 4], 8))
            i += 4
        else:
            out += field[i]
            i += 1
    return out


def fuse_mounts():
    """Mountpoints of FUSE filesystems (also dead ones, which os.path.ismount misses)."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fstype = right.split(" ")[0]
            if fstype.startswith("fuse"):
                found.append(unescape(left.split(" ")[4]))
    return found


def is_mounted(path):
    return os.path.realpath(path) in fuse_mounts() or path in fuse_mounts()


def force_unmount(mnt):
    for pid in mountlib.daemon_pids(mnt):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for _ in range(3):
        if not is_mounted(mnt):
            break
        subprocess.run(["fusermount3", "-uz", mnt], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        time.sleep(0.1)


def wait_for(predicate, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


class MountCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not BIN:
            raise RuntimeError("set ENCFSR_BIN or pass the encfsr binary as the first argument")
        cls.tmp = tempfile.mkdtemp(prefix="encfsr-mount-cli-")
        cls.password_file = os.path.join(cls.tmp, "password")
        with open(cls.password_file, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(cls.password_file, 0o600)
        cls.wrong_password_file = os.path.join(cls.tmp, "wrong")
        with open(cls.wrong_password_file, "w") as f:
            f.write("not the password\n")
        os.chmod(cls.wrong_password_file, 0o600)
        cls.key = os.path.join(cls.tmp, "host.key")
        r = encfsr("init", "--key", cls.key, "--password-file", cls.password_file, "--quiet",
                   "--kdf-ops", "1", "--kdf-mem-mib", "8", "--insecure-kdf")
        if r.returncode != 0:
            raise AssertionError("init failed: %s" % r.stderr)
        cls.source = os.path.join(cls.tmp, "source")
        os.makedirs(os.path.join(cls.source, "sub"))
        with open(os.path.join(cls.source, "hello.txt"), "w") as f:
            f.write("hello world\n" * 1000)
        with open(os.path.join(cls.source, "sub", "b.bin"), "wb") as f:
            f.write(os.urandom(20000))
        cls.config = cls.write_config("backup.yaml", cls.key)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def write_config(cls, name, key, password_file=None, extra=""):
        path = os.path.join(cls.tmp, name)
        with open(path, "w") as f:
            f.write("key: %s\n" % key)
            f.write("password_file: %s\n" % (password_file or cls.password_file))
            f.write("sources:\n  - name: data\n    path: %s\n" % cls.source)
            f.write(extra)
        return path

    def setUp(self):
        require_fuse()
        self.work = tempfile.mkdtemp(prefix="case-", dir=self.tmp)
        self.mnt = os.path.join(self.work, "mnt")
        os.mkdir(self.mnt)
        self.addCleanup(force_unmount, self.mnt)

    # --- helpers ---

    def mount_daemon(self, *extra):
        r = encfsr("mount", *extra, self.config, self.mnt)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def assert_view(self, mnt):
        names = os.listdir(mnt)
        self.assertIn("encfsr.key", names)
        self.assertIn("encfsr.dir", names)
        self.assertEqual(len(names), 3, names)  # key file, manifest and one (encrypted) source
        self.assertNotIn("data", names)

    def assert_no_run_leftovers(self, tmpdir):
        self.assertEqual(os.listdir(tmpdir), [], "temporary mountpoint left behind")
        leftovers = [m for m in fuse_mounts() if m.startswith(tmpdir)]
        self.assertEqual(leftovers, [], "mount left behind")

    def run_tmpdir(self):
        d = os.path.join(self.work, "runtmp")
        os.mkdir(d)
        return d

    # --- mount: errors ---

    def test_missing_mountpoint_exits_6(self):
        r = encfsr("mount", self.config, os.path.join(self.work, "nope"))
        self.assertEqual(r.returncode, 6, r.stderr)
        self.assertIn("does not exist", r.stderr)
        self.assertTrue(r.stderr.startswith("encfsr: error: "), r.stderr)

    def test_mountpoint_is_a_file_exits_6(self):
        path = os.path.join(self.work, "file")
        open(path, "w").close()
        r = encfsr("mount", self.config, path)
        self.assertEqual(r.returncode, 6, r.stderr)
        self.assertIn("not a directory", r.stderr)

    def test_already_mounted_exits_6(self):
        self.mount_daemon()
        r = encfsr("mount", self.config, self.mnt)
        self.assertEqual(r.returncode, 6, r.stderr)
        self.assertIn("already", r.stderr)
        self.assert_view(self.mnt)  # the first mount is untouched

    def test_bad_config_exits_3(self):
        config = os.path.join(self.work, "bad.yaml")
        with open(config, "w") as f:
            f.write("key: %s\nsources: [unclosed\n" % self.key)
        r = encfsr("mount", config, self.mnt)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertFalse(is_mounted(self.mnt))

    def test_unknown_config_key_exits_3(self):
        config = self.write_config("unknown.yaml", self.key, extra="no_such_key: 1\n")
        r = encfsr("mount", config, self.mnt)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("no_such_key", r.stderr)

    def test_wrong_password_exits_5(self):
        config = self.write_config("wrongpw.yaml", self.key, self.wrong_password_file)
        r = encfsr("mount", config, self.mnt)
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertNotIn("not the password", r.stderr + r.stdout)
        self.assertFalse(is_mounted(self.mnt))
        # The option overrides the config's password file too.
        r = encfsr("mount", "--password-file", self.wrong_password_file, self.config, self.mnt)
        self.assertEqual(r.returncode, 5, r.stderr)

    def test_damaged_key_exits_4(self):
        damaged = os.path.join(self.work, "damaged.key")
        with open(self.key, "rb") as f:
            data = f.read()
        with open(damaged, "wb") as f:
            f.write(data[: len(data) // 2])
        os.chmod(damaged, 0o600)
        config = self.write_config("damaged.yaml", damaged)
        r = encfsr("mount", config, self.mnt)
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertFalse(is_mounted(self.mnt))

    def test_unknown_mount_option_exits_2(self):
        r = encfsr("mount", "-o", "allow_other,bogus_option", self.config, self.mnt)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("bogus_option", r.stderr)
        r = encfsr("mount", "-o", "entry_timeout=abc", self.config, self.mnt)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertFalse(is_mounted(self.mnt))

    # --- mount: daemon and foreground ---

    def test_daemon_is_ready_when_mount_returns(self):
        self.mount_daemon("-o", "fsname=mybackup,entry_timeout=2,attr_timeout=2")
        # No waiting: the view must be there right now.
        self.assertTrue(is_mounted(self.mnt))
        self.assert_view(self.mnt)
        st = os.statvfs(self.mnt)
        self.assertTrue(st.f_flag & os.ST_RDONLY)
        with open("/proc/self/mountinfo") as f:
            line = [l for l in f if " %s " % self.mnt in l][0]
        self.assertIn("fuse.encfsr", line)
        self.assertIn("mybackup", line)
        self.assertIn("nosuid", line)
        self.assertIn("nodev", line)
        pids = mountlib.daemon_pids(self.mnt)
        self.assertEqual(len(pids), 1, pids)
        with self.assertRaises(OSError):
            open(os.path.join(self.mnt, "new"), "w")
        r = encfsr("umount", self.mnt)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(is_mounted(self.mnt))
        # The daemon ends after the unmount.
        self.assertTrue(wait_for(lambda: not mountlib.daemon_pids(self.mnt), 10), "daemon still alive")

    def test_umount_not_mounted_exits_6(self):
        r = encfsr("umount", self.mnt)
        self.assertEqual(r.returncode, 6, r.stderr)
        r = encfsr("umount", os.path.join(self.work, "missing"))
        self.assertEqual(r.returncode, 6, r.stderr)

    def test_umount_of_dead_daemon(self):
        self.mount_daemon()
        pids = mountlib.daemon_pids(self.mnt)
        self.assertEqual(len(pids), 1)
        os.kill(pids[0], signal.SIGKILL)
        self.assertTrue(wait_for(lambda: not mountlib.daemon_pids(self.mnt), 10))
        with self.assertRaises(OSError):
            os.stat(self.mnt)  # ENOTCONN
        r = encfsr("mount", self.config, self.mnt)
        self.assertEqual(r.returncode, 6, r.stderr)
        self.assertIn("umount", r.stderr)
        r = encfsr("umount", self.mnt)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(is_mounted(self.mnt))
        self.assertTrue(stat.S_ISDIR(os.stat(self.mnt).st_mode))
        # And the mountpoint is usable again.
        self.mount_daemon()
        self.assert_view(self.mnt)

    def test_lazy_umount(self):
        self.mount_daemon()
        fd = os.open(os.path.join(self.mnt, "encfsr.key"), os.O_RDONLY)
        try:
            r = encfsr("umount", "-z", self.mnt)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertFalse(is_mounted(self.mnt))
        finally:
            os.close(fd)

    def test_foreground_sigterm_unmounts_and_exits_0(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            p = subprocess.Popen([BIN, "mount", "-f", self.config, self.mnt],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            try:
                self.assertTrue(wait_for(lambda: is_mounted(self.mnt) or p.poll() is not None),
                                "never mounted")
                self.assertIsNone(p.poll(), p.stderr.read() if p.poll() is not None else "")
                self.assert_view(self.mnt)
                p.send_signal(sig)
                p.wait(timeout=20)
                self.assertEqual(p.returncode, 0, p.stderr.read())
                self.assertFalse(is_mounted(self.mnt))
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                p.stdout.close()
                p.stderr.close()

    def test_foreground_ends_on_umount(self):
        p = subprocess.Popen([BIN, "mount", "-f", "--debug", self.config, self.mnt],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        try:
            self.assertTrue(wait_for(lambda: is_mounted(self.mnt) or p.poll() is not None))
            os.listdir(os.path.join(self.mnt))
            r = encfsr("umount", self.mnt)
            self.assertEqual(r.returncode, 0, r.stderr)
            p.wait(timeout=20)
            self.assertEqual(p.returncode, 0)
            log = p.stderr.read()
            self.assertIn("debug", log)  # --debug logs the calls
            self.assertNotIn("hello.txt", log)  # but never plaintext names
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stderr.close()

    def test_decrypt_round_trip(self):
        copy = os.path.join(self.work, "copy")
        self.mount_daemon()
        shutil.copytree(self.mnt, copy, symlinks=True)
        self.assertEqual(encfsr("umount", self.mnt).returncode, 0)
        r = encfsr("mount", "--decrypt", "--password-file", self.password_file, copy, self.mnt)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(os.listdir(self.mnt)), ["data"])
        for rel in ("hello.txt", os.path.join("sub", "b.bin")):
            with open(os.path.join(self.source, rel), "rb") as a, \
                    open(os.path.join(self.mnt, "data", rel), "rb") as b:
                self.assertEqual(a.read(), b.read(), rel)
        # The top-level form `encfsr --decrypt` is the same command.
        self.assertEqual(encfsr("umount", self.mnt).returncode, 0)
        r = encfsr("--decrypt", "--password-file", self.password_file, copy, self.mnt)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(os.listdir(self.mnt)), ["data"])
        # A wrong password for the copy: exit 5, nothing mounted.
        self.assertEqual(encfsr("umount", self.mnt).returncode, 0)
        r = encfsr("mount", "--decrypt", "--password-file", self.wrong_password_file, copy,
                   self.mnt)
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertFalse(is_mounted(self.mnt))

    # --- run ---

    def test_run_returns_command_status_and_cleans_up(self):
        tmpdir = self.run_tmpdir()
        out = os.path.join(self.work, "listing")
        r = encfsr("run", self.config, "--", "sh", "-c", 'ls "$1" > "$2"; exit 7', "sh", "{}", out,
                   env=dict(os.environ, TMPDIR=tmpdir))
        self.assertEqual(r.returncode, 7, r.stderr)
        with open(out) as f:
            names = f.read().split()
        self.assertIn("encfsr.key", names)
        self.assertEqual(len(names), 3)  # source, encfsr.dir, encfsr.key
        self.assert_no_run_leftovers(tmpdir)
        r = encfsr("run", self.config, "--", "true", env=dict(os.environ, TMPDIR=tmpdir))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_no_run_leftovers(tmpdir)

    def test_run_replaces_braces_in_every_argument(self):
        tmpdir = self.run_tmpdir()
        out = os.path.join(self.work, "args")
        r = encfsr("run", self.config, "--", "sh", "-c",
                   'printf "%s\\n" "$@" > "' + out + '"; test -f "$1/encfsr.key"', "sh",
                   "{}", "pre{}mid{}post", "--opt={}/", "plain",
                   env=dict(os.environ, TMPDIR=tmpdir))
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out) as f:
            args = f.read().splitlines()
        self.assertEqual(len(args), 4, args)
        mnt = args[0]
        self.assertTrue(mnt.startswith(os.path.join(tmpdir, "encfsr-run.")), mnt)
        self.assertEqual(args[1], "pre%smid%spost" % (mnt, mnt))
        self.assertEqual(args[2], "--opt=%s/" % mnt)
        self.assertEqual(args[3], "plain")
        self.assert_no_run_leftovers(tmpdir)

    def test_run_command_killed_by_signal(self):
        tmpdir = self.run_tmpdir()
        r = encfsr("run", self.config, "--", "sh", "-c", 'ls "$1" >/dev/null; kill -TERM $$',
                   "sh", "{}", env=dict(os.environ, TMPDIR=tmpdir))
        self.assertEqual(r.returncode, 128 + signal.SIGTERM, r.stderr)
        self.assert_no_run_leftovers(tmpdir)
        r = encfsr("run", self.config, "--", "sh", "-c", "kill -KILL $$",
                   env=dict(os.environ, TMPDIR=tmpdir))
        self.assertEqual(r.returncode, 128 + signal.SIGKILL, r.stderr)
        self.assert_no_run_leftovers(tmpdir)

    def test_run_forwards_sigterm_to_the_command(self):
        tmpdir = self.run_tmpdir()
        started = os.path.join(self.work, "started")
        p = subprocess.Popen([BIN, "run", self.config, "--", "sh", "-c",
                              'touch "$1"; exec sleep 60', "sh", started],
                             env=dict(os.environ, TMPDIR=tmpdir), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            self.assertTrue(wait_for(lambda: os.path.exists(started) or p.poll() is not None))
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=30)
            self.assertEqual(p.returncode, 128 + signal.SIGTERM, p.stderr.read())
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stderr.close()
        self.assert_no_run_leftovers(tmpdir)

    def test_run_never_runs_the_command_when_the_mount_fails(self):
        tmpdir = self.run_tmpdir()
        marker = os.path.join(self.work, "ran")
        cmd = ["--", "touch", marker]
        env = dict(os.environ, TMPDIR=tmpdir)
        config = self.write_config("wrongpw-run.yaml", self.key, self.wrong_password_file)
        r = encfsr("run", config, *cmd, env=env)
        self.assertEqual(r.returncode, 5, r.stderr)
        bad = os.path.join(self.work, "bad.yaml")
        with open(bad, "w") as f:
            f.write("sources: {\n")
        r = encfsr("run", bad, *cmd, env=env)
        self.assertEqual(r.returncode, 3, r.stderr)
        # The mountpoint cannot be created: the mount fails after the key was unlocked.
        r = encfsr("run", self.config, *cmd,
                   env=dict(os.environ, TMPDIR=os.path.join(self.work, "no-such-dir")))
        self.assertEqual(r.returncode, 6, r.stderr)
        self.assertTrue(r.stderr.startswith("encfsr: error: "), r.stderr)
        self.assertFalse(os.path.exists(marker), "the command ran")
        self.assert_no_run_leftovers(tmpdir)

    def test_run_missing_command(self):
        tmpdir = self.run_tmpdir()
        r = encfsr("run", self.config, "--", os.path.join(self.work, "no-such-program"),
                   env=dict(os.environ, TMPDIR=tmpdir))
        self.assertEqual(r.returncode, 127, r.stderr)
        self.assert_no_run_leftovers(tmpdir)


if __name__ == "__main__":
    if len(sys.argv) > 1 and os.path.isfile(sys.argv[1]):
        BIN = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
