#!/usr/bin/env python3
"""tests/format/reference.py — an independent reference decryptor of the encfsr format,
version 3 (directory manifests encoded as docs/FORMAT.md section 10 says: packed names, mtime
deltas, varint chunk lengths, 32-record minimum chunks, no trailer after a sole chunk).

Written from the format description (docs/FORMAT.md and the crypto/ header comments), not from
encfsr's code, and it never runs encfsr: python's hashlib.blake2b (keyed, 16/32-byte digests)
and libsodium through ctypes (crypto_kdf_derive_from_key, crypto_stream_xchacha20_xor,
crypto_pwhash, crypto_aead_xchacha20poly1305_ietf_decrypt). The integration tests use it to
check that what the view serves really is the documented format.

Library use:
    keys = Keys(master_key_bytes)          # or Keys(paper_key_to_master(text))
    tree = decrypt_tree("/mnt/view", keys, "base64url")
    tree["data/a/b.txt"].data              # plaintext bytes
    tree["data/a/b.txt"].meta              # its directory manifest record (Record), or None
    open_manifest(keys, dir_id, raw)       # the records of one encfsr.dir (FormatError if bad)

Command line:
    reference.py selftest        checks the test vectors of docs/FORMAT.md section 12, and
                                 manifest round trips and tampering
    reference.py tree CIPHERDIR (--paper-key TEXT | --password-file FILE) [--names base32]
      prints one line per entry: kind, mode, plaintext path, size and sha256 or target; then,
      when the copy has directory manifests, a line with the entry's manifest record.
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
K_MANIFEST_MAC = 10
K_MANIFEST_STREAM = 11
K_MANIFEST_GROUP = 12
SUBKEY_COUNT = 12

# Directory manifests (docs/FORMAT.md "Directory manifests").
MANIFEST_NAME = "encfsr.dir"
MANIFEST_MAX = 256 << 20        # bytes of one encfsr.dir
MANIFEST_CHUNK_MAX = 16 << 20   # plaintext bytes of one chunk
MANIFEST_CHUNK_TARGET = 4096    # the writer cuts a chunk once it holds this many bytes
MANIFEST_CHUNK_MIN_RECORDS = 32 # and by the name hash only once it holds this many records
XATTR_RECORD_MAX = 1 << 20      # name + value bytes of one record's xattrs
XATTR_VALUE_MAX = 64 << 10
MANIFEST_EPOCH = 946684800      # 2000-01-01: the mtime shown for encfsr.dir starts here


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
        self.sub = {i: kdf(self.master, i) for i in range(1, SUBKEY_COUNT + 1)}

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
    # The view section: none, format 1 (names, view) or formats 2 and 3 (names, manifests, view).
    if order[9:] not in ([], ["names", "view"], ["names", "manifests", "view"]):
        raise FormatError("bad view section: %r" % order[9:])
    if "manifests" in fields and fields["manifests"] not in ("yes", "no"):
        raise FormatError("bad manifests line: %r" % fields["manifests"])
    if fields["encfsr-key"] != "1" or fields["format"] != "siv-blake2b-xchacha20-4096" \
            or fields["kdf"] != "argon2id13":
        raise FormatError("unknown key file version or format")
    # Associated data of the wrap: the parameter lines up to and including "salt:" plus the
    # "check:" line. (The nonce is chosen inside the wrap, after the AD; the AEAD itself
    # authenticates it.)
    fields["_ad"] = ("".join(line + "\n" for line in lines[:6]) + lines[8] + "\n").encode()
    # The text the view tag covers: the view section's lines before "view:", each with its \n.
    fields["_view_section"] = None
    if "names" in fields:
        section = "names: %s\n" % fields["names"]
        if "manifests" in fields:
            section += "manifests: %s\n" % fields["manifests"]
        fields["_view_section"] = section.encode()
    return fields


def check_view_section(fields, keys):
    """Checks the view tag of parsed key file fields with `keys`; returns (names, manifests)
    where manifests is True/False, or None when the key file has no view section. A format-1
    section (no manifests line) means no manifests."""
    if fields["_view_section"] is None:
        return None
    tag = mac(keys.sub[K_VIEW_PARAMS], fields["_view_section"], 32)
    if not hmac.compare_digest(tag, bytes.fromhex(fields["view"])):
        raise FormatError("view section tag mismatch")
    return fields["names"], fields.get("manifests") == "yes"


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
    check_view_section(f, keys)
    return master, f.get("names")


# ----------------------------------------------------------------------------------- content

def cipher_size(plain_size):
    blocks = 1 if plain_size == 0 else (plain_size + BLOCK - 1) // BLOCK
    return plain_size + TAG * blocks


def plain_size(cipher):
    """Plaintext size of a ciphertext size (FORMAT.md "Sizes"); None for a size no encoder
    produces."""
    q, r = divmod(cipher, CIPHER_BLOCK)
    if r == 0:
        return BLOCK * q if q >= 1 else None
    if q == 0 and r == TAG:
        return 0
    if r <= TAG:
        return None
    return BLOCK * q + r - TAG


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


# -------------------------------------------------------------------------- directory manifests
#
# docs/FORMAT.md section 10 "Directory manifests", format 3: records sorted by name (names
# packed 6 bits a byte when shorter, mtimes as deltas), grouped into chunks, each chunk sealed
# SIV style with the directory's ID; a trailer MAC over the count and the chunk tags, except
# after a sole chunk (domain 0x03, no trailer).

KIND_OF_TYPE = {1: "dir", 2: "file", 3: "link"}
TYPE_OF_KIND = {kind: t for t, kind in KIND_OF_TYPE.items()}

F_UNKNOWN = 0x04     # attributes unknown: only the name follows
F_SAME_MODE = 0x08   # mode of the previous record of the chunk
F_SAME_OWNER = 0x10  # uid and gid of the previous record of the chunk
F_NSEC = 0x20        # mtime nanoseconds follow
F_GROUP = 0x40       # hard-link group follows (regular files)
F_XATTRS = 0x80      # xattrs follow


@dataclass
class Record:
    """One entry of a directory manifest."""
    name: bytes
    kind: str                  # "dir", "file", "link"
    attrs_known: bool = True   # False: the writer could not lstat the entry (only name, kind)
    mode: int = 0              # all 12 permission bits (07777)
    uid: int = 0
    gid: int = 0
    mtime_sec: int = 0
    mtime_nsec: int = 0
    size: int = 0              # file: plaintext bytes; link: target bytes; dir: 0
    link_group: int = 0        # 0: none
    xattrs: list = field(default_factory=list)  # [(name bytes, value bytes)], sorted by name

    @property
    def mtime_ns(self):
        return self.mtime_sec * 1000000000 + self.mtime_nsec


def _varint(value):
    if not 0 <= value < 1 << 64:
        raise ValueError("varint out of range: %r" % value)
    out = bytearray()
    while value >= 0x80:
        out.append(0x80 | (value & 0x7f))
        value >>= 7
    out.append(value)
    return bytes(out)


def _zigzag(value):
    if not -(1 << 63) <= value < 1 << 63:
        raise ValueError("mtime out of range: %r" % value)
    return ((value << 1) & ((1 << 64) - 1)) ^ ((value >> 63) & ((1 << 64) - 1))


def _unzigzag(value):
    return (value >> 1) ^ -(value & 1)


class _Cursor:
    """Reads fields of a chunk's plaintext; every failure is a FormatError."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def done(self):
        return self.pos == len(self.data)

    def take(self, n, what):
        if len(self.data) - self.pos < n:
            raise FormatError("manifest record cut short in %s" % what)
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def varint(self, what, lo, hi):
        value = 0
        for i in range(10):
            byte = self.take(1, what)[0]
            value |= (byte & 0x7f) << (7 * i)
            if not byte & 0x80:
                if byte == 0 and i > 0:
                    raise FormatError("non-canonical varint in %s" % what)
                if value >= 1 << 64:
                    raise FormatError("varint over 64 bits in %s" % what)
                if not lo <= value <= hi:
                    raise FormatError("%s out of range: %d" % (what, value))
                return value
        raise FormatError("varint longer than 10 bytes in %s" % what)


