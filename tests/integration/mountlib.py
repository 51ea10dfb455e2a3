"""tests/integration/mountlib.py — shared helpers of the python integration tests.

- encfsr_bin(): the binary under test (ENCFSR_BIN, or set_bin() from argv[1]).
- require_fuse(): skips (or, under CI=true, fails) when FUSE cannot be used here.
- init_key(): a key made with cheap Argon2 costs and a password file; returns the paper key.
- write_config(): a YAML config for sources.
- Mount: a context manager running `encfsr mount -f ...` (reverse, --plain or --decrypt) that
  waits for the mount and ALWAYS unmounts and reaps the daemon on exit.
- make_tree(): a generated plaintext tree with every awkward kind of entry, and
  plain_entries() / view_walk() / tree_digest() to describe trees for comparisons.
"""

import errno
import hashlib
import json
import os
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

_BIN = os.environ.get("ENCFSR_BIN")
PASSWORD = "integration test password"
FIFO_NAME = "the.fifo"
CACHEDIR_SIGNATURE = "Signature: 8a477f597d28d172789f06886806bc55"


def set_bin(path):
    global _BIN
    _BIN = os.path.abspath(path)


def take_bin_from_argv():
    """argv[1] is the binary if it is an existing file; removes it from sys.argv."""
    if len(sys.argv) > 1 and os.path.isfile(sys.argv[1]):
        set_bin(sys.argv.pop(1))


def encfsr_bin():
    if not _BIN:
        raise RuntimeError("set ENCFSR_BIN or pass the encfsr binary as the first argument")
    return _BIN


def in_ci():
    return os.environ.get("CI") == "true"


def fuse_problem():
    """None if FUSE looks usable, else a reason."""
    if not os.path.exists("/dev/fuse"):
        return "/dev/fuse is missing"
    try:
        fd = os.open("/dev/fuse", os.O_RDWR)
        os.close(fd)
    except OSError as e:
        return "/dev/fuse cannot be opened: %s" % e
    if shutil.which("fusermount3") is None:
        return "fusermount3 is not installed"
    return None


def require_fuse():
    problem = fuse_problem()
    if problem:
        if in_ci():
            raise AssertionError("CI=true but FUSE is unusable: " + problem)
        raise unittest.SkipTest("FUSE unusable: " + problem)


def run(args, check=True, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("timeout", 120)
    proc = subprocess.run(args, **kw)
    if check and proc.returncode != 0:
        raise AssertionError("%s exited %d\nstdout: %s\nstderr: %s" % (
            " ".join(map(str, args)), proc.returncode, _text(proc.stdout), _text(proc.stderr)))
    return proc


def _text(data):
    if data is None:
        return ""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data


# ------------------------------------------------------------------------------ keys, config

def write_password_file(path, password=PASSWORD):
    with open(path, "w") as f:
        f.write(password + "\n")
    os.chmod(path, 0o600)
    return path


PAPER_KEY_RE = re.compile(r"\b(?:[A-Z2-7]{4}-){13}[A-Z2-7]{4}\b")


def init_key(key_path, password_file):
    """`encfsr init` with cheap Argon2 costs (--insecure-kdf); returns the paper key, which init
    writes to a new file (--paper-key-file) since its stdout is not a terminal here."""
    paper_file = key_path + ".paper"
    run([encfsr_bin(), "init", "--key", key_path, "--password-file", password_file,
         "--kdf-ops", "1", "--kdf-mem-mib", "8", "--insecure-kdf", "--paper-key-file", paper_file])
    with open(paper_file) as f:
        text = f.read()
    os.unlink(paper_file)
    m = PAPER_KEY_RE.search(text)
    if not m:
        raise AssertionError("init wrote no paper key: %r" % text)
    return m.group(0)


def _yaml(value):
    return json.dumps(value, ensure_ascii=False)  # JSON scalars and lists are valid YAML


def write_config(path, key, password_file, sources, names=None, key_in_view=None,
                 one_file_system=None, mount=None, manifests=None):
    """sources: list of dicts {name, path | paths, exclude?, exclude_caches?}."""
    lines = ["key: " + _yaml(str(key))]
    if password_file:
        lines.append("password_file: " + _yaml(str(password_file)))
    if names:
        lines.append("names: " + names)
    lines.append("sources:")
    for s in sources:
        lines.append("  - name: " + _yaml(s["name"]))
        if "path" in s:
            lines.append("    path: " + _yaml(str(s["path"])))
        if "paths" in s:
            lines.append("    paths: " + _yaml([str(p) for p in s["paths"]]))
        if "exclude" in s:
            lines.append("    exclude: " + _yaml(s["exclude"]))
        if "exclude_caches" in s:
            lines.append("    exclude_caches: " + _yaml(bool(s["exclude_caches"])))
    if key_in_view is not None:
        lines.append("key_in_view: " + _yaml(bool(key_in_view)))
    if one_file_system is not None:
        lines.append("one_file_system: " + _yaml(bool(one_file_system)))
    if manifests is not None:
        lines.append("manifests: " + _yaml(bool(manifests)))
    if mount:
        lines.append("mount:")
        for k, v in mount.items():
            lines.append("  %s: %s" % (k, _yaml(v)))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


class Setup:
    """A work dir with a password file and a key; configs are written into it."""

    def __init__(self, prefix="encfsr-it-"):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.password_file = write_password_file(os.path.join(self.dir, "password"))
        self.key = os.path.join(self.dir, "host.key")
        self.paper_key = init_key(self.key, self.password_file)
        self._n = 0

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def mkdir(self, *parts):
        p = self.path(*parts)
        os.makedirs(p, exist_ok=True)
        return p

    def config(self, sources, name=None, **kw):
        self._n += 1
        path = self.path(name or "config%d.yaml" % self._n)
        return write_config(path, self.key, self.password_file, sources, **kw)

    def mountpoint(self):
        self._n += 1
        return self.mkdir("mnt%d" % self._n)

    def cleanup(self):
        # Never remove anything below a live mount.
        for mp in mounts():
            if mp.startswith(self.dir + "/"):
                subprocess.run(["fusermount3", "-uz", mp], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)


# ------------------------------------------------------------------------------------- mount

class MountError(AssertionError):
    pass


def mounts():
    """Mount points of /proc/self/mounts (octal escapes decoded)."""
    out = []
    with open("/proc/self/mounts") as f:
        for line in f:
            mp = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[1])
            out.append(mp)
    return out


