#!/usr/bin/env python3
"""tests/integration/hardening_test.py — issue 11, bounded work on hostile copies and key hygiene.

Every case runs encfsr with a time limit (subprocess timeout) and a memory limit (RLIMIT_AS in
the child), and the hostile-copy cases also measure the child's peak RSS:
- HostileCopyTest: a copy whose encfsr.key is a symlink to /dev/zero, whose key file asks for
  4 GiB x 64 passes of Argon2id, with a 1 TiB sparse file, a 1 GiB manifest and a 1 GiB
  long-name side file; verify opens the copy's own key file with the password (or says it did
  not).
- PasswordCommandTest: a password command that never answers is killed, with its process group,
  after password_command_timeout / --password-command-timeout.
- DaemonTest: the mount daemon (after its fork) keeps its key pages locked (VmLck), has
  RLIMIT_CORE 0 and is not dumpable (run as an unprivileged user: /proc/PID then belongs to
  root); --debug-dumpable leaves it dumpable.
- SecretsTest: init, mount (-v --debug), verify, restore and passwd never show the password, the
  master key (hex, base64, base32) or the paper key in anything they print.

Run: hardening_test.py /path/to/encfsr [TestClass]   (needs root and FUSE, except
PasswordCommandTest)
"""

import base64
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "format"))
import mountlib  # noqa: E402
from mountlib import Mount  # noqa: E402

MiB = 1024 * 1024
GiB = 1024 * MiB
CB = 4112  # a ciphertext block: 16-byte tag + 4,096 bytes
AS_LIMIT = 1 * GiB  # address space of every encfsr run below (threads reserve a lot of it)
RSS_LIMIT = 64 * MiB  # peak resident memory allowed for a verify of a hostile copy
TIME_LIMIT = 60  # seconds for any one command