def _valid_entry_name(name):
    return 1 <= len(name) <= 255 and b"/" not in name and b"\0" not in name \
        and name not in (b".", b"..")


# Packed names (FORMAT.md 10.3): these 63 bytes have 6-bit codes 0..62, their position here;
# code 63 escapes any other byte, which follows as 8 bits. Bits are written MSB first.
NAME_ALPHABET = b"-.0123456789ABCDEFGHIJKLMNOPRSTUVWXY_abcdefghijklmnopqrstuvwxyz"
NAME_CODE = {b: i for i, b in enumerate(NAME_ALPHABET)}
NAME_ESCAPE = 63
assert len(NAME_ALPHABET) == 63 and len(NAME_CODE) == 63


def packed_size(name):
    """Bytes of `name` packed: ceil(bits / 8), 6 bits per alphabet byte, 14 per other byte."""
    bits = sum(6 if b in NAME_CODE else 14 for b in name)
    return (bits + 7) // 8


def pack_name(name):
    acc, nbits, out = 0, 0, bytearray()
    for b in name:
        if b in NAME_CODE:
            acc, nbits = (acc << 6) | NAME_CODE[b], nbits + 6
        else:
            acc, nbits = (acc << 14) | (NAME_ESCAPE << 8) | b, nbits + 14
        while nbits >= 8:
            nbits -= 8
            out.append((acc >> nbits) & 0xff)
            acc &= (1 << nbits) - 1
    if nbits:
        out.append((acc << (8 - nbits)) & 0xff)  # zero fill
    return bytes(out)


def encode_name(name):
    """name_header || name: packed exactly when that is shorter than the name."""
    if packed_size(name) < len(name):
        return _varint(2 * len(name) + 1) + pack_name(name)
    return _varint(2 * len(name)) + name


def _wrap64(value):
    """`value` modulo 2^64 as a signed 64-bit integer."""
    return ((value + (1 << 63)) & ((1 << 64) - 1)) - (1 << 63)


class ChunkEncoder:
    """Encodes records one after the other into one chunk's plaintext (FORMAT.md 10.3): the
    first record, and one preceded only by records with unknown attributes, has no previous
    record."""

    def __init__(self):
        self.plain = bytearray()
        self.count = 0
        self.prev = None  # the last record with known attributes

    def add(self, r):
        flags = TYPE_OF_KIND[r.kind]
        self.count += 1
        if not r.attrs_known:
            self.plain += bytes([flags | F_UNKNOWN]) + encode_name(r.name)
            return
        prev = self.prev
        same_mode = prev is not None and prev.mode == r.mode
        same_owner = prev is not None and (prev.uid, prev.gid) == (r.uid, r.gid)
        flags |= (F_SAME_MODE if same_mode else 0) | (F_SAME_OWNER if same_owner else 0) \
            | (F_NSEC if r.mtime_nsec else 0) | (F_GROUP if r.link_group else 0) \
            | (F_XATTRS if r.xattrs else 0)
        out = bytearray([flags]) + encode_name(r.name)
        if not same_mode:
            out += _varint(r.mode)
        if not same_owner:
            out += _varint(r.uid) + _varint(r.gid)
        if not -(1 << 63) <= r.mtime_sec < 1 << 63:
            raise ValueError("mtime out of range: %r" % r.mtime_sec)
        out += _varint(_zigzag(_wrap64(r.mtime_sec - (prev.mtime_sec if prev else 0))))
        if r.mtime_nsec:
            out += _varint(r.mtime_nsec)
        if r.kind != "dir":
            out += _varint(r.size)
        if r.link_group:
            out += struct.pack("<Q", r.link_group)
        if r.xattrs:
            out += _varint(len(r.xattrs))
            for name, value in r.xattrs:
                out += _varint(len(name)) + name + _varint(len(value)) + value
        self.plain += out
        self.prev = r


