#!/usr/bin/env python3
"""tests/format/reference.py — an independent reference decryptor of the encfsr format.

Written from the format description (docs/FORMAT.md and the crypto/ header comments), not from
encfsr's code, and it never runs encfsr: python's hashlib.blake2b (keyed, 16/32-byte digests)
and libsodium through ctypes (crypto_kdf_derive_from_key, crypto_stream_xchacha20_xor,
crypto_pwhash, crypto_aead_xchacha20poly1305_ietf_decrypt). The integration tests use it to
check that what the view serves really is the documented format.

Library use:
    keys = Keys(master_key_bytes)          # or Keys(paper_key_to_master(text))
    tree = decrypt_tree("/mnt/view", keys, "base64url")
    tree["data/a/b.txt"].data              # plaintext bytes

Command line:
    reference.py selftest        checks the test vectors of docs/FORMAT.md section 11
    reference.py tree CIPHERDIR (--paper-key TEXT | --password-file FILE) [--names base32]
      prints one line per entry: kind, mode, size, sha256 or target, plaintext path.
"""

import argparse
import base64
import ctypes
import hashlib
import hmac
import os
import stat
import struct
import sys
from dataclasses import dataclass, field

BLOCK = 4096
TAG = 16
CIPHER_BLOCK = BLOCK + TAG
KDF_CONTEXT = b"encfsr01"
KEY_FILE_NAME = "encfsr.key"
LONG_PREFIX = "encfsr.long."
SIDE_SUFFIX = ".name"

# Subkey ids (crypto/keys.h, docs/FORMAT.md "Keys").
K_CONTENT_MAC = 1
K_CONTENT_STREAM = 2
K_NAME_MAC = 3
K_NAME_STREAM = 4
K_PATH_ID = 5
K_LINK_MAC = 6
K_LINK_STREAM = 7
K_KEY_CHECK = 8
K_VIEW_PARAMS = 9


class FormatError(Exception):
    """Authentication or format failure (what encfsr reports as damage)."""


# ---------------------------------------------------------------------------------- libsodium

_sodium = None


def sodium():
    global _sodium
    if _sodium is None:
        lib = ctypes.CDLL("libsodium.so.23")
        if lib.sodium_init() < 0:
            raise RuntimeError("sodium_init failed")
        lib.crypto_kdf_derive_from_key.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint64, ctypes.c_char_p, ctypes.c_char_p]
        lib.crypto_stream_xchacha20_xor.argtypes = [
            ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulonglong, ctypes.c_char_p,
            ctypes.c_char_p]
        lib.crypto_pwhash.argtypes = [
            ctypes.c_char_p, ctypes.c_ulonglong, ctypes.c_char_p, ctypes.c_ulonglong,
            ctypes.c_char_p, ctypes.c_ulonglong, ctypes.c_size_t, ctypes.c_int]
        lib.crypto_aead_xchacha20poly1305_ietf_decrypt.argtypes = [
            ctypes.c_char_p, ctypes.POINTER(ctypes.c_ulonglong), ctypes.c_char_p,
            ctypes.c_char_p, ctypes.c_ulonglong, ctypes.c_char_p, ctypes.c_ulonglong,
            ctypes.c_char_p, ctypes.c_char_p]
        _sodium = lib
    return _sodium


def kdf(master, subkey_id):
    out = ctypes.create_string_buffer(32)
    rc = sodium().crypto_kdf_derive_from_key(out, 32, subkey_id, KDF_CONTEXT, bytes(master))
    if rc != 0:
        raise RuntimeError("crypto_kdf_derive_from_key failed")
    return out.raw


def xchacha20(key, nonce24, data):
    data = bytes(data)
    if not data:
        return b""
    out = ctypes.create_string_buffer(len(data))
    rc = sodium().crypto_stream_xchacha20_xor(out, data, len(data), bytes(nonce24), bytes(key))
    if rc != 0:
        raise RuntimeError("crypto_stream_xchacha20_xor failed")
    return out.raw


def mac(key, data, size):
    return hashlib.blake2b(bytes(data), digest_size=size, key=bytes(key)).digest()


