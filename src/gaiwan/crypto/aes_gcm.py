"""The `aes-gcm-128` and `aes-gcm-256` file schemas of Teaclave: the whole file is one AES-GCM
message, ciphertext followed by the 16-byte tag, with 8 zero bytes of additional data.

Files are processed as streams in fixed-size chunks so memory stays bounded whatever the size;
the chunks go through two reused buffers (`readinto`, `update_into`) rather than fresh bytes
objects, which keeps the stream within reach of a bare one-shot AES-GCM pass.
Decryption writes plaintext as it goes; the tag is only checked at the end, so callers must
treat the destination as untrusted until `decrypt_stream` returns (the data path decrypts into a
private temporary file and deletes it on failure).
"""

from __future__ import annotations

from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .errors import FileCryptoError

AAD = bytes(8)
TAG_SIZE = 16
IV_SIZE = 12
CHUNK = 1 << 20
KEY_SIZES = {"aes-gcm-128": 16, "aes-gcm-256": 32}


def check_params(schema: str, key: bytes, iv: bytes) -> None:
    if len(key) != KEY_SIZES[schema]:
        raise FileCryptoError(f"{schema} needs a {KEY_SIZES[schema]}-byte key, got {len(key)} bytes")
    if len(iv) != IV_SIZE:
        raise FileCryptoError(f"{schema} needs a {IV_SIZE}-byte iv, got {len(iv)} bytes")


def encrypt_stream(schema: str, key: bytes, iv: bytes, src: BinaryIO, dst: BinaryIO) -> bytes:
    """Encrypts src to dst (ciphertext ‖ tag); returns the tag, which is the file's cmac."""
    check_params(schema, key, iv)
    enc = Cipher(algorithms.AES(key), modes.GCM(iv)).encryptor()
    enc.authenticate_additional_data(AAD)
    buf, out = memoryview(bytearray(CHUNK)), memoryview(bytearray(CHUNK + 15))
    while n := src.readinto(buf):
        dst.write(out[:enc.update_into(buf[:n], out)])
    dst.write(enc.finalize())
    dst.write(enc.tag)
    return enc.tag


def read_tag(src: BinaryIO) -> bytes:
    """The tag at the end of a seekable file: the cmac to compare before decrypting anything."""
    size = src.seek(0, 2)
    if size < TAG_SIZE:
        raise FileCryptoError("file too short for an AES-GCM tag")
    src.seek(size - TAG_SIZE)
    tag = src.read(TAG_SIZE)
    src.seek(0)
    return tag


def decrypt_stream(schema: str, key: bytes, iv: bytes, src: BinaryIO, dst: BinaryIO) -> bytes:
    """Decrypts a seekable src into dst and verifies the tag; returns the tag (cmac)."""
    check_params(schema, key, iv)
    tag = read_tag(src)
    remaining = src.seek(0, 2) - TAG_SIZE
    src.seek(0)
    dec = Cipher(algorithms.AES(key), modes.GCM(iv, tag)).decryptor()
    dec.authenticate_additional_data(AAD)
    buf, out = memoryview(bytearray(CHUNK)), memoryview(bytearray(CHUNK + 15))
    while remaining > 0:
        n = src.readinto(buf[:min(CHUNK, remaining)])
        if not n:
            raise FileCryptoError("file truncated")
        remaining -= n
        dst.write(out[:dec.update_into(buf[:n], out)])
    try:
        dst.write(dec.finalize())
    except InvalidTag:
        raise FileCryptoError("authentication failed: wrong key or tampered file") from None
    return tag