def encode_chunk(records):
    """The plaintext of one chunk holding `records` (the first one has no previous record)."""
    enc = ChunkEncoder()
    for r in records:
        enc.add(r)
    return bytes(enc.plain)


def _decode_name(cur):
    header = cur.varint("name header", 2, 2 * 255 + 1)
    length, packed = header >> 1, header & 1
    if not packed:
        return cur.take(length, "name")
    start = cur.pos
    acc, nbits = 0, 0

    def bits(n):
        nonlocal acc, nbits
        while nbits < n:
            acc, nbits = (acc << 8) | cur.take(1, "packed name")[0], nbits + 8
        nbits -= n
        value = acc >> nbits
        acc &= (1 << nbits) - 1
        return value

    name = bytearray()
    while len(name) < length:
        code = bits(6)
        if code != NAME_ESCAPE:
            name.append(NAME_ALPHABET[code])
            continue
        byte = bits(8)
        if byte in NAME_CODE:
            raise FormatError("packed name escapes a byte of the alphabet (%#x)" % byte)
        name.append(byte)
    if acc:
        raise FormatError("packed name with fill bits that are not zero")
    # Only what a writer makes: a name is packed exactly when that is shorter.
    if cur.pos - start >= length:
        raise FormatError("packed name not shorter than the name")
    return bytes(name)


def decode_chunk(plain):
    """The records of one chunk's plaintext (FormatError on anything a writer never makes)."""
    cur = _Cursor(plain)
    records = []
    prev = None
    while not cur.done():
        flags = cur.take(1, "flags")[0]
        if flags & 3 == 0:
            raise FormatError("manifest record of type 0")
        rec = Record(name=b"", kind=KIND_OF_TYPE[flags & 3])
        header_pos = cur.pos
        rec.name = _decode_name(cur)
        if not _valid_entry_name(rec.name):
            raise FormatError("invalid name in manifest: %r" % rec.name)
        if bytes(plain[header_pos:cur.pos]) != encode_name(rec.name):
            raise FormatError("name %r not encoded as a writer does (packed exactly when that "
                              "is shorter)" % rec.name)
        if flags & F_UNKNOWN:
            if flags & ~0x07:
                raise FormatError("flags %#x with unknown attributes" % flags)
            rec.attrs_known = False
            records.append(rec)
            continue
        if flags & (F_SAME_MODE | F_SAME_OWNER) and prev is None:
            raise FormatError("'same as previous' without a previous record")
        rec.mode = prev.mode if flags & F_SAME_MODE else cur.varint("mode", 0, 0o7777)
        if flags & F_SAME_OWNER:
            rec.uid, rec.gid = prev.uid, prev.gid
        else:
            rec.uid = cur.varint("uid", 0, 0xffffffff)
            rec.gid = cur.varint("gid", 0, 0xffffffff)
        delta = _unzigzag(cur.varint("mtime delta", 0, (1 << 64) - 1))
        rec.mtime_sec = _wrap64((prev.mtime_sec if prev else 0) + delta)
        if flags & F_NSEC:
            rec.mtime_nsec = cur.varint("mtime nanoseconds", 1, 999999999)
        if rec.kind != "dir":
            rec.size = cur.varint("size", 0, (1 << 64) - 1)
        if flags & F_GROUP:
            if rec.kind != "file":
                raise FormatError("link group on a %s" % rec.kind)
            rec.link_group = struct.unpack("<Q", cur.take(8, "link group"))[0]
            if rec.link_group == 0:
                raise FormatError("link group 0")
        if flags & F_XATTRS:
            total = 0
            for _ in range(cur.varint("xattr count", 1, XATTR_RECORD_MAX)):
                name = cur.take(cur.varint("xattr name length", 1, 255), "xattr name")
                if b"\0" in name:
                    raise FormatError("NUL in an xattr name")
                value = cur.take(cur.varint("xattr value length", 0, XATTR_VALUE_MAX),
                                 "xattr value")
                total += len(name) + len(value)
                if total > XATTR_RECORD_MAX:
                    raise FormatError("xattrs of one record over 1 MiB")
                if rec.xattrs and not rec.xattrs[-1][0] < name:
                    raise FormatError("xattr names not strictly ascending")
                rec.xattrs.append((name, value))
        records.append(rec)
        prev = rec
    return records


DOMAIN_CHUNK = 0x01  # a chunk of a manifest of 0 or 2+ chunks (followed by a trailer)
DOMAIN_TRAILER = 0x02
DOMAIN_SOLE = 0x03   # the only chunk of a manifest (no trailer)


def _chunk_tag(keys, dir_id, plain, domain=DOMAIN_CHUNK):
    return mac(keys.sub[K_MANIFEST_MAC], dir_id + bytes([domain]) + plain, 16)


def _trailer(keys, dir_id, tags):
    return mac(keys.sub[K_MANIFEST_MAC], dir_id + bytes([DOMAIN_TRAILER])
               + struct.pack("<Q", len(tags)) + b"".join(tags), 16)


