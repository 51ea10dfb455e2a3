#!/usr/bin/env python3
"""Integration tests of the encfsr command line around keys: init, passwd, path encrypt/decrypt,
the password sources (file, command, stdin, terminal prompt without echo), exit codes, help
texts, and that no secret ever appears in any output except init's paper key print.

Run: cli_keys_test.py /path/to/encfsr   (or ENCFSR_BIN=/path/to/encfsr cli_keys_test.py)
No FUSE needed.
"""

import base64
import os
import pty
import re
import select
import shutil
import signal
import stat
import subprocess
import sys
import termios
import tempfile
import time
import unittest

BIN = os.environ.get("ENCFSR_BIN", "")
FAST = ["--kdf-ops", "1", "--kdf-mem-mib", "8", "--insecure-kdf"]
PAPER_RE = re.compile(r"\b(?:[A-Z2-7]{4}-){13}[A-Z2-7]{4}\b")
SUBCOMMANDS = ["init", "passwd", "mount", "run", "umount", "restore", "verify", "path"]


def run(args, stdin_data=None, timeout=60):
    """Runs encfsr without a controlling terminal (new session), returns CompletedProcess."""
    return subprocess.run(
        [BIN] + args,
        input=stdin_data.encode() if stdin_data is not None else None,
        stdin=None if stdin_data is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        timeout=timeout,
        start_new_session=True,
    )


def text(proc):
    return proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")


def paper_key_hexes(paper):
    """Hex (both cases) of the master key encoded in a paper key."""
    data = base64.b32decode(paper.replace("-", ""))
    key = data[:32]
    return [key.hex(), key.hex().upper()]


class PtySession:
    """encfsr in a child process whose controlling terminal is a pseudo-terminal."""

    def __init__(self, args):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execv(BIN, [BIN] + args)
            finally:
                os._exit(127)
        self.output = b""

    def read_until(self, needle, timeout=30):
        deadline = time.time() + timeout
        while needle not in self.output:
            remaining = deadline - time.time()
            if remaining <= 0:
                raise AssertionError("timeout waiting for %r; got %r" % (needle, self.output))
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                raise AssertionError("EOF waiting for %r; got %r" % (needle, self.output))
            self.output += chunk

    def send(self, data):
        os.write(self.fd, data)

    def finish(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                self.output += chunk
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self._drain()
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)

    def _drain(self):
        while True:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if not ready:
                return
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk


class CliKeysTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="encfsr-clikeys-")
        self.outputs = []  # every (stdout, stderr) seen, for the secret scan

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- helpers ----

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def write(self, name, content, mode=0o600):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(content)
        os.chmod(p, mode)
        return p

    def encfsr(self, args, stdin_data=None):
        proc = run(args, stdin_data)
        self.outputs.append(text(proc))
        for line in proc.stderr.decode(errors="replace").splitlines():
            self.assertNotIn("Traceback", line)
            self.assertNotIn("terminate called", line)
        return proc

    def init_key(self, password="correct horse", name="k.key", extra=()):
        pw = self.write(name + ".pw", password + "\n")
        key = self.path(name)
        proc = self.encfsr(["init", "--key", key, "--password-file", pw] + FAST + list(extra))
        self.assertEqual(proc.returncode, 0, text(proc))
        return key, pw, proc

    def init_key_with_paper(self, password="correct horse", name="k.key"):
        """init writing its paper key to a file (stdout is not a terminal here): (key, password
        file, paper key text)."""
        paper_file = self.path(name + ".paper")
        key, pw, _ = self.init_key(password, name, extra=["--paper-key-file", paper_file])
        with open(paper_file) as f:
            papers = PAPER_RE.findall(f.read())
        self.assertEqual(len(papers), 1)
        return key, pw, papers[0]

    def make_config(self, key, names="base64url", extra=""):
        src = self.path("src")
        os.makedirs(os.path.join(src, "a"), exist_ok=True)
        with open(os.path.join(src, "a", "b.txt"), "w") as f:
            f.write("hello\n")
        return self.write(
            "backup.yaml",
            "key: %s\nnames: %s\n%ssources:\n  - name: home\n    path: %s\n"
            % (key, names, extra, src),
            mode=0o644,
        )

    def path_encrypt(self, config, plain, key_args):
        proc = self.encfsr(["path", "encrypt"] + key_args + [config, plain])
        return proc

    def assert_error(self, proc, code, *fragments):
        self.assertEqual(proc.returncode, code, text(proc))
        err = proc.stderr.decode()
        lines = err.splitlines()
        self.assertTrue(lines, "no error message")
        self.assertTrue(lines[-1].startswith("encfsr: error: "), err)
        for fragment in fragments:
            self.assertIn(fragment, err)

    # ---- init ----

    def test_init_paper_key_not_printed_when_stdout_is_not_a_terminal(self):
        key, _, proc = self.init_key()
        out = proc.stdout.decode()
        self.assertEqual(PAPER_RE.findall(out), [], out)
        self.assertIn("paper key was not printed", out)
        self.assertIn("--paper-key-file", out)
        self.assertEqual(len(out.strip().splitlines()), 1, out)
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        with open(key) as f:
            self.assertTrue(f.read().startswith("encfsr-key: 1\n"))

    def test_init_paper_key_file(self):
        paper_file = self.path("paper.txt")
        key, pw, proc = self.init_key(extra=["--paper-key-file", paper_file])
        out = proc.stdout.decode()
        self.assertEqual(PAPER_RE.findall(out), [], out)
        self.assertIn(paper_file, out)
        self.assertEqual(stat.S_IMODE(os.stat(paper_file).st_mode), 0o600)
        with open(paper_file) as f:
            papers = PAPER_RE.findall(f.read())
        self.assertEqual(len(papers), 1)
        # It is the key's paper key.
        config = self.make_config(key)
        ok = self.path_encrypt(config, "home", ["--master-key-file", paper_file])
        self.assertEqual(ok.returncode, 0, text(ok))
        # Never over an existing file (nor through a symlink); no key is made then.
        other = self.path("other.key")
        proc = self.encfsr(["init", "--key", other, "--password-file", pw,
                            "--paper-key-file", paper_file] + FAST)
        self.assert_error(proc, 4, "cannot create paper key file " + paper_file)
        self.assertFalse(os.path.exists(other))
        os.symlink(self.path("target"), self.path("link.paper"))
        proc = self.encfsr(["init", "--key", other, "--password-file", pw,
                            "--paper-key-file", self.path("link.paper")] + FAST)
        self.assertNotEqual(proc.returncode, 0, text(proc))
        self.assertFalse(os.path.exists(self.path("target")))
        self.assertFalse(os.path.exists(other))

    def test_init_prints_paper_key_once_on_a_terminal(self):
        key = self.path("tty.key")
        pw = self.write("tty.pw", "pw on tty\n")
        session = PtySession(["init", "--key", key, "--password-file", pw] + FAST)
        code = session.finish()
        self.assertEqual(code, 0, session.output)
        out = session.output.decode(errors="replace")
        self.assertEqual(len(PAPER_RE.findall(out)), 1, out)
        self.assertRegex(out.lower(), r"keep|safe")

    def test_init_quiet_prints_nothing(self):
        key, pw, proc = self.init_key(extra=["--quiet"])
        self.assertEqual(proc.stdout, b"")
        self.assertEqual(proc.stderr, b"")
        # The key file is there and opens with the password.
        config = self.make_config(key)
        ok = self.path_encrypt(config, "home", ["--password-file", pw])
        self.assertEqual(ok.returncode, 0, text(ok))
        self.assertRegex(ok.stdout.decode(), r"^[A-Za-z0-9_-]{20,}\n$")

    def test_init_password_stdin_and_command(self):
        key_stdin = self.path("stdin.key")
        proc = self.encfsr(["init", "--key", key_stdin, "--password-stdin", "-q"] + FAST,
                           stdin_data="pw from stdin\nsecond line\n")
        self.assertEqual(proc.returncode, 0, text(proc))
        key_cmd = self.path("cmd.key")
        proc = self.encfsr(["init", "--key", key_cmd, "--password-command",
                            "printf 'pw from command\\nignored\\n'", "-q"] + FAST)
        self.assertEqual(proc.returncode, 0, text(proc))
        # Each key opens with exactly the first line of its source.
        for key, good in ((key_stdin, "pw from stdin"), (key_cmd, "pw from command")):
            config = self.make_config(key)
            ok = self.encfsr(["path", "encrypt", "--password-stdin", config, "home"],
                             stdin_data=good + "\n")
            self.assertEqual(ok.returncode, 0, text(ok))
            bad = self.encfsr(["path", "encrypt", "--password-stdin", config, "home"],
                              stdin_data="second line\n")
            self.assert_error(bad, 5, "wrong password for key file " + key)

    def test_init_refuses_existing_key(self):
        key, pw, _ = self.init_key(extra=["-q"])
        with open(key, "rb") as f:
            before = f.read()
        mtime = os.stat(key).st_mtime_ns
        # No password source at all: the refusal must come before any password is asked for.
        proc = self.encfsr(["init", "--key", key] + FAST)
        self.assert_error(proc, 4, key, "exists")
        proc = self.encfsr(["init", "--key", key, "--password-file", pw] + FAST)
        self.assert_error(proc, 4, "exists")
        with open(key, "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(os.stat(key).st_mtime_ns, mtime)

    def test_no_password_source_without_terminal(self):
        key = self.path("k.key")
        proc = self.encfsr(["init", "--key", key] + FAST)
        self.assert_error(proc, 5, "no password")
        self.assertFalse(os.path.exists(key))

    def test_empty_password_refused(self):
        pw = self.write("empty.pw", "\n")
        key = self.path("k.key")
        proc = self.encfsr(["init", "--key", key, "--password-file", pw] + FAST)
        self.assert_error(proc, 5, "empty password")
        self.assertFalse(os.path.exists(key))

    def test_missing_password_file(self):
        proc = self.encfsr(["init", "--key", self.path("k.key"), "--password-file",
                            self.path("nope.pw")] + FAST)
        self.assert_error(proc, 5, "nope.pw")

    def test_password_command_failure_names_status_not_output(self):
        key = self.path("k.key")
        proc = self.encfsr(["init", "--key", key, "--password-command",
                            "echo leakedsecret; exit 3"] + FAST)
        self.assert_error(proc, 5, "exit status 3")
        self.assertNotIn("leakedsecret", text(proc))
        self.assertFalse(os.path.exists(key))

    def test_init_defaults_kdf_costs(self):
        pw = self.write("d.pw", "pw\n")
        key = self.path("d.key")
        proc = self.encfsr(["init", "--key", key, "--password-file", pw, "-q"])
        self.assertEqual(proc.returncode, 0, text(proc))
        with open(key) as f:
            content = f.read()
        self.assertIn("ops_limit: 3\n", content)
        self.assertIn("mem_limit: %d\n" % (256 * 1024 * 1024), content)

    def test_kdf_cost_range(self):
        pw = self.write("p.pw", "pw\n")
        for args in (["--kdf-ops", "0"], ["--kdf-ops", "17"], ["--kdf-mem-mib", "0"],
                     ["--kdf-mem-mib", "2049"], ["--kdf-ops", "x"],
                     ["--kdf-ops", "1", "--kdf-mem-mib", "8"],  # cheap without --insecure-kdf
                     ["--kdf-ops", "1"], ["--kdf-mem-mib", "63"]):
            proc = self.encfsr(["init", "--key", self.path("k.key"), "--password-file", pw]
                               + args)
            self.assertEqual(proc.returncode, 2, (args, text(proc)))
            self.assertFalse(os.path.exists(self.path("k.key")))
        proc = self.encfsr(["init", "--key", self.path("k.key"), "--password-file", pw,
                            "--kdf-ops", "1", "--kdf-mem-mib", "8"])
        self.assert_error(proc, 2, "below libsodium's INTERACTIVE level", "--insecure-kdf")
        # passwd keeps a cheap key's costs only with --insecure-kdf.
        key, pw2, _ = self.init_key(name="cheap.key", extra=["-q"])
        new = self.write("new.pw", "new\n")
        proc = self.encfsr(["passwd", "--key", key, "--password-file", pw2,
                            "--new-password-file", new])
        self.assert_error(proc, 2, "--insecure-kdf")
        proc = self.encfsr(["passwd", "--key", key, "--password-file", pw2,
                            "--new-password-file", new, "--insecure-kdf"])
        self.assertEqual(proc.returncode, 0, text(proc))

    # ---- terminal prompt ----

    def test_prompt_without_echo_asked_twice(self):
        key = self.path("tty.key")
        session = PtySession(["init", "--key", key, "-q"] + FAST)
        session.read_until(b"assword")
        session.send(b"tty-secret-1\n")
        session.read_until(b"Repeat")
        session.send(b"tty-secret-1\n")
        code = session.finish()
        self.assertEqual(code, 0, session.output)
        self.assertNotIn(b"tty-secret-1", session.output)
        self.assertTrue(os.path.exists(key))
        # The key opens with that password.
        config = self.make_config(key)
        proc = self.encfsr(["path", "encrypt", "--password-stdin", config, "home"],
                           stdin_data="tty-secret-1\n")
        self.assertEqual(proc.returncode, 0, text(proc))

    def test_prompt_mismatch_refused(self):
        key = self.path("tty.key")
        session = PtySession(["init", "--key", key] + FAST)
        session.read_until(b"assword")
        session.send(b"first-secret\n")
        session.read_until(b"Repeat")
        session.send(b"other-secret\n")
        code = session.finish()
        self.assertEqual(code, 5, session.output)
        self.assertIn(b"do not match", session.output)
        self.assertNotIn(b"first-secret", session.output)
        self.assertNotIn(b"other-secret", session.output)
        self.assertFalse(os.path.exists(key))

    def test_prompt_interrupted_restores_echo(self):
        key = self.path("tty.key")
        session = PtySession(["init", "--key", key] + FAST)
        session.read_until(b"assword")
        self.assertFalse(termios.tcgetattr(session.fd)[3] & termios.ECHO)
        session.send(b"\x03")  # ^C: SIGINT while echo is off
        deadline = time.time() + 10
        while time.time() < deadline and not termios.tcgetattr(session.fd)[3] & termios.ECHO:
            time.sleep(0.05)
        self.assertTrue(termios.tcgetattr(session.fd)[3] & termios.ECHO)
        self.assertEqual(session.finish(), -signal.SIGINT)
        self.assertFalse(os.path.exists(key))

    def test_prompt_unlock_asks_once(self):
        key, _, _ = self.init_key(password="unlock-me", extra=["-q"])
        config = self.make_config(key)
        session = PtySession(["path", "encrypt", config, "home/a"])
        session.read_until(b"assword")
        session.send(b"unlock-me\n")
        code = session.finish()
        self.assertEqual(code, 0, session.output)
        self.assertNotIn(b"unlock-me", session.output)
        self.assertNotIn(b"Repeat", session.output)

    # ---- passwd ----

    def test_passwd_keeps_master_key(self):
        key, old_pw, paper = self.init_key_with_paper(password="old password")
        paper_file = self.write("paper.txt", paper.lower().replace("-", " ") + "\n")
        config = self.make_config(key)
        before = self.path_encrypt(config, "home/a/b.txt", ["--password-file", old_pw])
        self.assertEqual(before.returncode, 0, text(before))
        with open(key, "rb") as f:
            old_text = f.read()

        new_pw = self.write("new.pw", "new password\n")
        proc = self.encfsr(["passwd", "--key", key, "--password-file", old_pw,
                            "--new-password-file", new_pw, "--insecure-kdf"])
        self.assertEqual(proc.returncode, 0, text(proc))
        with open(key, "rb") as f:
            new_text = f.read()
        self.assertNotEqual(old_text, new_text)
        # A fresh salt.
        salt = lambda t: re.search(rb"^salt: (\w+)$", t, re.M).group(1)
        self.assertNotEqual(salt(old_text), salt(new_text))
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)

        old = self.path_encrypt(config, "home/a/b.txt", ["--password-file", old_pw])
        self.assert_error(old, 5, "wrong password for key file " + key)
        after = self.path_encrypt(config, "home/a/b.txt", ["--password-file", new_pw])
        self.assertEqual(after.returncode, 0, text(after))
        self.assertEqual(after.stdout, before.stdout)
        via_paper = self.path_encrypt(config, "home/a/b.txt", ["--master-key-file", paper_file])
        self.assertEqual(via_paper.returncode, 0, text(via_paper))
        self.assertEqual(via_paper.stdout, before.stdout)

        # passwd with the paper key as the old secret, the new one from stdin.
        proc = self.encfsr(["passwd", "--key", key, "--master-key-file", paper_file,
                            "--new-password-stdin", "--insecure-kdf"],
                           stdin_data="third password\n")
        self.assertEqual(proc.returncode, 0, text(proc))
        third = self.encfsr(["path", "encrypt", "--password-stdin", config, "home/a/b.txt"],
                            stdin_data="third password\n")
        self.assertEqual(third.stdout, before.stdout)

    def test_passwd_old_and_new_from_stdin(self):
        key, _, _ = self.init_key(password="one", extra=["-q"])
        config = self.make_config(key)
        proc = self.encfsr(["passwd", "--key", key, "--password-stdin", "--new-password-stdin",
                            "--insecure-kdf"], stdin_data="one\ntwo\n")
        self.assertEqual(proc.returncode, 0, text(proc))
        ok = self.encfsr(["path", "encrypt", "--password-stdin", config, "home"],
                         stdin_data="two\n")
        self.assertEqual(ok.returncode, 0, text(ok))
        self.assertTrue(ok.stdout.strip())
        old = self.encfsr(["path", "encrypt", "--password-stdin", config, "home"],
                          stdin_data="one\n")
        self.assert_error(old, 5, "wrong password")

    def test_passwd_wrong_old_password_leaves_file(self):
        key, _, _ = self.init_key(extra=["-q"])
        with open(key, "rb") as f:
            before = f.read()
        bad = self.write("bad.pw", "not it\n")
        new = self.write("new.pw", "new\n")
        proc = self.encfsr(["passwd", "--key", key, "--password-file", bad,
                            "--new-password-file", new, "--insecure-kdf"])
        self.assert_error(proc, 5, "wrong password for key file " + key)
        with open(key, "rb") as f:
            self.assertEqual(f.read(), before)

    def test_wrong_paper_key(self):
        key, _, _ = self.init_key(extra=["-q"])
        _, _, other_paper = self.init_key_with_paper(name="other.key")
        paper_file = self.write("paper.txt", other_paper + "\n")
        config = self.make_config(key)
        proc = self.path_encrypt(config, "home", ["--master-key-file", paper_file])
        self.assert_error(proc, 5, "paper key does not belong to key file " + key)
        # A typo is caught by the checksum.
        typo = other_paper[:-1] + ("A" if other_paper[-1] != "A" else "B")
        self.write("typo.txt", typo + "\n")
        proc = self.path_encrypt(config, "home", ["--master-key-file", self.path("typo.txt")])
        self.assertEqual(proc.returncode, 5, text(proc))

    # ---- errors ----

    def test_wrong_password(self):
        key, _, _ = self.init_key(extra=["-q"])
        config = self.make_config(key)
        bad = self.write("bad.pw", "wrong\n")
        proc = self.path_encrypt(config, "home", ["--password-file", bad])
        self.assert_error(proc, 5, "wrong password for key file " + key)
        self.assertEqual(len(proc.stderr.decode().splitlines()), 1)
        self.assertEqual(proc.stdout, b"")

    def test_damaged_key_file(self):
        key, pw, _ = self.init_key(extra=["-q"])
        config = self.make_config(key)
        with open(key, "rb") as f:
            original = bytearray(f.read())
        # Flip a bit in the header, then put a non-hex byte into the salt.
        damaged = bytearray(original)
        damaged[3] ^= 0x01
        salt_at = original.index(b"salt: ") + 6
        damaged2 = bytearray(original)
        damaged2[salt_at + 5] = ord("x")
        for content in (damaged, damaged2, original[:-10]):
            with open(key, "wb") as f:
                f.write(content)
            proc = self.path_encrypt(config, "home", ["--password-file", pw])
            self.assert_error(proc, 4, key)
            proc = self.encfsr(["passwd", "--key", key, "--password-file", pw,
                                "--new-password-file", pw])
            self.assert_error(proc, 4, key)

    def test_missing_key_file(self):
        pw = self.write("p.pw", "pw\n")
        proc = self.encfsr(["passwd", "--key", self.path("none.key"), "--password-file", pw,
                            "--new-password-file", pw])
        self.assert_error(proc, 4, "none.key")

    def test_help_and_version(self):
        proc = self.encfsr(["--help"])
        self.assertEqual(proc.returncode, 0, text(proc))
        out = proc.stdout.decode()
        self.assertIn("Exit codes", out)
        for code in ("2", "3", "4", "5", "6", "7", "8", "9", "10"):
            self.assertRegex(out, r"(?m)^\s*%s\s+\S" % code)
        for sub in SUBCOMMANDS:
            self.assertIn(sub, out)
            proc = self.encfsr([sub, "--help"])
            self.assertEqual(proc.returncode, 0, (sub, text(proc)))
            self.assertIn("Usage", proc.stdout.decode())
        for sub in ("encrypt", "decrypt"):
            proc = self.encfsr(["path", sub, "--help"])
            self.assertEqual(proc.returncode, 0, text(proc))
        proc = self.encfsr(["--version"])
        self.assertEqual(proc.returncode, 0, text(proc))
        self.assertRegex(proc.stdout.decode().splitlines()[0], r"^encfsr \d+\.\d+\.\d+$")

    def test_usage_errors(self):
        pw = self.write("p.pw", "pw\n")
        cases = [
            [],
            ["frobnicate"],
            ["init"],
            ["init", "--key", self.path("k"), "--bogus"],
            ["init", "--key", self.path("k"), "--password-file", pw, "--password-stdin"],
            ["init", "--key", self.path("k"), "--password-file", pw, "--password-command", "x"],
            ["init", "--key", self.path("k"), "--password", "secret"],
            ["path"],
            ["path", "encrypt", "only-config"],
            ["passwd", "--key", self.path("k"), "--new-password-file", pw,
             "--new-password-stdin"],
        ]
        for args in cases:
            proc = self.encfsr(args)
            self.assertEqual(proc.returncode, 2, (args, text(proc)))
            self.assertIn("encfsr: error: ", proc.stderr.decode())
        self.assertFalse(os.path.exists(self.path("k")))

    def test_config_error_is_exit_3(self):
        bad = self.write("bad.yaml", "key: [unclosed\n", mode=0o644)
        proc = self.encfsr(["path", "encrypt", bad, "home"])
        self.assertEqual(proc.returncode, 3, text(proc))
        self.assertTrue(all(line.startswith("encfsr: error: ")
                            for line in proc.stderr.decode().splitlines()))

    # ---- path encrypt / decrypt ----

    def _copy_dir_from(self, cipher_path, key):
        """Creates a ciphertext dir holding `cipher_path` (file at the end) and the key file."""
        copy = self.path("copy")
        os.makedirs(os.path.join(copy, os.path.dirname(cipher_path)), exist_ok=True)
        open(os.path.join(copy, cipher_path), "w").close()
        shutil.copy(key, os.path.join(copy, "encfsr.key"))
        return copy

    def _round_trip(self, names):
        key, pw, _ = self.init_key(extra=["-q"])
        config = self.make_config(key, names=names)
        proc = self.path_encrypt(config, "home/a/b.txt", ["--password-file", pw])
        self.assertEqual(proc.returncode, 0, text(proc))
        cipher = proc.stdout.decode().strip()
        parts = cipher.split("/")
        self.assertEqual(len(parts), 3, cipher)
        self.assertNotIn("home", cipher)
        self.assertNotIn("b.txt", cipher)
        if names == "base32":
            self.assertRegex(cipher, r"^[a-z2-7/]+$")
        else:
            self.assertRegex(cipher, r"^[A-Za-z0-9_/-]+$")
        # Deterministic, and the absolute plaintext path maps to the same.
        again = self.path_encrypt(config, self.path("src", "a", "b.txt"), ["--password-file", pw])
        self.assertEqual(again.stdout.decode().strip(), cipher, text(again))
        # Prefixes are consistent.
        dir_only = self.path_encrypt(config, "home/a", ["--password-file", pw])
        self.assertEqual(dir_only.stdout.decode().strip(), "/".join(parts[:2]))

        copy = self._copy_dir_from(cipher, key)
        # Names encoding detected from the root entries (the key file has no view section).
        for target in (cipher, os.path.join(copy, cipher)):
            back = self.encfsr(["path", "decrypt", "--password-file", pw, "--", copy, target])
            self.assertEqual(back.returncode, 0, text(back))
            self.assertEqual(back.stdout.decode(), "home/a/b.txt\n")
        explicit = self.encfsr(["path", "decrypt", "--password-file", pw, "--names", names,
                                "--", copy, cipher])
        self.assertEqual(explicit.stdout.decode(), "home/a/b.txt\n", text(explicit))
        # --key given explicitly.
        other = self.encfsr(["path", "decrypt", "--key", key, "--password-file", pw, "--",
                             copy, cipher])
        self.assertEqual(other.stdout.decode(), "home/a/b.txt\n", text(other))
        return key, pw, config, copy, cipher

    def test_path_round_trip_base64url(self):
        _, pw, _, copy, cipher = self._round_trip("base64url")
        # A renamed (tampered) component fails to decrypt: damage.
        parts = cipher.split("/")
        last = parts[2]
        flipped = last[:5] + ("A" if last[5] != "A" else "B") + last[6:]
        tampered = "/".join(parts[:2] + [flipped])
        proc = self.encfsr(["path", "decrypt", "--password-file", pw, "--", copy, tampered])
        self.assertEqual(proc.returncode, 8, text(proc))
        # Outside the copy.
        proc = self.encfsr(["path", "decrypt", "--password-file", pw, copy, "/etc/passwd"])
        self.assertEqual(proc.returncode, 2, text(proc))

    def test_path_round_trip_base32(self):
        self._round_trip("base32")

    def test_path_decrypt_without_key_file(self):
        key, pw, _ = self.init_key(extra=["-q"])
        empty = self.path("emptycopy")
        os.mkdir(empty)
        proc = self.encfsr(["path", "decrypt", "--password-file", pw, empty, "x"])
        self.assert_error(proc, 4, "encfsr.key")
        proc = self.encfsr(["path", "decrypt", "--password-file", pw, self.path("nodir"), "x"])
        self.assertEqual(proc.returncode, 9, text(proc))

    def test_path_encrypt_long_name(self):
        key, pw, _ = self.init_key(extra=["-q"])
        config = self.make_config(key)
        for names in ("base64url", "base32"):
            config = self.make_config(key, names=names)
            long_name = "x" * 240
            proc = self.path_encrypt(config, "home/" + long_name, ["--password-file", pw])
            self.assertEqual(proc.returncode, 0, text(proc))
            last = proc.stdout.decode().strip().split("/")[-1]
            self.assertTrue(last.startswith("encfsr.long."), last)
            self.assertLessEqual(len(last), 255)
            short = self.path_encrypt(config, "home/" + "x" * 20, ["--password-file", pw])
            self.assertFalse(short.stdout.decode().strip().split("/")[-1]
                             .startswith("encfsr.long."))

    def test_path_encrypt_unknown_source_and_outside(self):
        key, pw, _ = self.init_key(extra=["-q"])
        config = self.make_config(key)
        proc = self.path_encrypt(config, "nosuch/a", ["--password-file", pw])
        self.assertEqual(proc.returncode, 2, text(proc))
        proc = self.path_encrypt(config, "/usr/bin/ls", ["--password-file", pw])
        self.assertEqual(proc.returncode, 2, text(proc))

    def test_config_password_file_used(self):
        key, pw, _ = self.init_key(extra=["-q"])
        config = self.make_config(key, extra="password_file: %s\n" % pw)
        proc = self.encfsr(["path", "encrypt", config, "home"])
        self.assertEqual(proc.returncode, 0, text(proc))
        # Options given on the command line win over the config.
        bad = self.write("bad.pw", "bad\n")
        proc = self.path_encrypt(config, "home", ["--password-file", bad])
        self.assertEqual(proc.returncode, 5, text(proc))

    # ---- secrets ----

    def test_no_secret_in_any_output(self):
        password = "Sup3r-Secret-Passw0rd"
        new_password = "An0ther-Secret-Passw0rd"
        key, pw, paper = self.init_key_with_paper(password=password)
        paper_file = self.write("paper.txt", paper + "\n")
        new_pw = self.write("new.pw", new_password + "\n")
        config = self.make_config(key)
        bad = self.write("bad.pw", "wrong\n")
        self.path_encrypt(config, "home/a/b.txt", ["--password-file", pw])
        self.path_encrypt(config, "home/a/b.txt", ["--password-file", bad])
        self.path_encrypt(config, "home/a/b.txt", ["--master-key-file", paper_file])
        self.encfsr(["passwd", "--key", key, "--password-file", pw, "--new-password-file", new_pw,
                     "--insecure-kdf"])
        self.encfsr(["passwd", "--key", key, "--password-file", pw, "--new-password-file", new_pw,
                     "--insecure-kdf"])
        self.encfsr(["path", "encrypt", "--password-stdin", config, "home"],
                    stdin_data=new_password + "\n")
        self.encfsr(["init", "--key", key, "--password-file", pw])
        self.encfsr(["init", "--key", self.path("x.key"), "--password-command",
                     "echo %s; exit 1" % password])
        secrets = [password, new_password, paper, paper.replace("-", "")] + paper_key_hexes(paper)
        self.assertGreater(len(self.outputs), 6)
        for output in self.outputs:
            for secret in secrets:
                self.assertNotIn(secret, output)


def main():
    global BIN
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        BIN = sys.argv.pop(1)
    if not BIN:
        sys.exit("usage: cli_keys_test.py ENCFSR_BINARY (or set ENCFSR_BIN)")
    BIN = os.path.abspath(BIN)
    unittest.main()


if __name__ == "__main__":
    main()
