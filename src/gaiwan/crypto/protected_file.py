"""`teaclave-file-128`: Intel's SGX protected-file format in the layout of the Rust SGX SDK that
Teaclave v0.5+ uses (layout "T" of the fact sheet: 96-byte plain header, root MAC at 80..96).

Structure: node 0 holds the header and an encrypted metadata part (file name, size, root MHT
key+tag, the first 3 KiB of plaintext); then MHT (Merkle hash tree) nodes and 4 KiB data nodes.
Every node is AES-128-GCM with a zero IV under its own key, and its key+tag are stored in its
parent, so the root MAC (the metadata part's tag, Teaclave's "cmac") authenticates the whole file.

Why a fresh random key per node and never a counter: with a fixed IV, one key must never encrypt
two plaintexts; random 128-bit keys per encryption are what the format's readers expect (the
reference writers derive them from a random master key, which readers cannot tell apart).

Memory: data nodes stream through one 4 KiB buffer; the MHT nodes (4 KiB per 384 KiB of data,
about 1% of the file) are held until the end, because a parent's entries are only known once
its whole subtree is written. Readers keep the decrypted MHT nodes they touch, the same 1%.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.cmac import CMAC
from cryptography.hazmat.primitives.ciphers import algorithms

from .errors import FileCryptoError

NODE = 4096
MAGIC = b"ELIF_XGS"
MAJOR_VERSION = 1
USER_KEY_FLAG = 1
INLINE = 3072
NAME_FIELD = 260
MAX_NAME = 258
ENC_START, ENC_END = 96, 3468  # the encrypted metadata part: 3372 bytes
MAC_START, MAC_END = 80, 96
DATA_PER_MHT = 96
CHILDREN_PER_MHT = 32
ENTRY = 32  # key (16) ‖ tag (16)
ZERO_IV = bytes(12)
KEY_SIZE = 16
_KDF_LABEL = b"SGX-PROTECTED-FS-METADATA-KEY"


def _metadata_key(user_key: bytes, key_id: bytes) -> bytes:
    """NIST SP 800-108 counter-mode KDF, one CMAC iteration over the SDK's 120-byte block."""
    block = (
        struct.pack("<I", 1)
        + _KDF_LABEL.ljust(64, b"\0")
        + bytes(4)
        + struct.pack("<Q", 0)
        + key_id
        + struct.pack("<I", 128)
        + bytes(4)
    )
    mac = CMAC(algorithms.AES(user_key))
    mac.update(block)
    return mac.finalize()


def _seal(plaintext: bytes) -> tuple[bytes, bytes, bytes]:
    """Encrypts one node under a fresh key; returns (key, ciphertext, tag)."""
    key = os.urandom(KEY_SIZE)
    out = AESGCM(key).encrypt(ZERO_IV, plaintext, None)
    return key, out[:-16], out[-16:]


def _open(key: bytes, ciphertext: bytes, tag: bytes, what: str) -> bytes:
    try:
        return AESGCM(key).decrypt(ZERO_IV, ciphertext + tag, None)
    except InvalidTag:
        raise FileCryptoError(f"{what} failed authentication: tampered file") from None


def data_node_position(d: int) -> int:
    return 2 + d + d // DATA_PER_MHT


def mht_node_position(m: int) -> int:
    return 1 + 97 * m


