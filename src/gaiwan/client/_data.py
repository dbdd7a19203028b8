"""A data owner's side of a task's files: seal and upload an input, register an output, fetch
and open an output once a task wrote it.

Keys are made here, on the owner's machine, and go only to the platform (inside the attested
channel, as the file's crypto info) and back to the caller: nothing here logs or prints them,
and their `repr` hides them. Each file gets a fresh random key and iv, because an aes-gcm key and
iv must never seal two different plaintexts.

An output is opened only after its MAC matches the cmac the platform recorded when the task
wrote it (GetOutputFile): a file swapped at its URL is refused before a byte is decrypted.
Sealing and opening reuse `gaiwan.crypto`, moving bytes reuses `gaiwan.transport`.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import crypto
from ..errors import FailedPrecondition, GaiwanError, InvalidArgument
from ..transport import Transport, TransportError
from ._frontend import FrontendService
from ._messages import CryptoInfo

DATA_SCHEMAS = (crypto.TEACLAVE_FILE_128, crypto.AES_GCM_128, crypto.AES_GCM_256)
"""Schemas a data owner can seal with; `raw` is left out: it would send plaintext."""
DEFAULT_SCHEMA = crypto.TEACLAVE_FILE_128
_KEY_BYTES = {crypto.TEACLAVE_FILE_128: 16, crypto.AES_GCM_128: 16, crypto.AES_GCM_256: 32}
_IV_BYTES = {crypto.TEACLAVE_FILE_128: 0, crypto.AES_GCM_128: 12, crypto.AES_GCM_256: 12}


class TransferError(GaiwanError):
    """A file could not be uploaded to or downloaded from its URL; the message names the file's
    role, never the URL (it may carry credentials)."""


@dataclass(frozen=True)
class FileKey:
    """A file's crypto info as its owner keeps it; `repr` never shows the key or iv."""

    schema: str
    key: bytes = field(repr=False)
    iv: bytes = field(repr=False)

    @classmethod
    def generate(cls, schema: str = DEFAULT_SCHEMA) -> "FileKey":
        """A fresh random key (and iv where the schema has one)."""
        if schema not in DATA_SCHEMAS:
            raise InvalidArgument(f"schema {schema!r} cannot seal data; one of {', '.join(DATA_SCHEMAS)}")
        return cls(schema, secrets.token_bytes(_KEY_BYTES[schema]), secrets.token_bytes(_IV_BYTES[schema]))

    @property
    def crypto_info(self) -> CryptoInfo:
        return CryptoInfo(self.schema, self.key, self.iv)


@dataclass(frozen=True)
class DataFile:
    """A registered file: its id, where it lives and the key to it. Keep it like a private key."""

    data_id: str
    url: str = field(repr=False)
    key: FileKey

    def to_json(self) -> dict[str, str]:
        return {"data_id": self.data_id, "url": self.url, "schema": self.key.schema,
                "key": self.key.key.hex(), "iv": self.key.iv.hex()}

    @classmethod
    def from_json(cls, doc: Any) -> "DataFile":
        try:
            key = FileKey(str(doc["schema"]), bytes.fromhex(doc["key"]), bytes.fromhex(doc.get("iv", "")))
            return cls(str(doc["data_id"]), str(doc["url"]), key)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise InvalidArgument("not a Gaiwan key file (data_id, url, schema, key, iv)") from None

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes a new key file readable by its owner only (0600); never replaces one."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            os.fchmod(out.fileno(), 0o600)
            json.dump(self.to_json(), out, indent=2)
            out.write("\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "DataFile":
        try:
            doc = json.loads(Path(path).read_text())
        except ValueError:
            raise InvalidArgument(f"{path} is not a Gaiwan key file (not JSON)") from None
        return cls.from_json(doc)


def stored_name(url: str) -> str:
    """The name a teaclave-file-128 file stores: the last segment of its URL's path, as the
    execution node expects it on reading and writing."""
    return urlsplit(url).path.rsplit("/", 1)[-1]


@contextmanager
def _scratch(suffix: str) -> Iterator[Path]:
    """A temporary file for ciphertext, removed on exit."""
    fd, name = tempfile.mkstemp(prefix="gaiwan-data-", suffix=suffix)
    os.close(fd)
    try:
        yield Path(name)
    finally:
        os.unlink(name)


def seal_and_upload(src: str | os.PathLike[str], url: str, key: FileKey,
                    transport: Transport | None = None) -> bytes:
    """Encrypts the local file src under key and uploads the ciphertext to url (never replacing
    a file there); returns the cmac to register."""
    with _scratch(".sealed") as sealed:
        with open(src, "rb") as fin, open(sealed, "wb") as fout:
            cmac = crypto.encrypt(key.schema, key.key, key.iv, fin, fout, stored_name(url))
        try:
            (transport or Transport()).upload(sealed, url, "input")
        except TransportError as exc:
            raise TransferError(exc.reason) from None
    return cmac


def download_and_open(data: DataFile, cmac: bytes, dst: str | os.PathLike[str],
                      transport: Transport | None = None) -> None:
    """Downloads data's ciphertext, checks its MAC against cmac, then decrypts it into dst (which
    appears only complete, and is never replaced)."""
    if not cmac:
        raise FailedPrecondition(f"output {data.data_id} has not been written by a task yet")
    out = Path(dst)
    if out.exists():
        raise InvalidArgument(f"{out} exists; refusing to overwrite it")
    with _scratch(".sealed") as sealed:
        with open(sealed, "wb") as fout:
            try:
                (transport or Transport()).fetch(data.url, fout, "output")
            except TransportError as exc:
                raise TransferError(exc.reason) from None
        name = stored_name(data.url) if data.key.schema == crypto.TEACLAVE_FILE_128 else None
        crypto.decrypt_file(data.key.schema, data.key.key, data.key.iv, sealed, out,
                            expected_cmac=cmac, name=name)


class DataFlows:
    """The data owner's calls of one session; `Gaiwan` exposes them as its own methods."""

    def __init__(self, frontend: FrontendService, transport: Transport | None = None) -> None:
        self._frontend = frontend
        self._transport = transport or Transport()

    def upload_input(self, src: str | os.PathLike[str], url: str,
                     schema: str = DEFAULT_SCHEMA) -> DataFile:
        """Seals a local file under a fresh key, uploads it to url and registers it as an input."""
        key = FileKey.generate(schema)
        cmac = seal_and_upload(src, url, key, self._transport)
        data_id = self._frontend.register_input_file(url, key.schema, key.key, key.iv, cmac)
        return DataFile(data_id, url, key)

    def register_output(self, url: str, schema: str = DEFAULT_SCHEMA) -> DataFile:
        """Registers an output a task will write to url, sealed under a fresh key."""
        key = FileKey.generate(schema)
        return DataFile(self._frontend.register_output_file(url, key.schema, key.key, key.iv), url, key)

    def fetch_output(self, data: DataFile, dst: str | os.PathLike[str]) -> None:
        """Downloads an output a task wrote and decrypts it into dst, after checking its MAC
        against the cmac the platform recorded for it."""
        cmac = self._frontend.output_cmac(data.data_id)
        download_and_open(data, cmac, dst, self._transport)