def _resolved(path):
    """realpath of path's parent joined with its name: never stats path itself, which would
    hang on a mount whose daemon no longer answers."""
    path = os.path.abspath(path)
    return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


def daemon_pids(mnt):
    """Processes running an encfsr binary whose command line names `mnt` (its daemons)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) == b"encfsr" and mnt.encode() in argv:
            pids.append(int(entry))
    return pids


def is_mounted(path):
    return _resolved(path) in mounts()


def fuse_device(path):
    """The device number "MAJOR:MINOR" of the FUSE mount at path (the last one mounted there),
    from mountinfo (no stat of the mountpoint, which would wait on a daemon that hangs), or
    None."""
    target = _resolved(path)
    found = None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            mp = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
            fstype = fields[fields.index("-") + 1]
            if mp == target and fstype.startswith("fuse"):
                found = fields[2]
    return found


def fuse_connection(path):
    """The FUSE connection number (fusectl) of the mount at path, from mountinfo, or None."""
    device = fuse_device(path)
    if device is None:
        return None
    major, minor = device.split(":")
    return int(minor) if major == "0" else None


def abort_fuse_connection(conn):
    """Aborts a FUSE connection through fusectl (mounting it if needed): every request waiting
    on it fails, so a daemon whose threads are stuck in requests to its own mount can exit."""
    base = "/sys/fs/fuse/connections"
    if not os.path.exists(os.path.join(base, str(conn))):
        subprocess.run(["mount", "-t", "fusectl", "fusectl", base], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=15)
    try:
        with open(os.path.join(base, str(conn), "abort"), "w") as f:
            f.write("1")
        return True
    except OSError:
        return False


class Mount:
    """`with Mount(config, mnt) as m:` mounts (encfsr mount -f) and always unmounts.

    mode: "reverse" (default), "plain" or "decrypt" (then `source` is a CIPHERDIR and
    key_options are e.g. ["--password-file", F]). ulimit_n runs the daemon under `ulimit -n`.
    prefix: a command the daemon is started under, which must exec it (e.g. setpriv ...), so
    that pid stays the daemon's.
    """

    def __init__(self, source, mnt, mode="reverse", options=(), key_options=(), extra=(),
                 ulimit_n=None, timeout=20.0, prefix=()):
        self.source = str(source)
        self.path = str(mnt)
        self.mode = mode
        self.options = list(options)
        self.key_options = list(key_options)
        self.extra = list(extra)
        self.ulimit_n = ulimit_n
        self.timeout = timeout
        self.prefix = list(prefix)
        self.proc = None
        self._err = None
        self._err_text = ""
        self.returncode = None
        self.connection = None

    @property
    def pid(self):
        return self.proc.pid

    def command(self):
        args = [encfsr_bin(), "mount", "-f"]
        if self.mode == "plain":
            args.append("--plain")
        elif self.mode == "decrypt":
            args.append("--decrypt")
        if self.options:
            args += ["-o", ",".join(self.options)]
        args += self.key_options + self.extra + [self.source, self.path]
        args = self.prefix + args
        if self.ulimit_n:
            args = ["sh", "-c", 'ulimit -n %d && exec "$0" "$@"' % self.ulimit_n] + args
        return args

    def stderr_text(self):
        """The daemon's stderr so far (kept after close())."""
        if self._err is None:
            return self._err_text
        fd = self._err.fileno()  # pread: the daemon shares the file offset
        return _text(os.pread(fd, os.fstat(fd).st_size, 0))

    def __enter__(self):
        require_fuse()
        if is_mounted(self.path):
            raise MountError("%s is already mounted" % self.path)
        self._err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                     stdout=self._err, stderr=self._err)
        deadline = time.monotonic() + self.timeout
        try:
            while True:
                if os.path.ismount(self.path) or is_mounted(self.path):
                    self.connection = fuse_connection(self.path)
                    return self
                code = self.proc.poll()
                if code is not None:
                    raise MountError("encfsr mount exited %d before mounting %s:\n%s" % (
                        code, self.path, self.stderr_text()))
                if time.monotonic() > deadline:
                    raise MountError("%s not mounted after %.0f s; stderr:\n%s" % (
                        self.path, self.timeout, self.stderr_text()))
                time.sleep(0.05)
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def close(self):
        """Unmount (encfsr umount, then fusermount3 -uz) and reap the daemon. Idempotent."""
        if self.proc is None:
            return
        try:
            if is_mounted(self.path):
                try:
                    subprocess.run([encfsr_bin(), "umount", self.path], timeout=15,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                except subprocess.TimeoutExpired:
                    pass
            if is_mounted(self.path):
                subprocess.run(["fusermount3", "-uz", self.path], timeout=15,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    try:
                        self.proc.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        # Threads stuck in requests to their own mount keep it from dying.
                        if self.connection is not None:
                            abort_fuse_connection(self.connection)
                        self.proc.wait(timeout=15)
            if is_mounted(self.path):
                subprocess.run(["fusermount3", "-uz", self.path], timeout=15,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        finally:
            self.returncode = self.proc.returncode
            self.proc = None
            if self._err is not None:
                self._err_text = self.stderr_text()
                self._err.close()
                self._err = None

    def fd_count(self):
        return len(os.listdir("/proc/%d/fd" % self.pid))


# ------------------------------------------------------------------------------------- trees

def _content(rng, size):
    return rng.randbytes(size)


def set_mtime(path, seconds, follow=False):
    os.utime(path, ns=(seconds * 10**9, seconds * 10**9), follow_symlinks=follow)


def make_tree(root, outside_target, seed=1, big_dir=1000, deep=30, big_file=3 * 1024 * 1024):
    """Writes the awkward plaintext tree under root and returns facts the tests need.

    outside_target: an existing file outside root (the target of the "escaping" symlink).
    """
    rng = random.Random(seed)
    os.makedirs(root, exist_ok=True)
    facts = {"long_names": [], "files": {}}

    def write(rel, data, mode=0o644, mtime=None):
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        os.chmod(p, mode)
        if mtime is not None:
            set_mtime(p, mtime)
        facts["files"][rel] = p
        return p

    # sizes around the block boundary, empty, three blocks, a big one
    write("sizes/empty", b"")
    write("sizes/one", b"x")
    for n in (4095, 4096, 4097, 8192, 12288, 100000):
        write("sizes/s%d" % n, _content(rng, n), mtime=1600000000 + n)
    write("sizes/three_blocks", _content(rng, 3 * 4096 - 100))
    write("big.bin", _content(rng, big_file), mode=0o600)
    # a sparse file: holes around some data
    p = os.path.join(root, "sparse.img")
    with open(p, "wb") as f:
        f.truncate(2 * 1024 * 1024)
        f.seek(1024 * 1024 + 10)
        f.write(b"data in the middle of holes")
    facts["files"]["sparse.img"] = p
    # modes and mtimes
    write("modes/ro.txt", b"read only\n", mode=0o444, mtime=1234567890)
    write("modes/exec.sh", b"#!/bin/sh\necho hi\n", mode=0o755, mtime=1234567891)
    write("modes/private", b"secret\n", mode=0o600, mtime=1234567892)
    os.chmod(os.path.join(root, "modes"), 0o750)
    # names: long (short/long boundary is 160 bytes for base64url, 128 for base32), UTF-8
    for n in (128, 129, 150, 160, 161, 200, 255):
        name = ("L%03d_" % n) + "n" * (n - 5)
        write("names/" + name, ("long name %d\n" % n).encode())
        facts["long_names"].append("names/" + name)
    utf = "é" * 100 + ".txt"  # 204 bytes
    write("names/" + utf, b"utf8 long\n")
    facts["long_names"].append("names/" + utf)
    long_dir = "D" * 200
    write("names/%s/inside" % long_dir, b"in a long-named dir\n")
    facts["long_names"].append("names/" + long_dir)
    for name in ("ünïcödé.txt", "日本語のファイル", "emoji 😀 file", "space name ",
                 "-leading-dash", ".hidden", "a\tb", "quote'\"", "back\\slash"):
        write("names/" + name, name.encode() + b"\n")
    # symlinks
    os.makedirs(os.path.join(root, "links"), exist_ok=True)
    os.symlink("../sizes/s4096", os.path.join(root, "links/relative"))
    os.symlink(os.path.join(root, "sizes/one"), os.path.join(root, "links/absolute"))
    os.symlink("does/not/exist", os.path.join(root, "links/dangling"))
    os.symlink(outside_target, os.path.join(root, "links/outside"))
    os.symlink("../" * 10 + "etc/passwd", os.path.join(root, "links/dotdot"))
    os.symlink("names", os.path.join(root, "links/to_dir_rel"))
    os.symlink("t" * 1000, os.path.join(root, "links/long_target"))
    # hard links
    hp = write("hard/a", b"hard linked content\n" * 300)
    os.link(hp, os.path.join(root, "hard/b"))
    os.makedirs(os.path.join(root, "hard/sub"), exist_ok=True)
    os.link(hp, os.path.join(root, "hard/sub/c"))
    # a big directory
    d = os.path.join(root, "bigdir")
    os.makedirs(d, exist_ok=True)
    for i in range(big_dir):
        with open(os.path.join(d, "f%04d" % i), "wb") as f:
            f.write(b"%d\n" % i)
    # deep nesting
    rel = "deep"
    for i in range(deep):
        rel += "/level%02d" % i
    write(rel + "/bottom.txt", b"bottom\n")
    facts["deep"] = rel
    # empty directory
    os.makedirs(os.path.join(root, "emptydir"), exist_ok=True)
    # a FIFO, which the view must leave out
    os.mkfifo(os.path.join(root, FIFO_NAME))
    set_mtime(root, 1500000000)
    return facts


def plain_entries(root):
    """{relative path: lstat} of a plaintext tree, without FIFOs, sockets and devices."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            if stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
                out[os.path.relpath(p, root)] = st
    return out


def view_walk(root):
    """{relative path: lstat} of a mounted view (os.walk does not follow symlinks)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            out[os.path.relpath(p, root)] = os.lstat(p)
    return out


def file_sha256(path, chunk=1 << 20):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def tree_digest(root, with_ino=False):
    """{path: (kind, mode, size, mtime_ns, sha256 | link target [, ino])} of a tree."""
    out = {}
    for rel, st in view_walk(root).items():
        p = os.path.join(root, rel)
        if stat.S_ISREG(st.st_mode):
            what = file_sha256(p)
        elif stat.S_ISLNK(st.st_mode):
            what = os.readlink(p)
        else:
            what = ""
        row = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_size, st.st_mtime_ns,
               what)
        if with_ino:
            row += (st.st_ino,)
        out[rel] = row
    return out


def diff_r(a, b, exclude=(FIFO_NAME,)):
    """diff -r --no-dereference; returns (returncode, output)."""
    args = ["diff", "-r", "--no-dereference"]
    for x in exclude:
        args += ["-x", x]
    proc = subprocess.run(args + [a, b], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=300)
    return proc.returncode, _text(proc.stdout)


def wait_until(predicate, timeout=10.0, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def expect_errno(test, codes, fn, *args, **kw):
    if isinstance(codes, int):
        codes = (codes,)
    with test.assertRaises(OSError) as cm:
        fn(*args, **kw)
    test.assertIn(cm.exception.errno, codes, "%s: got %s, want %s" % (
        getattr(fn, "__name__", fn), errno.errorcode.get(cm.exception.errno),
        [errno.errorcode[c] for c in codes]))