# Runs argv (json in argv[1]) under RLIMIT_AS = argv[2] bytes with a time limit argv[3] and
# prints one JSON line: exit code, stdout, stderr, peak RSS of the child in KiB.
MEASURE = r"""
import json, resource, subprocess, sys
argv, limit, timeout = json.loads(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
def cap():
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
try:
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                       preexec_fn=cap, start_new_session=True)
    code, out, err = p.returncode, p.stdout, p.stderr
except subprocess.TimeoutExpired as e:
    code, out, err = "timeout", e.stdout or b"", e.stderr or b""
print(json.dumps({"code": code, "out": out.decode("utf-8", "replace"),
                  "err": err.decode("utf-8", "replace"),
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


_SANITIZED = None


def sanitized():
    """Whether the binary is built with AddressSanitizer or ThreadSanitizer: their shadow memory
    needs terabytes of address space (no RLIMIT_AS then) and tens of MB of RSS of its own."""
    global _SANITIZED
    if _SANITIZED is None:
        with open(mountlib.encfsr_bin(), "rb") as f:
            data = f.read()
        _SANITIZED = b"__asan_init" in data or b"__tsan_init" in data
    return _SANITIZED


def rss_limit():
    return RSS_LIMIT + (192 * MiB if sanitized() else 0)


def measured(args, timeout=TIME_LIMIT, as_limit=AS_LIMIT):
    """encfsr ARGS under the limits: dict code/out/err/maxrss_kib ("timeout" as code)."""
    argv = [mountlib.encfsr_bin()] + list(args)
    if sanitized():
        as_limit = resource.RLIM_INFINITY
    proc = subprocess.run([sys.executable, "-c", MEASURE, json.dumps(argv), str(as_limit),
                           str(timeout)], capture_output=True, timeout=timeout + 30)
    if proc.returncode != 0:
        raise AssertionError("measuring helper failed: %s" % proc.stderr.decode())
    return json.loads(proc.stdout)


def describe(result):
    return "exit %s, peak %d KiB\nstdout: %s\nstderr: %s" % (
        result["code"], result["maxrss_kib"], result["out"], result["err"])


def cipher_files(copy):
    """Regular content files of a copy (not the key file, manifests or side files)."""
    out = []
    for root, _, files in os.walk(copy):
        for name in files:
            path = os.path.join(root, name)
            if name in ("encfsr.key", "encfsr.dir") or name.endswith(".name"):
                continue
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            out.append(path)
    return sorted(out)


def make_sparse(path, size):
    """Replaces path by a sparse file of `size` bytes; False if the filesystem refuses."""
    os.unlink(path)
    with open(path, "wb") as f:
        try:
            f.truncate(size)
        except OSError:
            return False
    return True


class CopyFixture:
    """A work dir with a key, a small tree and its ciphertext copy (taken from a mount)."""

    @classmethod
    def make(cls, prefix):
        mountlib.require_fuse()
        work = mountlib.Setup(prefix=prefix)
        src = work.path("src")
        os.makedirs(os.path.join(src, "dir", "sub"))
        with open(os.path.join(src, "dir", "a.txt"), "wb") as f:
            f.write(os.urandom(3 * 4096 + 17))
        with open(os.path.join(src, "dir", "sub", "b.txt"), "w") as f:
            f.write("hello\n")
        with open(os.path.join(src, "dir", "L" * 240), "w") as f:  # a long name: a side file
            f.write("long\n")
        config = work.config([{"name": "data", "path": src}])
        pristine = work.path("pristine")
        with Mount(config, work.mountpoint()) as m:
            mountlib.run(["cp", "-a", m.path, pristine], timeout=120)
        return work, config, pristine


class HostileCopyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work, cls.config, cls.pristine = CopyFixture.make("encfsr-hardening-")
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, "work"):
            cls.work.cleanup()

    def fresh_copy(self):
        type(self).n += 1
        copy = self.work.path("copy%d" % self.n)
        shutil.copytree(self.pristine, copy, symlinks=True)
        return copy

    def pw(self):
        return ["--password-file", self.work.password_file]

    def assert_bounded(self, result):
        self.assertNotEqual(result["code"], "timeout", describe(result))
        self.assertLess(result["maxrss_kib"] * 1024, rss_limit(), describe(result))

    def test_clean_copy_verifies_within_the_limits(self):
        # The limits themselves leave room for a normal run.
        copy = self.fresh_copy()
        r = measured(["verify", "--json"] + self.pw() + [copy])
        self.assert_bounded(r)
        self.assertEqual(r["code"], 0, describe(r))
        self.assertTrue(json.loads(r["out"])["key_file_checked"])

    def test_key_file_symlink_to_dev_zero(self):
        copy = self.fresh_copy()
        key = os.path.join(copy, "encfsr.key")
        os.unlink(key)
        os.symlink("/dev/zero", key)
        r = measured(["verify"] + self.pw() + [copy])
        self.assert_bounded(r)
        self.assertEqual(r["code"], 4, describe(r))
        self.assertIn("not a regular file", r["err"])
        self.assertIn(key, r["err"])
        # With --key, the copy's own key file is damage, named in one line.
        r = measured(["verify", "--key", self.work.key] + self.pw() + [copy])
        self.assert_bounded(r)
        self.assertEqual(r["code"], 8, describe(r))
        self.assertIn("damaged: encfsr.key: key-file", r["out"])
        self.assertIn("not a regular file", r["out"])
        # A FIFO and a huge sparse file in its place are no better.
        os.unlink(key)
        with open(key, "wb") as f:
            f.truncate(4 * GiB)
        r = measured(["verify", "--key", self.work.key] + self.pw() + [copy])
        self.assert_bounded(r)
        self.assertEqual(r["code"], 8, describe(r))
        self.assertIn("larger than 64 KiB", r["out"])

    def expensive_key_text(self):
        with open(self.work.key) as f:
            text = f.read()
        text = re.sub(r"^ops_limit: \d+$", "ops_limit: 64", text, flags=re.M)
        # Another salt: not the wrap of the key given with --key, so verify would derive a key.
        text = re.sub(r"^salt: \w+$", "salt: " + os.urandom(16).hex(), text, flags=re.M)
        return re.sub(r"^mem_limit: \d+$", "mem_limit: %d" % (4 * GiB), text, flags=re.M)

    def test_key_file_asking_for_4_gib_times_64(self):
        copy = self.fresh_copy()
        key = os.path.join(copy, "encfsr.key")
        with open(key, "w") as f:
            f.write(self.expensive_key_text())
        started = time.monotonic()
        r = measured(["verify"] + self.pw() + [copy], timeout=20)
        self.assert_bounded(r)
        self.assertEqual(r["code"], 4, describe(r))
        self.assertIn("key file " + key + " asks for Argon2id with 64 passes over 4096 MiB",
                      r["err"])
        self.assertLess(time.monotonic() - started, 20)
        # The same copy checked with the key kept elsewhere: its own key file is damage.
        r = measured(["verify", "--key", self.work.key] + self.pw() + [copy], timeout=20)
        self.assert_bounded(r)
        self.assertEqual(r["code"], 8, describe(r))
        self.assertIn("damaged: encfsr.key: key-file", r["out"])
        self.assertIn("64 passes over 4096 MiB", r["out"])
        # The paper key needs no Argon2id: that way is still open.
        paper = self.work.path("paper.txt")
        with open(paper, "w") as f:
            f.write(self.work.paper_key + "\n")
        r = measured(["verify", "--master-key-file", paper, "--key", self.work.key, copy])
        self.assertIn(r["code"], (0, 8), describe(r))

    def test_one_tib_sparse_file(self):
        copy = self.fresh_copy()
        files = cipher_files(copy)
        self.assertTrue(files)
        target = max(files, key=os.path.getsize)
        blocks = 1 << 28  # 2^28 full ciphertext blocks: a size an encoder produces (1.0 TiB)
        if not make_sparse(target, blocks * CB):
            blocks = (64 * GiB) // CB
            self.assertTrue(make_sparse(target, blocks * CB), "no sparse files here")
        r = measured(["verify"] + self.pw() + [copy])
        self.assert_bounded(r)
        self.assertEqual(r["code"], 8, describe(r))
        lines = [l for l in r["out"].splitlines() if l.startswith("damaged: ")]
        block_lines = [l for l in lines if re.search(r": block \d+$", l)]
        self.assertEqual(len(block_lines), 16, r["out"])
        self.assertTrue(any("48 more damaged blocks (not listed)" in l for l in lines), r["out"])
        self.assertTrue(any("more blocks unchecked from block 64 (stopped after 64 damaged "
                            "blocks in a row)" in l for l in lines), r["out"])
        self.assertLess(len(r["out"]), 10000)
        # restore leaves the file out, quickly, and restores the rest.
        dest = self.work.path("dest%d" % self.n)
        os.makedirs(dest)
        r = measured(["restore"] + self.pw() + [copy, "data", dest])
        self.assert_bounded(r)
        self.assertEqual(r["code"], 8, describe(r))
        self.assertTrue(os.path.exists(os.path.join(dest, "data", "dir", "sub", "b.txt")))

    def test_huge_manifest_and_side_file(self):
        copy = self.fresh_copy()
        manifests = []
        sides = []
        for root, _, files in os.walk(copy):
            for name in files:
                if name == "encfsr.dir" and root != copy:
                    manifests.append(os.path.join(root, name))
                if name.endswith(".name"):
                    sides.append(os.path.join(root, name))
        self.assertTrue(manifests)
        self.assertEqual(len(sides), 1)
        self.assertTrue(make_sparse(manifests[0], 1 * GiB))
        self.assertTrue(make_sparse(sides[0], 1 * GiB))
        r = measured(["verify"] + self.pw() + [copy])
        self.assert_bounded(r)
        self.assertEqual(r["code"], 8, describe(r))
        self.assertIn(": manifest", r["out"])
        self.assertIn(": side-file", r["out"])
        # A manifest just over the format's 256 MiB limit, not sparse, is refused unread too.
        with open(manifests[0], "wb") as f:
            f.truncate(256 * MiB + 1)
        r = measured(["verify"] + self.pw() + [copy])
        self.assert_bounded(r)
        self.assertEqual(r["code"], 8, describe(r))

    def test_copy_key_file_checked_against_the_password(self):
        copy = self.fresh_copy()
        # The same wrap as the key kept elsewhere: checked.
        r = measured(["verify", "--json", "--key", self.work.key] + self.pw() + [copy])
        self.assertEqual(r["code"], 0, describe(r))
        self.assertTrue(json.loads(r["out"])["key_file_checked"])
        # The local key's password changed since the backup: the copy's key file does not open
        # with the new password, which verify says.
        local = self.work.path("local.key")
        shutil.copy(self.work.key, local)
        new_pw = mountlib.write_password_file(self.work.path("new.pw"), "a new password")
        mountlib.run([mountlib.encfsr_bin(), "passwd", "--key", local, "--password-file",
                      self.work.password_file, "--new-password-file", new_pw, "--insecure-kdf"])
        r = measured(["verify", "--key", local, "--password-file", new_pw, copy])
        self.assertEqual(r["code"], 8, describe(r))
        self.assertIn("damaged: encfsr.key: key-file", r["out"])
        self.assertIn("does not open with the given password", r["out"])
        # Unlocked by the paper key: one line says the key file was not checked.
        paper = self.work.path("paper2.txt")
        with open(paper, "w") as f:
            f.write(self.work.paper_key + "\n")
        r = measured(["verify", "--master-key-file", paper, copy])
        self.assertEqual(r["code"], 0, describe(r))
        self.assertIn("not checked against a password", r["out"])
        r = measured(["verify", "--json", "--master-key-file", paper, copy])
        self.assertFalse(json.loads(r["out"])["key_file_checked"])


class PasswordCommandTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="encfsr-pwcmd-")
        self.pw = mountlib.write_password_file(os.path.join(self.dir, "pw"))
        self.key = os.path.join(self.dir, "k.key")
        mountlib.init_key(self.key, self.pw)
        os.makedirs(os.path.join(self.dir, "src"))
        # A sleep no other process runs: what is left of it after encfsr is found by pgrep.
        self.marker = "sleep 1%d.25" % os.getpid()

    def tearDown(self):
        subprocess.run(["pkill", "-KILL", "-f", self.marker], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def config(self, extra):
        path = os.path.join(self.dir, "c.yaml")
        with open(path, "w") as f:
            f.write("key: %s\n%ssources:\n  - name: home\n    path: %s\n"
                    % (self.key, extra, os.path.join(self.dir, "src")))
        return path

    def survivors(self):
        out = subprocess.run(["pgrep", "-f", self.marker], capture_output=True, text=True)
        return [p for p in out.stdout.split() if int(p) != os.getpid()]

    def check_killed(self, args, limit):
        started = time.monotonic()
        r = measured(args, timeout=30)
        elapsed = time.monotonic() - started
        self.assertEqual(r["code"], 5, describe(r))
        self.assertIn("did not answer and exit within", r["err"])
        self.assertLess(elapsed, limit + 15, describe(r))
        time.sleep(0.2)
        self.assertEqual(self.survivors(), [])

    def test_command_line_timeout_kills_the_group(self):
        # sh starts a background sleep and a foreground one: all must go.
        cmd = "%s & %s; wait" % (self.marker, self.marker)
        self.check_killed(["path", "encrypt", "--password-command", cmd,
                           "--password-command-timeout", "1", self.config(""), "home"], 1)

    def test_config_timeout(self):
        cmd = self.marker
        config = self.config("password_command: \"%s\"\npassword_command_timeout: 1\n" % cmd)
        self.check_killed(["path", "encrypt", config, "home"], 1)

    def test_answer_then_hang(self):
        cmd = "cat %s; %s" % (self.pw, self.marker)
        self.check_killed(["path", "encrypt", "--password-command", cmd,
                           "--password-command-timeout", "1", self.config(""), "home"], 1)

    def test_quick_command_still_works(self):
        r = measured(["path", "encrypt", "--password-command", "cat " + self.pw,
                      "--password-command-timeout", "5", self.config(""), "home"])
        self.assertEqual(r["code"], 0, describe(r))


NOBODY = 65534
# /dev/fuse may be root's alone (containers): nobody keeps the two capabilities a mount needs,
# as ambient capabilities (an exec with them leaves the process dumpable, as any other).
KEEP_CAPS = ["--inh-caps=+dac_override,+sys_admin", "--ambient-caps=+dac_override,+sys_admin"]


class DaemonTest(unittest.TestCase):
    """The daemon (encfsr mount without -f: it forks) as the unprivileged user nobody."""

    @classmethod
    def setUpClass(cls):
        mountlib.require_fuse()
        if shutil.which("setpriv") is None:
            raise unittest.SkipTest("setpriv is missing")
        cls.dir = tempfile.mkdtemp(prefix="encfsr-daemon-")
        os.chmod(cls.dir, 0o755)
        cls.pw = mountlib.write_password_file(os.path.join(cls.dir, "pw"))
        cls.key = os.path.join(cls.dir, "k.key")
        mountlib.init_key(cls.key, cls.pw)
        src = os.path.join(cls.dir, "src")
        os.makedirs(src)
        with open(os.path.join(src, "f.txt"), "w") as f:
            f.write("data\n")
        cls.config = mountlib.write_config(os.path.join(cls.dir, "c.yaml"), cls.key, cls.pw,
                                           [{"name": "data", "path": src}])
        for root, dirs, files in os.walk(cls.dir):
            for name in dirs + files + [""]:
                os.chown(os.path.join(root, name), NOBODY, NOBODY)

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, "dir"):
            shutil.rmtree(cls.dir, ignore_errors=True)

    def mount_as_nobody(self, extra):
        mnt = tempfile.mkdtemp(dir=self.dir)
        os.chown(mnt, NOBODY, NOBODY)
        pid_file = os.path.join(self.dir, "pid%s" % os.path.basename(mnt))

        def core_allowed():  # so that RLIMIT_CORE 0 is the daemon's doing
            resource.setrlimit(resource.RLIMIT_CORE, (MiB, MiB))

        proc = subprocess.run(
            ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"]
            + KEEP_CAPS + [mountlib.encfsr_bin(), "mount", "--pid-file", pid_file] + extra
            + [self.config, mnt], capture_output=True, timeout=30, preexec_fn=core_allowed)
        if proc.returncode != 0:
            if mountlib.in_ci():
                raise AssertionError(proc.stderr.decode())
            self.skipTest("cannot mount as nobody here: %s" % proc.stderr.decode().strip())
        self.addCleanup(self.unmount, mnt)
        with open(pid_file) as f:
            return mnt, int(f.read())

    def unmount(self, mnt):
        subprocess.run([mountlib.encfsr_bin(), "umount", mnt], capture_output=True, timeout=30)
        if mountlib.is_mounted(mnt):
            subprocess.run(["fusermount3", "-uz", mnt], capture_output=True, timeout=30)

    @staticmethod
    def status(pid):
        with open("/proc/%d/status" % pid) as f:
            return dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)

    @staticmethod
    def core_limit(pid):
        with open("/proc/%d/limits" % pid) as f:
            for line in f:
                if line.startswith("Max core file size"):
                    return line.split()[4:6]
        raise AssertionError("no core limit line")

    def test_daemon_keys_locked_and_not_dumpable(self):
        mnt, pid = self.mount_as_nobody([])
        self.assertTrue(mountlib.is_mounted(mnt))
        status = self.status(pid)
        self.assertEqual(status["Uid"].split()[0], str(NOBODY))
        if not sanitized():  # the sanitizers make mlock a no-op
            self.assertGreater(int(status["VmLck"].split()[0]), 0, status["VmLck"])
        self.assertEqual(self.core_limit(pid), ["0", "0"])
        # Not dumpable: the kernel gives its /proc/PID files (not the directory) to root.
        self.assertEqual(os.stat("/proc/%d/status" % pid).st_uid, 0)

    def test_debug_dumpable(self):
        mnt, pid = self.mount_as_nobody(["--debug-dumpable"])
        self.assertTrue(mountlib.is_mounted(mnt))
        self.assertEqual(os.stat("/proc/%d/status" % pid).st_uid, NOBODY)
        self.assertNotEqual(self.core_limit(pid), ["0", "0"])
        if not sanitized():
            self.assertGreater(int(self.status(pid)["VmLck"].split()[0]), 0)


class SecretsTest(unittest.TestCase):
    """No command shows a secret, at any log level it has."""

    def test_no_secret_in_any_output(self):
        mountlib.require_fuse()
        work = mountlib.Setup(prefix="encfsr-secrets-")
        self.addCleanup(work.cleanup)
        password = "S3cret-Hardening-Passw0rd"
        mountlib.write_password_file(work.password_file, password)
        key = work.path("secret.key")
        paper_file = work.path("paper.txt")
        outputs = []

        def run(args, **kw):
            proc = mountlib.run([mountlib.encfsr_bin()] + args, check=False, **kw)
            outputs.append((args, mountlib._text(proc.stdout) + mountlib._text(proc.stderr)))
            return proc

        self.assertEqual(run(["init", "--key", key, "--password-file", work.password_file,
                              "--kdf-ops", "1", "--kdf-mem-mib", "8", "--insecure-kdf",
                              "--paper-key-file", paper_file]).returncode, 0)
        with open(paper_file) as f:
            paper = mountlib.PAPER_KEY_RE.search(f.read()).group(0)
        master = base64.b32decode(paper.replace("-", ""))[:32]
        src = work.path("src")
        os.makedirs(os.path.join(src, "d"))
        with open(os.path.join(src, "d", "f.txt"), "w") as f:
            f.write("plain text\n" * 1000)
        config = mountlib.write_config(work.path("c.yaml"), key, work.password_file,
                                       [{"name": "data", "path": src}])
        copy = work.path("copy")
        with Mount(config, work.mountpoint(), extra=["-v", "--debug", "--debug-names"]) as m:
            mountlib.run(["cp", "-a", m.path, copy], timeout=120)
            daemon_log = m
        outputs.append((["mount"], daemon_log.stderr_text()))
        with Mount(copy, work.mountpoint(), mode="decrypt",
                   key_options=["--password-file", work.password_file],
                   extra=["-v", "--debug"]) as m:
            for root, _, files in os.walk(m.path):
                for name in files:
                    with open(os.path.join(root, name), "rb") as f:
                        f.read()
            decrypt_log = m
        outputs.append((["mount", "--decrypt"], decrypt_log.stderr_text()))
        pw = ["--password-file", work.password_file]
        self.assertEqual(run(["verify", "--progress"] + pw + [copy]).returncode, 0, outputs[-1])
        self.assertEqual(run(["verify", "--json", "--key", key] + pw + [copy]).returncode, 0)
        self.assertEqual(run(["verify", "--master-key-file", paper_file, copy]).returncode, 0)
        # The paper key given as a password: a wrong password, and not echoed back.
        self.assertEqual(run(["verify", "--password-file", paper_file, copy]).returncode, 5)
        dest = work.path("dest")
        os.makedirs(dest)
        self.assertEqual(run(["restore", "--progress"] + pw + [copy, "data", dest]).returncode, 0,
                         outputs[-1])
        self.assertEqual(run(["path", "encrypt"] + pw + [config, "data/d/f.txt"]).returncode, 0)
        self.assertEqual(run(["run", "-v"] + pw + [config, "--", "ls", "{}"]).returncode, 0,
                         outputs[-1])
        new_pw = mountlib.write_password_file(work.path("new.pw"), "N3w-" + password)
        self.assertEqual(run(["passwd", "--key", key, "--password-file", work.password_file,
                              "--new-password-file", new_pw, "--insecure-kdf"]).returncode, 0)
        run(["passwd", "--key", key, "--password-file", work.password_file,
             "--new-password-file", new_pw, "--insecure-kdf"])  # wrong old password now
        run(["init", "--key", work.path("k2.key"), "--password-command",
             "echo %s; exit 3" % password, "--insecure-kdf", "--kdf-ops", "1"])
        secrets = [password, "N3w-" + password, paper, paper.replace("-", ""),
                   paper.replace("-", "").lower(), master.hex(), master.hex().upper(),
                   base64.b64encode(master).decode().rstrip("="),
                   base64.urlsafe_b64encode(master).decode().rstrip("="),
                   base64.b32encode(master).decode().rstrip("=")]
        self.assertGreater(len(outputs), 10)
        mount_log = outputs[1][1]
        self.assertIn("debug: read ino=", mount_log, "no debug output: " + mount_log[:2000])
        for args, text in outputs:
            for secret in secrets:
                self.assertNotIn(secret, text, "%s printed a secret" % " ".join(args))


def main():
    mountlib.take_bin_from_argv()
    unittest.main()


if __name__ == "__main__":
    main()