def cut_after(keys, name):
    """The name-defined cut: after this name, one time in 32 (once the chunk has 32 records)."""
    return mac(keys.sub[K_MANIFEST_GROUP], b"\x02" + name, 8)[0] & 31 == 0


def link_group(keys, dev, ino):
    """The hard-link group of source inode (dev, ino): never 0."""
    g = struct.unpack("<Q", mac(keys.sub[K_MANIFEST_GROUP],
                                b"\x01" + struct.pack("<QQ", dev, ino), 8))[0]
    return g or 1


def chunk_records(keys, records):
    """The writer's cuts (FORMAT.md 10.4): the records as a list of chunks (lists)."""
    chunks, current, enc = [], [], ChunkEncoder()
    for i, r in enumerate(records):
        current.append(r)
        enc.add(r)
        if i == len(records) - 1 or len(enc.plain) >= MANIFEST_CHUNK_TARGET \
                or (enc.count >= MANIFEST_CHUNK_MIN_RECORDS and cut_after(keys, r.name)):
            chunks.append(current)
            current, enc = [], ChunkEncoder()
    return chunks


def seal_chunk(keys, dir_id, plain, domain):
    """varint(|P|) || tag || XChaCha20(P): one sealed chunk."""
    tag = _chunk_tag(keys, dir_id, plain, domain)
    return _varint(len(plain)) + tag + xchacha20(keys.sub[K_MANIFEST_STREAM], tag + bytes(8),
                                                 plain)


def seal_plains(keys, dir_id, plains):
    """A manifest of the given chunk plaintexts: a sole chunk (domain 0x03, no trailer), or
    chunks of domain 0x01 and the trailer."""
    if len(plains) == 1:
        return seal_chunk(keys, dir_id, plains[0], DOMAIN_SOLE)
    sealed = [seal_chunk(keys, dir_id, p, DOMAIN_CHUNK) for p in plains]
    tags = [_chunk_tag(keys, dir_id, p, DOMAIN_CHUNK) for p in plains]
    return b"".join(sealed) + _trailer(keys, dir_id, tags)


def seal_manifest(keys, dir_id, records):
    """The encfsr.dir of directory `dir_id` holding `records` (sorted by name, unique)."""
    names = [r.name for r in records]
    if any(a >= b for a, b in zip(names, names[1:])):
        raise ValueError("records must be sorted by unique name")
    return seal_plains(keys, dir_id, [encode_chunk(c) for c in chunk_records(keys, records)])


def split_manifest(data):
    """The layout of an encfsr.dir (FORMAT.md 10.7 steps 1-2), not authenticated: a list of
    (tag, ciphertext) per chunk and the trailer, None for a sole chunk."""
    data = bytes(data)
    if not TAG <= len(data) <= MANIFEST_MAX:
        raise FormatError("manifest of %d bytes" % len(data))
    cur = _Cursor(data)
    chunks = []
    while len(data) - cur.pos > TAG:
        length = cur.varint("chunk length", 1, MANIFEST_CHUNK_MAX)
        if length > len(data) - cur.pos - TAG:
            raise FormatError("manifest chunk of %d bytes past the end" % length)
        tag = cur.take(TAG, "chunk tag")
        chunks.append((tag, cur.take(length, "chunk")))
        if len(chunks) == 1 and cur.done():
            return chunks, None  # a sole chunk
    if len(data) - cur.pos != TAG:
        raise FormatError("manifest trailer of %d bytes" % (len(data) - cur.pos))
    if len(chunks) == 1:
        raise FormatError("one chunk followed by a trailer")
    return chunks, data[cur.pos:]


def open_manifest(keys, dir_id, data):
    """The records of directory `dir_id`'s encfsr.dir; FormatError if it does not authenticate
    (tampered, cut, reordered, from another directory) or breaks any reader check."""
    chunks, trailer = split_manifest(data)
    domain = DOMAIN_SOLE if trailer is None else DOMAIN_CHUNK
    records = []
    for i, (tag, cipher) in enumerate(chunks):
        plain = xchacha20(keys.sub[K_MANIFEST_STREAM], tag + bytes(8), cipher)
        if not hmac.compare_digest(_chunk_tag(keys, dir_id, plain, domain), tag):
            raise FormatError("manifest chunk %d does not authenticate" % i)
        records += decode_chunk(plain)
    if trailer is not None and \
            not hmac.compare_digest(_trailer(keys, dir_id, [t for t, _ in chunks]), trailer):
        raise FormatError("manifest trailer does not authenticate")
    names = [r.name for r in records]
    if any(a >= b for a, b in zip(names, names[1:])):
        raise FormatError("manifest names not strictly ascending")
    return records


def final_mac(data):
    """A manifest's final MAC (FORMAT.md 10.6): its trailer, or its sole chunk's tag."""
    chunks, trailer = split_manifest(data)
    return chunks[0][0] if trailer is None else trailer


def manifest_mtime(data):
    """The mtime (seconds) a view shows for an encfsr.dir: 2000-01-01 + final MAC mod 2^28."""
    return MANIFEST_EPOCH + (struct.unpack("<Q", final_mac(data)[:8])[0] & ((1 << 28) - 1))


# -------------------------------------------------------------------------------------- tree

@dataclass
class Entry:
    path: str            # plaintext view path, '/'-joined ("data/a/b.txt")
    cipher_path: str     # path relative to the cipher root
    kind: str            # "dir", "file", "link"
    mode: int            # the copy's own inode mode bits (not authenticated)
    mtime_ns: int        # the copy's own inode mtime (not authenticated)
    ino: int
    data: bytes = b""    # file plaintext, or link target
    children: list = field(default_factory=list)
    meta: Record = None  # the entry's record in its directory's manifest (None: no manifests)
    # The manifest's size (or a file's mtime) differs from the copy's: the source changed while
    # the backup ran (a warning, not damage).
    changed: bool = False