# --------------------------------------------------------------------------------- encodings

B32_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def b64url_encode(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    if any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
           for c in text) or len(text) % 4 == 1:
        raise FormatError("bad base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url_encode(raw) != text:
        raise FormatError("non-canonical base64url")
    return raw


def b32_encode(raw):
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def b32_decode(text):
    if any(c not in B32_ALPHABET for c in text) or len(text) % 8 in (1, 3, 6):
        raise FormatError("bad base32")
    raw = base64.b32decode(text.upper() + "=" * (-len(text) % 8))
    if b32_encode(raw) != text:
        raise FormatError("non-canonical base32")
    return raw


def encode(raw, encoding):
    return b32_encode(raw) if encoding == "base32" else b64url_encode(raw)


def decode(text, encoding):
    return b32_decode(text) if encoding == "base32" else b64url_decode(text)


# -------------------------------------------------------------------------------------- keys

class Keys:
    def __init__(self, master):
        if len(master) != 32:
            raise ValueError("master key must be 32 bytes")
        self.master = bytes(master)
        self.sub = {i: kdf(self.master, i) for i in range(1, 10)}

    def root_id(self):
        return mac(self.sub[K_PATH_ID], b"encfsr root", 16)

    def child_id(self, parent, name):
        if isinstance(name, str):
            name = os.fsencode(name)
        return mac(self.sub[K_PATH_ID], parent + name, 16)

    def id_of(self, path):
        """ID of a plaintext view path such as "data/a/b.txt" ("" = the root)."""
        node = self.root_id()
        for part in [p for p in path.split("/") if p]:
            node = self.child_id(node, part)
        return node

    def key_check(self):
        return mac(self.sub[K_KEY_CHECK], b"encfsr key check", 32)


def inode_of(node_id):
    """Inode number of a node ID (FORMAT.md "Node IDs"): never 0 or 1."""
    value = struct.unpack("<Q", node_id[:8])[0]
    if value > 1:
        return value
    value = struct.unpack("<Q", node_id[8:])[0]
    return value if value > 1 else value + 2


def paper_key_to_master(text):
    clean = "".join(c for c in text if c not in " -\n\r\t").upper()
    if len(clean) != 56:
        raise FormatError("paper key must have 56 characters")
    raw = base64.b32decode(clean)
    master, check = raw[:32], raw[32:]
    if hashlib.blake2b(b"encfsr paper key" + master, digest_size=32).digest()[:3] != check:
        raise FormatError("paper key checksum mismatch")
    return master


# ---------------------------------------------------------------------------------- key file

KEY_FIELDS = ["encfsr-key", "format", "kdf", "ops_limit", "mem_limit", "salt", "nonce",
              "wrapped", "check"]


def parse_key_file(text):
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    fields = {}
    order = []
    for line in lines:
        name, sep, value = line.partition(": ")
        if not sep:
            raise FormatError("bad key file line: %r" % line)
        fields[name] = value
        order.append(name)
    if order[:9] != KEY_FIELDS:
        raise FormatError("key file fields out of order: %r" % order)
    if order[9:] not in ([], ["names", "view"]):
        raise FormatError("bad view section: %r" % order[9:])
    if fields["encfsr-key"] != "1" or fields["format"] != "siv-blake2b-xchacha20-4096" \
            or fields["kdf"] != "argon2id13":
        raise FormatError("unknown key file version or format")
    # Associated data of the wrap: the parameter lines up to and including "salt:" plus the
    # "check:" line. (The nonce is chosen inside the wrap, after the AD; the AEAD itself
    # authenticates it.)
    fields["_ad"] = ("".join(line + "\n" for line in lines[:6]) + lines[8] + "\n").encode()
    fields["_view_section"] = ("names: %s\n" % fields["names"]).encode() if "names" in fields \
        else None
    return fields


def open_key_file(text, password):
    """The master key from a key file's text and its password (raises FormatError)."""
    if isinstance(password, str):
        password = password.encode()
    f = parse_key_file(text)
    salt = bytes.fromhex(f["salt"])
    nonce = bytes.fromhex(f["nonce"])
    box = bytes.fromhex(f["wrapped"])
    kek = ctypes.create_string_buffer(32)
    rc = sodium().crypto_pwhash(kek, 32, password, len(password), salt, int(f["ops_limit"]),
                                int(f["mem_limit"]), 2)  # crypto_pwhash_ALG_ARGON2ID13
    if rc != 0:
        raise RuntimeError("crypto_pwhash failed")
    out = ctypes.create_string_buffer(32)
    out_len = ctypes.c_ulonglong(0)
    ad = f["_ad"]
    rc = sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(
        out, ctypes.byref(out_len), None, box, len(box), ad, len(ad), nonce, kek.raw)
    if rc != 0 or out_len.value != 32:
        raise FormatError("wrong password or altered key file")
    master = out.raw
    keys = Keys(master)
    if not hmac.compare_digest(keys.key_check(), bytes.fromhex(f["check"])):
        raise FormatError("key check mismatch")
    if f["_view_section"] is not None:
        tag = mac(keys.sub[K_VIEW_PARAMS], f["_view_section"], 32)
        if not hmac.compare_digest(tag, bytes.fromhex(f["view"])):
            raise FormatError("view section tag mismatch")
    return master, f.get("names")


# ----------------------------------------------------------------------------------- content

def cipher_size(plain_size):
    blocks = 1 if plain_size == 0 else (plain_size + BLOCK - 1) // BLOCK
    return plain_size + TAG * blocks


def _block_tag(keys, file_id, index, last, plain):
    return mac(keys.sub[K_CONTENT_MAC],
               file_id + struct.pack("<Q", index) + bytes([1 if last else 0]) + plain, 16)


def seal_content(keys, file_id, plain):
    plain = bytes(plain)
    nblocks = 1 if not plain else (len(plain) + BLOCK - 1) // BLOCK
    out = []
    for i in range(nblocks):
        chunk = plain[i * BLOCK:(i + 1) * BLOCK]
        tag = _block_tag(keys, file_id, i, i == nblocks - 1, chunk)
        out.append(tag + xchacha20(keys.sub[K_CONTENT_STREAM], tag + bytes(8), chunk))
    return b"".join(out)


def open_block(keys, file_id, index, last, block):
    if len(block) < TAG or len(block) > CIPHER_BLOCK:
        raise FormatError("bad block size %d" % len(block))
    tag = block[:TAG]
    plain = xchacha20(keys.sub[K_CONTENT_STREAM], tag + bytes(8), block[TAG:])
    if not hmac.compare_digest(_block_tag(keys, file_id, index, last, plain), tag):
        raise FormatError("block %d does not authenticate" % index)
    return plain


def open_content(keys, file_id, data):
    """Plaintext of a whole ciphertext file; FormatError on any damage (incl. truncation)."""
    data = bytes(data)
    if len(data) == 0:
        raise FormatError("empty ciphertext (an empty file is one 16-byte block)")
    nblocks = (len(data) + CIPHER_BLOCK - 1) // CIPHER_BLOCK
    out = []
    for i in range(nblocks):
        out.append(open_block(keys, file_id, i, i == nblocks - 1,
                              data[i * CIPHER_BLOCK:(i + 1) * CIPHER_BLOCK]))
    return b"".join(out)


# ------------------------------------------------------------------------------------- names

def pad_name(name):
    padded_len = max(16, (len(name) + 15) // 16 * 16)
    return name + bytes(padded_len - len(name))


def encrypt_name(keys, dir_id, name, encoding):
    """(entry name, full encoded name); they differ for a long name."""
    if isinstance(name, str):
        name = os.fsencode(name)
    padded = pad_name(name)
    tag = mac(keys.sub[K_NAME_MAC], dir_id + padded, 16)
    full = encode(tag + xchacha20(keys.sub[K_NAME_STREAM], tag + bytes(8), padded), encoding)
    if len(full) > 255:
        return long_form(full, encoding), full
    return full, full


def long_form(full, encoding):
    return LONG_PREFIX + encode(hashlib.blake2b(full.encode(), digest_size=32).digest(), encoding)


def decrypt_name(keys, dir_id, full, encoding):
    raw = decode(full, encoding)
    if len(raw) < 32 or (len(raw) - 16) % 16 != 0 or len(raw) - 16 > 256:
        raise FormatError("bad encrypted name length")
    tag = raw[:16]
    padded = xchacha20(keys.sub[K_NAME_STREAM], tag + bytes(8), raw[16:])
    if not hmac.compare_digest(mac(keys.sub[K_NAME_MAC], dir_id + padded, 16), tag):
        raise FormatError("name does not authenticate")
    name = padded.rstrip(b"\0")
    if not name or b"\0" in name or b"/" in name or name in (b".", b"..") \
            or len(pad_name(name)) != len(padded):
        raise FormatError("bad name padding")
    return name


def encrypt_link(keys, link_id, target):
    if isinstance(target, str):
        target = os.fsencode(target)
    tag = mac(keys.sub[K_LINK_MAC], link_id + target, 16)
    return b64url_encode(tag + xchacha20(keys.sub[K_LINK_STREAM], tag + bytes(8), target))


def decrypt_link(keys, link_id, encoded):
    if isinstance(encoded, bytes):
        encoded = encoded.decode("ascii")
    raw = b64url_decode(encoded)
    if len(raw) < 16:
        raise FormatError("link target too short")
    tag = raw[:16]
    target = xchacha20(keys.sub[K_LINK_STREAM], tag + bytes(8), raw[16:])
    if not hmac.compare_digest(mac(keys.sub[K_LINK_MAC], link_id + target, 16), tag):
        raise FormatError("link target does not authenticate")
    return target


# -------------------------------------------------------------------------------------- tree

@dataclass
class Entry:
    path: str            # plaintext view path, '/'-joined ("data/a/b.txt")
    cipher_path: str     # path relative to the cipher root
    kind: str            # "dir", "file", "link"
    mode: int
    mtime_ns: int
    ino: int
    data: bytes = b""    # file plaintext, or link target
    children: list = field(default_factory=list)


def decrypt_tree(root, keys, encoding="base64url", read_data=True):
    """Decrypts a whole ciphertext tree (a mounted view or a copy of one).

    Returns {plain path: Entry}. Raises FormatError naming the cipher path on the first damaged
    or unexpected entry (a side file without its long form, a name that does not authenticate,
    a block that does not authenticate, any other file type)."""
    result = {}

    def walk(cipher_dir, plain_dir, dir_id):
        names = sorted(os.listdir(os.path.join(root, cipher_dir) if cipher_dir else root))
        name_set = set(names)
        for cname in names:
            cpath = cipher_dir + "/" + cname if cipher_dir else cname
            if not plain_dir and cname == KEY_FILE_NAME:
                continue
            if cname.startswith(LONG_PREFIX) and cname.endswith(SIDE_SUFFIX):
                if cname[:-len(SIDE_SUFFIX)] not in name_set:
                    raise FormatError("%s: side file without its long name" % cpath)
                continue
            full = cname
            if cname.startswith(LONG_PREFIX):
                side = os.path.join(root, cpath + SIDE_SUFFIX)
                try:
                    with open(side, "r", encoding="ascii") as f:
                        full = f.read()
                except OSError as e:
                    raise FormatError("%s: long name without a side file (%s)" % (cpath, e))
                if long_form(full, encoding) != cname or len(full) <= 255:
                    raise FormatError("%s: side file does not match" % cpath)
            try:
                pname = os.fsdecode(decrypt_name(keys, dir_id, full, encoding))
            except FormatError as e:
                raise FormatError("%s: %s" % (cpath, e))
            ppath = plain_dir + "/" + pname if plain_dir else pname
            node = keys.child_id(dir_id, pname)
            st = os.lstat(os.path.join(root, cpath))
            entry = Entry(ppath, cpath, "", stat.S_IMODE(st.st_mode), st.st_mtime_ns, st.st_ino)
            if stat.S_ISDIR(st.st_mode):
                entry.kind = "dir"
                result[ppath] = entry
                walk(cpath, ppath, node)
            elif stat.S_ISLNK(st.st_mode):
                entry.kind = "link"
                try:
                    entry.data = decrypt_link(keys, node, os.readlink(os.path.join(root, cpath)))
                except FormatError as e:
                    raise FormatError("%s: %s" % (cpath, e))
                result[ppath] = entry
            elif stat.S_ISREG(st.st_mode):
                entry.kind = "file"
                if read_data:
                    with open(os.path.join(root, cpath), "rb") as f:
                        raw = f.read()
                    try:
                        entry.data = open_content(keys, node, raw)
                    except FormatError as e:
                        raise FormatError("%s: %s" % (cpath, e))
                result[ppath] = entry
            else:
                raise FormatError("%s: unexpected file type %o" % (cpath, st.st_mode))

    walk("", "", keys.root_id())
    return result


# The test vectors of docs/FORMAT.md section 11 (master key 00 01 .. 1f).
VECTORS = {
    "subkeys": ["efaa95f32d25f769b75a5175e96c0b4db607ec73fb7ed94f8ab9582152082fb5",
                "7c80ae257321c4d065b85fb9841666df91a7f7dcc065ce875dfc2f060ff5be71",
                "9b43f61fb03fc006ce3084671b32f94ea88c772268331ab52eba22b50a8fe4e1",
                "98fd45a9a6ea2423ab97071a79c232f5b0589976fdace402e48159d36da2369f",
                "4fc8c732ba7e37cb5621dab59185cb26d285e847e4d5d75650284eeecf1cd5d1",
                "cbabfbaeb7c8698f87c46836909466c81b3bf929b6efeddd2b732c354d42e861",
                "85dab18b1f25d59fb5bbeab052dc9170540c23fc2946e9cdfe23d2d3a2c8c8cf",
                "33f2c84e1d75002e13567518e0a2f29d13d8c0d3ab6a0895f45362398ec431b8",
                "e9f6f2a3949a9b8edd5d7263de3f8fc425e664f6dae07f8f6af95d36509452e8"],
    "key_check": "9d7721cde64771d3429be52f957f2ea0c8b9a9aa89d5913721fd78cc0f4d3cf4",
    "view_tag": "59950b776b9281d6f3ab64e037ecfb89982e51f8d33d124aaa6f7256dd358ae0",
    "root": ("0d2801afd9c642d376fa4d8407558305", 15222948328711989261),
    "home": ("48dc743b7d292f7cd221ab3a5fa4e7aa", 8948416602453630024),
    "file": "69f535821ed6dd5885b923cac4ff86b8",
    "link": "a50c0e8d85b511a6cbd2e761aa78e2b0",
    "empty": "6243c5102564905c6b75438cbfce75bd",
    "A": "4dfaee354c957198ece4de0d7e5913c98c",
    "5000_first32": "ceb44a1fcac1698c44087cc9d61ed566e1197b7ecadce118d4bc3f18fbbe01b2",
    "5000_b2": "c25842d35f136a9dcbb2526b965e598c0986d53db2f99674acebe30e40650580",
    "base64url": ("NX6IjltNl7zl-g7cPcgglOZ6x9ip_Sj38mQFI12jojE",
                  "qUbN4T_RUnS_mM-e9LefKmbdFP27V03Gr4zg5L15-To",
                  "encfsr.long.EomCcb3v7P6iOrfOcU3eN_TMT-qVOKjN6lSZXJWZo9U", 299),
    "base32": ("gv7irds3jwl3zzp2b3od3sbastthvr6yvh6sr57smqcsgxnduiyq",
               "vfdm3yj72fjhjp4yz6ppjn47fjtn2fh5xnlu3rvprtqojplz7e5a",
               "encfsr.long.u7ybudai3x44zprpn4z4zyxmx4647ddyihuru4c6rdrovjxszpsq", 359),
    "link_target": "2xPdzyqITkq_A9RgT4oSL9cdL9UcHlrTMFdo_g",
    "paper": "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQT-CQKR-MFYY-DENB-WHA5-DYP3-MPHI",
}


def selftest():
    """Checks this decryptor against the test vectors; returns a list of failures."""
    bad = []

    def check(what, got, want):
        if got != want:
            bad.append("%s: got %r, want %r" % (what, got, want))

    v = VECTORS
    k = Keys(bytes(range(32)))
    for i, want in enumerate(v["subkeys"], 1):
        check("subkey %d" % i, k.sub[i].hex(), want)
    check("key check", k.key_check().hex(), v["key_check"])
    check("view tag", mac(k.sub[K_VIEW_PARAMS], b"names: base64url\n", 32).hex(), v["view_tag"])
    root = k.root_id()
    home = k.child_id(root, "home")
    f = k.child_id(home, "notes.txt")
    link = k.child_id(home, "link")
    check("root", (root.hex(), inode_of(root)), v["root"])
    check("home", (home.hex(), inode_of(home)), v["home"])
    check("file id", f.hex(), v["file"])
    check("link id", link.hex(), v["link"])
    check("empty", seal_content(k, f, b"").hex(), v["empty"])
    check("A", seal_content(k, f, b"A").hex(), v["A"])
    p5000 = bytes(i % 251 for i in range(5000))
    c5000 = seal_content(k, f, p5000)
    check("5000 size", len(c5000), 5032)
    check("5000 first 32", c5000[:32].hex(), v["5000_first32"])
    check("5000 hash", hashlib.blake2b(c5000, digest_size=32).hexdigest(), v["5000_b2"])
    check("5000 open", open_content(k, f, c5000) == p5000, True)
    for enc in ("base64url", "base32"):
        home_name, notes_name, long_name, full_len = v[enc]
        check(enc + " home", encrypt_name(k, root, "home", enc)[0], home_name)
        check(enc + " notes", encrypt_name(k, home, "notes.txt", enc)[0], notes_name)
        name, full = encrypt_name(k, home, "a" * 200, enc)
        check(enc + " long", (name, len(full)), (long_name, full_len))
        check(enc + " long decrypt", decrypt_name(k, home, full, enc), b"a" * 200)
        check(enc + " home decrypt", decrypt_name(k, root, home_name, enc), b"home")
    check("link", encrypt_link(k, link, "../etc/hosts"), v["link_target"])
    check("link decrypt", decrypt_link(k, link, v["link_target"]), b"../etc/hosts")
    check("paper key", paper_key_to_master(v["paper"]), bytes(range(32)))
    return bad


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tree")
    t.add_argument("cipherdir")
    t.add_argument("--paper-key")
    t.add_argument("--password-file")
    t.add_argument("--names", choices=["base64url", "base32"])
    sub.add_parser("selftest", help="check against the test vectors of docs/FORMAT.md")
    args = parser.parse_args(argv)
    if args.cmd == "selftest":
        bad = selftest()
        for line in bad:
            print("reference.py: selftest: " + line, file=sys.stderr)
        print("reference.py: selftest %s" % ("FAILED" if bad else "ok"))
        return 1 if bad else 0
    names = args.names
    if args.paper_key:
        master = paper_key_to_master(args.paper_key)
    elif args.password_file:
        with open(args.password_file, "rb") as f:
            password = f.read().split(b"\n")[0].rstrip(b"\r")
        with open(os.path.join(args.cipherdir, KEY_FILE_NAME)) as f:
            master, key_names = open_key_file(f.read(), password)
        names = names or key_names
    else:
        parser.error("need --paper-key or --password-file")
    tree = decrypt_tree(args.cipherdir, Keys(master), names or "base64url")
    for path in sorted(tree):
        e = tree[path]
        if e.kind == "file":
            what = "%d %s" % (len(e.data), hashlib.sha256(e.data).hexdigest())
        elif e.kind == "link":
            what = "-> " + os.fsdecode(e.data)
        else:
            what = ""
        print("%s %04o %s %s" % (e.kind, e.mode, path, what))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except FormatError as e:
        print("reference.py: damaged: %s" % e, file=sys.stderr)
        sys.exit(8)
