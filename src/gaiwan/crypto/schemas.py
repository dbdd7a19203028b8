"""One entry point per direction for the file schemas of `FileCryptoInfo.schema` (spec §7).

`decrypt` compares the file's MAC with the registered cmac before it decrypts a byte, so a file
that is not the registered one is refused without its plaintext ever being produced.
"""

from __future__ import annotations

import hmac
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from . import aes_gcm, protected_file
from .errors import FileCryptoError

AES_GCM_128 = "aes-gcm-128"
AES_GCM_256 = "aes-gcm-256"
TEACLAVE_FILE_128 = "teaclave-file-128"
RAW = "raw"
SCHEMAS = (AES_GCM_128, AES_GCM_256, TEACLAVE_FILE_128, RAW)


def check_crypto_info(schema: str, key: bytes, iv: bytes, *, output: bool = False) -> None:
    """Refuses parameters a schema cannot use (lengths, raw for outputs)."""
    if schema in aes_gcm.KEY_SIZES:
        aes_gcm.check_params(schema, key, iv)
    elif schema == TEACLAVE_FILE_128:
        if len(key) != protected_file.KEY_SIZE:
            raise FileCryptoError(f"{schema} needs a 16-byte key, got {len(key)} bytes")
        if iv:
            raise FileCryptoError(f"{schema} takes no iv")
    elif schema == RAW:
        if output:
            raise FileCryptoError("raw is for inputs only: outputs are always encrypted")
    else:
        raise FileCryptoError(f"unknown file schema {schema!r}; one of {', '.join(SCHEMAS)}")


def encrypt(schema: str, key: bytes, iv: bytes, src: BinaryIO, dst: BinaryIO, name: str = "") -> bytes:
    """Encrypts src into a seekable dst; returns the cmac. `name` is the stored file name of
    teaclave-file-128 (Teaclave: the last segment of the file's URL)."""
    check_crypto_info(schema, key, iv, output=True)
    if schema == TEACLAVE_FILE_128:
        return protected_file.encrypt_stream(key, name, src, dst)
    return aes_gcm.encrypt_stream(schema, key, iv, src, dst)


def read_cmac(schema: str, src: BinaryIO) -> bytes:
    """The MAC a file carries, read without decrypting; empty for raw."""
    if schema == TEACLAVE_FILE_128:
        mac = protected_file.read_mac(src)
    elif schema in aes_gcm.KEY_SIZES:
        mac = aes_gcm.read_tag(src)
    else:
        mac = b""
    src.seek(0)
    return mac


def decrypt(schema: str, key: bytes, iv: bytes, src: BinaryIO, dst: BinaryIO,
            expected_cmac: bytes | None = None, name: str | None = None) -> bytes:
    """Checks the cmac, then decrypts and authenticates a seekable src into dst; returns the cmac.

    `name`: for teaclave-file-128, the name the file must store (None skips the check)."""
    check_crypto_info(schema, key, iv)
    if expected_cmac is not None and schema != RAW:
        if not hmac.compare_digest(read_cmac(schema, src), expected_cmac):
            raise FileCryptoError("file MAC does not match the registered cmac")
    if schema == TEACLAVE_FILE_128:
        return protected_file.decrypt_stream(key, src, dst, expected_name=name)
    if schema == RAW:
        while chunk := src.read(aes_gcm.CHUNK):
            dst.write(chunk)
        return b""
    return aes_gcm.decrypt_stream(schema, key, iv, src, dst)


def encrypt_file(schema: str, key: bytes, iv: bytes, src: Path, dst: Path, name: str = "") -> bytes:
    """File-to-file encryption; dst appears only complete (temp file + rename)."""
    with open(src, "rb") as fin, _atomic_writer(dst) as fout:
        return encrypt(schema, key, iv, fin, fout, name or dst.name)


def decrypt_file(schema: str, key: bytes, iv: bytes, src: Path, dst: Path,
                 expected_cmac: bytes | None = None, name: str | None = None) -> bytes:
    """File-to-file decryption; on any failure dst is not left behind."""
    with open(src, "rb") as fin, _atomic_writer(dst) as fout:
        return decrypt(schema, key, iv, fin, fout, expected_cmac, name)


class _atomic_writer:
    """A private temporary file next to dst, renamed over it only on success."""

    def __init__(self, dst: Path) -> None:
        self._dst = Path(dst)

    def __enter__(self) -> BinaryIO:
        fd, self._tmp = tempfile.mkstemp(dir=self._dst.parent or ".", prefix=".gaiwan-")
        self._file = os.fdopen(fd, "w+b")
        return self._file

    def __exit__(self, exc_type: object, *_: object) -> None:
        self._file.close()
        if exc_type is None:
            os.replace(self._tmp, self._dst)
        else:
            os.unlink(self._tmp)