def same_mtime(copy_ns, rec):
    """Whether a copy's mtime is the record's at the precision the copy keeps (FORMAT.md 10.8):
    nanoseconds ending in decimal zeros are compared truncated to that many digits; a copy
    without nanoseconds (whole seconds, FAT's 2-second steps) may be one second either way."""
    sec, nsec = divmod(copy_ns, 1000000000)
    if nsec == 0:
        return abs(sec - rec.mtime_sec) <= 1
    unit = 1
    while unit < 100000000 and nsec % (unit * 10) == 0:
        unit *= 10
    return sec == rec.mtime_sec and nsec == rec.mtime_nsec // unit * unit


def has_manifests(root, keys):
    """Whether a ciphertext tree has directory manifests: what the authenticated view section
    of its encfsr.key says, or without one (no key file, or a key file without a view section)
    whether its root holds encfsr.dir."""
    try:
        with open(os.path.join(root, KEY_FILE_NAME), "r", encoding="ascii") as f:
            text = f.read()
    except FileNotFoundError:
        view = None
    else:
        view = check_view_section(parse_key_file(text), keys)
    if view is not None:
        return view[1]
    return os.path.lexists(os.path.join(root, MANIFEST_NAME))


def read_manifest(keys, path, dir_id):
    """The records of the encfsr.dir at `path`, by name; FormatError if missing or bad."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise FormatError("directory manifest missing")
    if not stat.S_ISREG(st.st_mode):
        raise FormatError("directory manifest is not a regular file")
    if st.st_size > MANIFEST_MAX:
        raise FormatError("manifest of %d bytes" % st.st_size)
    with open(path, "rb") as f:
        data = f.read(MANIFEST_MAX + 1)
    return {r.name: r for r in open_manifest(keys, dir_id, data)}


def decrypt_tree(root, keys, encoding="base64url", read_data=True, manifests=None):
    """Decrypts a whole ciphertext tree (a mounted view or a copy of one).

    Returns {plain path: Entry}. Raises FormatError naming the cipher path on the first damaged
    or unexpected entry (a side file without its long form, a name that does not authenticate,
    a block that does not authenticate, any other file type).

    With directory manifests (`manifests` True, or None: as has_manifests() says), every
    directory's encfsr.dir must authenticate and list exactly the directory's entries with
    their types (a missing, unexpected or retyped entry is a FormatError); each Entry's `meta`
    is then its record (all 12 mode bits, uid, gid, mtime, size, link group, xattrs)."""
    if manifests is None:
        manifests = has_manifests(root, keys)
    result = {}

    def walk(cipher_dir, plain_dir, dir_id):
        abs_dir = os.path.join(root, cipher_dir) if cipher_dir else root
        names = sorted(os.listdir(abs_dir))
        name_set = set(names)
        records = None
        if manifests:
            where = cipher_dir + "/" + MANIFEST_NAME if cipher_dir else MANIFEST_NAME
            try:
                records = read_manifest(keys, os.path.join(abs_dir, MANIFEST_NAME), dir_id)
            except FormatError as e:
                raise FormatError("%s: %s" % (where, e))
        seen = set()
        for cname in names:
            cpath = cipher_dir + "/" + cname if cipher_dir else cname
            if not plain_dir and cname == KEY_FILE_NAME:
                continue
            if cname == MANIFEST_NAME:
                if manifests:
                    continue
                raise FormatError("%s: a directory manifest in a copy without manifests" % cpath)
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
                raw_name = decrypt_name(keys, dir_id, full, encoding)
            except FormatError as e:
                raise FormatError("%s: %s" % (cpath, e))
            pname = os.fsdecode(raw_name)
            ppath = plain_dir + "/" + pname if plain_dir else pname
            node = keys.child_id(dir_id, pname)
            st = os.lstat(os.path.join(root, cpath))
            entry = Entry(ppath, cpath, "", stat.S_IMODE(st.st_mode), st.st_mtime_ns, st.st_ino)
            if stat.S_ISDIR(st.st_mode):
                entry.kind = "dir"
            elif stat.S_ISLNK(st.st_mode):
                entry.kind = "link"
            elif stat.S_ISREG(st.st_mode):
                entry.kind = "file"
            else:
                raise FormatError("%s: unexpected file type %o" % (cpath, st.st_mode))
            if records is not None:
                rec = records.get(raw_name)
                if rec is None:
                    raise FormatError("%s: %s: unexpected entry (not in the directory's "
                                      "manifest)" % (cpath, ppath))
                if rec.kind != entry.kind:
                    raise FormatError("%s: %s: type %s, the manifest says %s"
                                      % (cpath, ppath, entry.kind, rec.kind))
                entry.meta = rec
                seen.add(raw_name)
            if entry.kind == "dir":
                result[ppath] = entry
                walk(cpath, ppath, node)
            elif entry.kind == "link":
                try:
                    entry.data = decrypt_link(keys, node, os.readlink(os.path.join(root, cpath)))
                except FormatError as e:
                    raise FormatError("%s: %s" % (cpath, e))
                result[ppath] = entry
            else:
                if read_data:
                    with open(os.path.join(root, cpath), "rb") as f:
                        raw = f.read()
                    try:
                        entry.data = open_content(keys, node, raw)
                    except FormatError as e:
                        raise FormatError("%s: %s" % (cpath, e))
                result[ppath] = entry
            if entry.meta is not None and entry.meta.attrs_known and entry.kind != "dir":
                if entry.kind == "link":
                    size = len(entry.data)
                elif read_data:
                    size = len(entry.data)
                else:
                    size = plain_size(st.st_size)
                entry.changed = size != entry.meta.size or (
                    entry.kind == "file" and not same_mtime(st.st_mtime_ns, entry.meta))
        if records is not None:
            missing = sorted(set(records) - seen)
            if missing:
                where = plain_dir + "/" if plain_dir else ""
                raise FormatError("%s: missing entr%s listed in the manifest: %s" % (
                    cipher_dir or ".", "y" if len(missing) == 1 else "ies",
                    ", ".join(where + os.fsdecode(n) for n in missing)))

    walk("", "", keys.root_id())
    return result


# The test vectors of docs/FORMAT.md section 12 (master key 00 01 .. 1f).
VECTORS = {
    "subkeys": ["efaa95f32d25f769b75a5175e96c0b4db607ec73fb7ed94f8ab9582152082fb5",
                "7c80ae257321c4d065b85fb9841666df91a7f7dcc065ce875dfc2f060ff5be71",
                "9b43f61fb03fc006ce3084671b32f94ea88c772268331ab52eba22b50a8fe4e1",
                "98fd45a9a6ea2423ab97071a79c232f5b0589976fdace402e48159d36da2369f",
                "4fc8c732ba7e37cb5621dab59185cb26d285e847e4d5d75650284eeecf1cd5d1",
                "cbabfbaeb7c8698f87c46836909466c81b3bf929b6efeddd2b732c354d42e861",
                "85dab18b1f25d59fb5bbeab052dc9170540c23fc2946e9cdfe23d2d3a2c8c8cf",
                "33f2c84e1d75002e13567518e0a2f29d13d8c0d3ab6a0895f45362398ec431b8",
                "e9f6f2a3949a9b8edd5d7263de3f8fc425e664f6dae07f8f6af95d36509452e8",
                "e2a7beca414ad6facfbd71248be0c17197dca42eeb1b45d0694bb62b2b96ab58",
                "031df010e72264e43d9290bb172d50976ea2ce34bfaeae22027f72aff7677a41",
                "e1a0a02658a5a3edc251f36af7e65807a6f72517ce1ea90feaa8b6652bc3b7ec"],
    "key_check": "9d7721cde64771d3429be52f957f2ea0c8b9a9aa89d5913721fd78cc0f4d3cf4",
    "view_tag": "59950b776b9281d6f3ab64e037ecfb89982e51f8d33d124aaa6f7256dd358ae0",
    "view_tag_2": "e6c8568e634f73a26f62c731d64c35a5c6f47b3e2a3bcb07afd93f7fc9b71bc7",
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
    "link_group": 1738220906002760354,  # of (dev 2049, ino 131073)
    "manifest_plain": ("020b941e3ce0a403e807e80780c0f0f50b05"
                       "210662696eed03000002f403"
                       "0309c2dcafff03e807e807020c"
                       "c209d2dcabed1300000264a2c2735bb4661f18021373656375726974792e636170616269"
                       "6c69747914010000020020000000000000000000000000000009757365722e6e6f7465026869"),
    "manifest": ("758adc1e70a93cd644909c6a5a88eb0ea8dc58b54bfc9dd73c60cf91300f2a11d3b77fa8f4f7"
                 "4b401c26af637f53eaba33f5322806cee95f985347266d3e4a0229690ca44e151fc19ce2520a"
                 "a664b4d6083687f2de64a99eae7adcad4e65e8ad813bdd5fbf3ab364f5d348301d5ba9dcb9bd"
                 "174867b87406955f771a00f57d894fe9411d36bd"),
    "manifest_mtime": 948707338,
    "manifest_empty": ("377238a142b7b661ab471f49748674f4", 967161271),
    # The multi-chunk vector (vector_records_300): records per chunk, chunk sizes in the file,
    # total size, BLAKE2b-256 of the whole manifest, shown mtime.
    "manifest_300": ([107, 107, 25, 25, 25, 11], [777, 3131, 4278, 4278, 4278, 1898], 18656,
                     "b255dc513d2130545f24a671e4e782f83d8cfc307e5e2a679d35b76b5ee26a6c",
                     1071096846),
}


def vector_records(keys):
    """The records of the manifest vector (directory "home")."""
    cap = bytes([1, 0, 0, 2, 0, 0x20]) + bytes(14)
    return [
        Record(b"a.txt", "file", mode=0o644, uid=1000, gid=1000, mtime_sec=1600000000, size=5),
        Record(b"bin", "dir", mode=0o755, mtime_sec=1600000001, mtime_nsec=500),
        Record(b"link", "link", mode=0o777, uid=1000, gid=1000, mtime_sec=1600000002, size=12),
        Record(b"ping", "file", mode=0o4755, mtime_sec=1600000003, size=100,
               link_group=link_group(keys, 2049, 131073),
               xattrs=[(b"security.capability", cap), (b"user.note", b"hi")]),
    ]


def vector_records_300():
    """The records of the multi-chunk manifest vector: i = 0..299, "f000".."f299", regular,
    mode 0644, uid and gid 1000, mtime 1600000000 + i, size i; from i = 200 on with one xattr
    user.pad = 150 bytes "x"."""
    return [Record(b"f%03d" % i, "file", mode=0o644, uid=1000, gid=1000,
                   mtime_sec=1600000000 + i, size=i,
                   xattrs=[(b"user.pad", b"x" * 150)] if i >= 200 else [])
            for i in range(300)]


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
    check("view tag 2", mac(k.sub[K_VIEW_PARAMS], b"names: base64url\nmanifests: yes\n",
                            32).hex(), v["view_tag_2"])
    check("link group", link_group(k, 2049, 131073), v["link_group"])
    # Directory manifests (format 3).
    check("packed name", encode_name(b"abcde").hex(), "0b9669e8a4")
    records = vector_records(k)
    sealed = bytes.fromhex(v["manifest"])
    check("manifest plaintext", encode_chunk(records).hex(), v["manifest_plain"])
    check("manifest seal", seal_manifest(k, home, records).hex(), v["manifest"])
    check("manifest layout", (sealed[0], len(sealed)), (len(v["manifest_plain"]) // 2, 134))
    check("manifest open", open_manifest(k, home, sealed), records)
    check("manifest mtime", manifest_mtime(sealed), v["manifest_mtime"])
    empty_hex, empty_mtime = v["manifest_empty"]
    check("empty manifest", seal_manifest(k, home, []).hex(), empty_hex)
    check("empty manifest open", open_manifest(k, home, bytes.fromhex(empty_hex)), [])
    check("empty manifest mtime", manifest_mtime(bytes.fromhex(empty_hex)), empty_mtime)

    def refused(what, data, dir_id=home):
        try:
            open_manifest(k, dir_id, data)
            bad.append("manifest %s opens" % what)
        except FormatError:
            pass

    # The reader refuses what no writer makes: every flipped bit, a cut, another directory, a
    # sole chunk with a trailer (or another chunk) after it, or sealed with the domain 0x01.
    for i in range(len(sealed) * 8):
        bad_bytes = bytearray(sealed)
        bad_bytes[i // 8] ^= 1 << (i % 8)
        refused("with bit %d flipped" % i, bytes(bad_bytes))
    plain = bytes.fromhex(v["manifest_plain"])
    sole_tag = _chunk_tag(k, home, plain, DOMAIN_SOLE)
    for what, data, dir_id in (
            ("cut", sealed[:-1], home), ("last 16 bytes", sealed[-16:], home),
            ("other directory", sealed, root), ("with a byte appended", sealed + b"\0", home),
            ("sole chunk + trailer", sealed + _trailer(k, home, [sole_tag]), home),
            ("sole chunk twice + trailer", sealed + sealed + _trailer(k, home, [sole_tag] * 2),
             home),
            ("sole chunk of domain 0x01", seal_chunk(k, home, plain, DOMAIN_CHUNK), home),
            ("one chunk of domain 0x01 + trailer",
             seal_chunk(k, home, plain, DOMAIN_CHUNK)
             + _trailer(k, home, [_chunk_tag(k, home, plain, DOMAIN_CHUNK)]), home),
            ("chunk length as a non-canonical varint", bytes([0x80 | len(plain), 0])
             + sealed[1:], home),
            ("empty sole chunk", seal_chunk(k, home, b"", DOMAIN_SOLE), home)):
        refused(what, data, dir_id)

    # The multi-chunk vector: cuts by the name hash (only from the 32nd record of a chunk on:
    # "f022" would cut but is the chunk's 23rd record), by the 4096-byte cap (even before 32
    # records), and after the last record.
    many = vector_records_300()
    counts, sizes, total, digest, mtime = v["manifest_300"]
    check("300: cut hash of f022", cut_after(k, b"f022"), True)
    check("300: records per chunk", [len(c) for c in chunk_records(k, many)], counts)
    big = seal_manifest(k, home, many)
    chunks, trailer = split_manifest(big)
    check("300: chunk sizes", [len(_varint(len(c))) + TAG + len(c) for _, c in chunks], sizes)
    check("300: size", len(big), total)
    check("300: BLAKE2b-256", hashlib.blake2b(big, digest_size=32).hexdigest(), digest)
    check("300: mtime", manifest_mtime(big), mtime)
    check("300: open", open_manifest(k, home, big), many)
    raw = [_varint(len(c)) + t + c for t, c in chunks]
    first_plain = xchacha20(k.sub[K_MANIFEST_STREAM], chunks[0][0] + bytes(8), chunks[0][1])
    for what, data in (
            ("without chunk 1", b"".join(raw[:1] + raw[2:]) + trailer),
            ("without its last chunk", b"".join(raw[:-1]) + trailer),
            ("with chunks 1 and 2 swapped", b"".join(raw[:1] + raw[2:3] + raw[1:2] + raw[3:])
             + trailer),
            ("with chunk 0 twice", raw[0] + b"".join(raw) + trailer),
            ("without the trailer", b"".join(raw)),
            ("first chunk alone", raw[0]),
            ("first chunk + its trailer of n = 1", raw[0] + _trailer(k, home, [chunks[0][0]])),
            ("first chunk re-sealed with domain 0x03",
             seal_chunk(k, home, first_plain, DOMAIN_SOLE) + b"".join(raw[1:])
             + _trailer(k, home, [_chunk_tag(k, home, first_plain, DOMAIN_SOLE)]
                        + [t for t, _ in chunks[1:]])),
            ("with the trailer's bit 0 flipped", b"".join(raw) + bytes([trailer[0] ^ 1])
             + trailer[1:])):
        refused(what, data)
    refused("of another directory", big, root)

    # Chunk plaintexts no writer makes (each sealed correctly as a sole chunk).
    head = b"\x02"  # a regular file
    tail = _varint(0o644) + _varint(0) + _varint(0) + _varint(0) + _varint(0)
    good = head + encode_name(b"abcde") + tail
    check("crafted record opens", open_manifest(k, home, seal_plains(k, home, [good])),
          [Record(b"abcde", "file", mode=0o644)])
    fill = bytearray(good)
    fill[5] |= 1  # the last packed byte of "abcde" (30 bits) has 2 fill bits
    acc = 63 << 8 | 0x61  # "abcdefgh" packed with 'a' escaped: code 63, then 0x61
    for b in b"bcdefgh":
        acc = acc << 6 | NAME_CODE[b]
    bits = 14 + 6 * 7
    acc <<= (-bits) % 8
    escaped_a = acc.to_bytes((bits + 7) // 8, "big")
    for what, chunk in (
            ("fill bits not zero", bytes(fill)),
            ("escaped alphabet byte", head + _varint(2 * 8 + 1) + escaped_a + tail),
            ("packed name not shorter", head + _varint(2 * 3 + 1) + pack_name(b"bin") + tail),
            ("unpacked name that packs shorter", head + _varint(2 * 5) + b"abcde" + tail),
            ("non-canonical name header", head + bytes([0x8b, 0x00]) + pack_name(b"abcde")
             + tail),
            ("name length 0", head + _varint(1) + tail),
            ("name header over 511", head + _varint(512) + b"a" * 256 + tail),
            ("same mode in the first record", bytes([0x0a]) + encode_name(b"abcde")
             + _varint(0) * 4),
            ("same owner after only an unknown record", bytes([0x06]) + encode_name(b"a")
             + bytes([0x12]) + encode_name(b"b") + _varint(0o644) + _varint(0) * 2),
            ("non-canonical mtime delta", head + encode_name(b"abcde") + _varint(0o644)
             + _varint(0) * 2 + bytes([0x80, 0x00]) + _varint(0)),
            ("a byte after the records", good + b"\x00")):
        refused(what, seal_plains(k, home, [chunk]))
    check("escaped test name length", len(escaped_a), 7)

    # Round trips: every kind of name (packed or not, escapes), unknown attributes (which are
    # no previous record), mtimes across the whole signed 64-bit range (deltas wrap), and the
    # writer's cuts checked record by record.
    import random
    rng = random.Random(3)
    odd = [b"Q", b"Z", b" ", b"\xc3\xa9", b"~", b"+", b"\xff", b"."]
    names = set()
    while len(names) < 3000:
        n = b"".join(rng.choice([bytes([rng.choice(NAME_ALPHABET)])] * 6 + odd)
                     for _ in range(rng.choice([1, 2, 3, 5, 8, 13, 40, 255])))
        if _valid_entry_name(n):
            names.add(n)
    mixed = []
    for n in sorted(names):
        kind = rng.choice(["dir", "file", "link"])
        if rng.random() < 0.05:
            mixed.append(Record(n, kind, attrs_known=False))
            continue
        mixed.append(Record(
            n, kind, mode=rng.choice([0o644, 0o755, 0o4755, rng.randrange(0o10000)]),
            uid=rng.choice([0, 1000, 0xffffffff]), gid=rng.choice([0, 1000, 0xffffffff]),
            mtime_sec=rng.choice([1600000000 + rng.randrange(100), -1, 0, -(1 << 63),
                                  (1 << 63) - 1, rng.randrange(-(1 << 63), 1 << 63)]),
            mtime_nsec=rng.choice([0, 0, 1, 999999999]),
            size=0 if kind == "dir" else rng.choice([0, 5, (1 << 64) - 1]),
            link_group=rng.choice([0, 0, 1, (1 << 64) - 1]) if kind == "file" else 0,
            xattrs=rng.choice([[], [(b"user.a", b""), (b"user.b", b"x" * rng.randrange(300))]])))
    mixed_sealed = seal_manifest(k, home, mixed)
    check("mixed round trip", open_manifest(k, home, mixed_sealed), mixed)
    for part in (mixed[:1], mixed[:32], mixed[:33], mixed[:200]):
        check("round trip of %d" % len(part), open_manifest(k, home, seal_manifest(k, home, part)),
              part)
    cut_bad = 0
    parts = chunk_records(k, mixed)
    for ci, part in enumerate(parts):
        for j in range(1, len(part) + 1):
            p = encode_chunk(part[:j])
            cut = len(p) >= MANIFEST_CHUNK_TARGET or (j >= 32 and cut_after(k, part[j - 1].name))
            if cut != (j == len(part)) and not (ci == len(parts) - 1 and j == len(part)):
                cut_bad += 1
    check("cuts where 10.4 says", (cut_bad, len(parts) > 3), (0, True))
    return bad


def describe_record(r):
    """One line of a manifest record's metadata: mode (12 bits), uid, gid, mtime_ns, size,
    link group, xattrs (values in hex)."""
    if not r.attrs_known:
        return "attributes unknown"
    parts = ["mode %05o" % r.mode, "uid %d" % r.uid, "gid %d" % r.gid,
             "mtime_ns %d" % r.mtime_ns]
    if r.kind != "dir":
        parts.append("size %d" % r.size)
    if r.link_group:
        parts.append("link_group %016x" % r.link_group)
    for name, value in r.xattrs:
        parts.append("xattr %s=%s" % (os.fsdecode(name), value.hex()))
    return " ".join(parts)


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
    keys = Keys(master)
    manifests = has_manifests(args.cipherdir, keys)
    tree = decrypt_tree(args.cipherdir, keys, names or "base64url", manifests=manifests)
    for path in sorted(tree):
        e = tree[path]
        if e.kind == "file":
            what = "%d %s" % (len(e.data), hashlib.sha256(e.data).hexdigest())
        elif e.kind == "link":
            what = "-> " + os.fsdecode(e.data)
        else:
            what = ""
        print("%s %04o %s %s" % (e.kind, e.mode, path, what))
        if e.meta is not None:
            print("    manifest: " + describe_record(e.meta))
        if e.changed:
            print("    changed during backup (size or mtime differs from the manifest)")
    if manifests:
        print("manifests: every directory's encfsr.dir authenticates and lists exactly its "
              "entries")
    else:
        print("manifests: none (completeness not checked)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except FormatError as e:
        print("reference.py: damaged: %s" % e, file=sys.stderr)
        sys.exit(8)