def stored_name(name: str) -> bytes:
    """The name a file stores: the last path segment (Teaclave: of the URL), 1..258 bytes."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].encode()
    if not 1 <= len(base) <= MAX_NAME:
        raise FileCryptoError("protected file name must be 1 to 258 bytes")
    return base


def _read_full(src: BinaryIO, buf: bytearray) -> int:
    """Fills buf from a stream that may return short reads; returns the byte count (< len at EOF)."""
    view = memoryview(buf)
    got = 0
    while got < len(buf):
        n = src.readinto(view[got:])
        if not n:
            break
        got += n
    return got


def encrypt_stream(key: bytes, name: str, src: BinaryIO, dst: BinaryIO) -> bytes:
    """Writes src as a protected file to a seekable dst; returns the root MAC (the cmac)."""
    if len(key) != KEY_SIZE:
        raise FileCryptoError(f"teaclave-file-128 needs a 16-byte key, got {len(key)} bytes")
    file_name = stored_name(name)
    start = dst.tell()
    inline = bytearray(INLINE)
    size = _read_full(src, inline)
    mht: list[bytearray] = []
    buf = bytearray(NODE)
    d = 0
    if size == INLINE:
        while n := _read_full(src, buf):
            if n < NODE:
                buf[n:] = bytes(NODE - n)
            m = d // DATA_PER_MHT
            if m == len(mht):
                mht.append(bytearray(NODE))
            node_key, ct, tag = _seal(bytes(buf))
            slot = (d % DATA_PER_MHT) * ENTRY
            mht[m][slot:slot + ENTRY] = node_key + tag
            dst.seek(start + data_node_position(d) * NODE)
            dst.write(ct)
            size += n
            d += 1
            if n < NODE:
                break
    root_key, root_tag = bytes(KEY_SIZE), bytes(16)
    for m in range(len(mht) - 1, -1, -1):
        node_key, ct, tag = _seal(bytes(mht[m]))
        dst.seek(start + mht_node_position(m) * NODE)
        dst.write(ct)
        if m == 0:
            root_key, root_tag = node_key, tag
        else:
            parent, slot = divmod(m - 1, CHILDREN_PER_MHT)
            off = DATA_PER_MHT * ENTRY + slot * ENTRY
            mht[parent][off:off + ENTRY] = node_key + tag
    part = (
        file_name.ljust(NAME_FIELD, b"\0")
        + struct.pack("<Q", size)
        + root_key
        + root_tag
        + bytes(inline)
    )
    key_id = os.urandom(32)
    sealed = AESGCM(_metadata_key(key, key_id)).encrypt(ZERO_IV, part, None)
    ct, mac = sealed[:-16], sealed[-16:]
    header = (
        MAGIC
        + bytes([MAJOR_VERSION, 0, USER_KEY_FLAG, 0])
        + struct.pack("<HH", 0, 0)
        + key_id
        + bytes(16)  # cpu_svn
        + bytes(16)  # attribute mask
        + mac
    )
    dst.seek(start)
    dst.write((header + ct).ljust(NODE, b"\0"))
    total = 1 + len(mht) + d
    dst.seek(start + total * NODE)
    return mac


def read_mac(src: BinaryIO) -> bytes:
    """The root MAC at bytes 80..96, to compare with the registered cmac before decrypting."""
    src.seek(0)
    head = src.read(MAC_END)
    if len(head) < MAC_END or head[:8] != MAGIC:
        raise FileCryptoError("not a teaclave-file-128 (SGX protected) file")
    return head[MAC_START:MAC_END]


class _Reader:
    def __init__(self, key: bytes, src: BinaryIO, expected_name: str | None) -> None:
        if len(key) != KEY_SIZE:
            raise FileCryptoError(f"teaclave-file-128 needs a 16-byte key, got {len(key)} bytes")
        self._src = src
        length = src.seek(0, 2)
        if length == 0 or length % NODE:
            raise FileCryptoError("not a teaclave-file-128 (SGX protected) file: bad length")
        self._nodes = length // NODE
        src.seek(0)
        node0 = src.read(NODE)
        if node0[:8] != MAGIC:
            raise FileCryptoError("not a teaclave-file-128 (SGX protected) file")
        if node0[8] != MAJOR_VERSION:
            raise FileCryptoError(f"unsupported protected file version {node0[8]}")
        if node0[11] != 0:
            raise FileCryptoError("protected file has an unfinished write (update flag set)")
        if node0[10] != USER_KEY_FLAG:
            raise FileCryptoError("protected file is not encrypted with a user key")
        self.mac = node0[MAC_START:MAC_END]
        meta_key = _metadata_key(key, node0[16:48])
        try:
            part = AESGCM(meta_key).decrypt(ZERO_IV, node0[ENC_START:ENC_END] + self.mac, None)
        except InvalidTag:
            raise FileCryptoError("authentication failed: wrong key or tampered file") from None
        name_field = part[:NAME_FIELD]
        if b"\0" not in name_field:
            raise FileCryptoError("protected file name is not terminated")
        self.name = name_field[: name_field.index(b"\0")]
        if expected_name is not None and self.name != stored_name(expected_name):
            raise FileCryptoError("protected file name mismatch")
        (self.size,) = struct.unpack_from("<Q", part, NAME_FIELD)
        self._root_key = part[NAME_FIELD + 8:NAME_FIELD + 24]
        self._root_tag = part[NAME_FIELD + 24:NAME_FIELD + 40]
        self.inline = part[NAME_FIELD + 40:NAME_FIELD + 40 + min(self.size, INLINE)]
        self._mht: dict[int, bytes] = {}

    def _node(self, position: int) -> bytes:
        if position >= self._nodes:
            raise FileCryptoError("protected file truncated")
        self._src.seek(position * NODE)
        return self._src.read(NODE)

    def _mht_node(self, m: int) -> bytes:
        node = self._mht.get(m)
        if node is None:
            if m == 0:
                key, tag = self._root_key, self._root_tag
            else:
                parent, slot = divmod(m - 1, CHILDREN_PER_MHT)
                entry = self._mht_node(parent)[DATA_PER_MHT * ENTRY + slot * ENTRY:][:ENTRY]
                key, tag = entry[:16], entry[16:]
            node = _open(key, self._node(mht_node_position(m)), tag, f"MHT node {m}")
            self._mht[m] = node
        return node

    def copy_to(self, dst: BinaryIO) -> None:
        dst.write(self.inline)
        remaining = self.size - len(self.inline)
        d = 0
        while remaining > 0:
            entry = self._mht_node(d // DATA_PER_MHT)[(d % DATA_PER_MHT) * ENTRY:][:ENTRY]
            plain = _open(entry[:16], self._node(data_node_position(d)), entry[16:], f"data node {d}")
            dst.write(plain[: min(NODE, remaining)])
            remaining -= NODE
            d += 1


def decrypt_stream(key: bytes, src: BinaryIO, dst: BinaryIO, expected_name: str | None = None) -> bytes:
    """Verifies and decrypts a seekable protected file into dst; returns its root MAC.

    Plaintext reaches dst node by node as each node authenticates; on an error the caller
    discards dst (a later node may still fail)."""
    reader = _Reader(key, src, expected_name)
    reader.copy_to(dst)
    return reader.mac
