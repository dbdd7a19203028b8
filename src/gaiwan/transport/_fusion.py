"""`fusion:///<name>`: outputs of several owners, kept in the storage service so that every
execution node reads what any node wrote, and a node's disk holds nothing a task needs later.

A file is stored as chunks, each in its own transaction (a whole file would not fit one
message), under `fusion/<name>/<upload>/<8-digit index>`, and then a manifest at
`fusion/<name>/manifest` (size, chunk count, chunk size, upload id) in a last transaction
conditioned on the manifest not existing. Readers start from the manifest, so a half-written file
is invisible, and the condition keeps outputs write-once, as for file:// outputs: an aes-gcm
output rewritten under the same key and iv would leak the XOR of the two plaintexts. The upload
id keeps two racing writers (or a retry after a node died mid-write) from mixing their chunks:
only one manifest wins, and it names its own chunks. The winner then deletes every other
upload's chunks, such as those of a node that died mid-write before its task ran again
elsewhere: once the manifest exists no chunk of that name can be written any more (each chunk
write is conditioned on the manifest's absence), so nothing it deletes can still be wanted.

What is stored is already sealed: a fusion record's crypto info is teaclave-file-128 under a key
the platform chose, and the data path encrypts every output before it reaches the transport; the
storage service seals every value once more at rest.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import SplitResult

from ..errors import ConfigError, DeadlineExceeded, GaiwanError, Unavailable
from ..storage.client import Versioned
from ._errors import TransportError
from ._limits import Limits

PREFIX = b"fusion/"
MAX_CHUNK = 1 << 20
FRAMING = 4096  # per request or answer: keys (<= 240 bytes each), conditions, protobuf framing
_MAX_KEYS = 1024  # the storage service's bound on keys per GetMany
_KEY_FRAMING = 512  # per key in a request: the key (<= 240 bytes) and its protobuf framing
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")
_UPLOAD = re.compile(r"[0-9a-f]{16}")


class FusionStorage(Protocol):
    """The part of StorageClient (or LocalStorage) fusion files need."""

    def get(self, key: bytes) -> Versioned | None: ...

    def get_many(self, keys: Sequence[bytes]) -> Sequence[Versioned | None]: ...

    def scan(self, prefix: bytes, limit: int = ..., reverse: bool = ...,
             start_after: bytes = ..., keys_only: bool = ...) -> Sequence[Versioned]: ...

    def transact(self, conditions: Mapping[bytes, int] | None = ...,
                 writes: Mapping[bytes, bytes | None] | None = ...) -> list[int] | None: ...


@dataclass(frozen=True)
class _Manifest:
    size: int
    chunks: int
    chunk_bytes: int
    upload: str

    def dumps(self) -> bytes:
        return json.dumps({"size": self.size, "chunks": self.chunks,
                           "chunk_bytes": self.chunk_bytes, "upload": self.upload},
                          sort_keys=True).encode()

    @classmethod
    def loads(cls, raw: bytes) -> "_Manifest | None":
        """None when the record is not a manifest this code wrote."""
        try:
            doc = json.loads(raw)
            manifest = cls(doc["size"], doc["chunks"], doc["chunk_bytes"], doc["upload"])
        except (ValueError, TypeError, KeyError):
            return None
        numbers = (manifest.size, manifest.chunks, manifest.chunk_bytes)
        if (not all(type(n) is int and n >= 0 for n in numbers) or manifest.chunk_bytes < 1
                or not isinstance(manifest.upload, str) or not _UPLOAD.fullmatch(manifest.upload)
                or manifest.chunks != -(-manifest.size // manifest.chunk_bytes)):
            return None
        return manifest


def name_of(parts: SplitResult, label: str) -> str:
    """The file name of a `fusion:///<name>` URL: one plain name, nothing that could reach
    another key."""
    name = parts.path[1:] if parts.path.startswith("/") else ""
    if parts.netloc or parts.query or not _NAME.fullmatch(name):
        raise TransportError(label, "malformed fusion:// location")
    return name


def _manifest_key(name: str) -> bytes:
    return PREFIX + name.encode() + b"/manifest"


def _chunk_key(name: str, upload: str, index: int) -> bytes:
    return PREFIX + f"{name}/{upload}/{index:08d}".encode()


def _exists(label: str) -> TransportError:
    return TransportError(label, "file already exists; outputs are never overwritten")


def _storage_error(label: str, exc: GaiwanError) -> TransportError:
    """The storage's own message may quote a key (the file's name): only its kind is kept."""
    if isinstance(exc, (Unavailable, DeadlineExceeded)):
        return TransportError(label, "fusion storage is unavailable")
    return TransportError(label, f"fusion storage refused the transfer ({type(exc).__name__})")


class FusionStore:
    """Fusion files in the storage service, over the node's storage client; thread-safe as
    the client is."""

    def __init__(self, storage: FusionStorage, max_message_bytes: int,
                 max_chunk_bytes: int = MAX_CHUNK) -> None:
        """max_message_bytes: the storage channel's `[rpc] max_message_bytes`; a chunk plus
        FRAMING always fits it. Chunks are at most max_chunk_bytes (1 MiB: small enough that
        a few fill one read, large enough that a 1 GiB file is a thousand writes)."""
        if max_message_bytes < 2 * FRAMING:
            raise ConfigError(f"rpc.max_message_bytes must be at least {2 * FRAMING} "
                              "to store fusion files")
        if max_chunk_bytes < 1:
            raise ValueError("max_chunk_bytes must be positive")
        self._storage = storage
        self._max_message = max_message_bytes
        self.chunk_bytes = min(max_chunk_bytes, max_message_bytes - FRAMING)

    def read(self, name: str, dst: BinaryIO, limits: Limits, label: str) -> int:
        """Streams the file into dst, a batch of chunks at a time; returns its size."""
        try:
            return self._read(name, dst, limits, label)
        except GaiwanError as exc:
            raise _storage_error(label, exc) from None

    def write(self, src: Path, name: str, limits: Limits, label: str) -> None:
        """Stores src as a new file; refuses an existing one; leaves nothing visible on failure."""
        if src.stat().st_size > limits.max_bytes:
            raise limits.too_large(label)
        written: list[bytes] = []
        try:
            self._write(src, name, limits, label, written)
        except GaiwanError as exc:
            self._discard(written)
            raise _storage_error(label, exc) from None
        except BaseException:
            self._discard(written)
            raise

    def _read(self, name: str, dst: BinaryIO, limits: Limits, label: str) -> int:
        record = self._storage.get(_manifest_key(name))
        if record is None:
            raise TransportError(label, "file does not exist")
        manifest = _Manifest.loads(record.value)
        if manifest is None:
            raise TransportError(label, "fusion file is damaged (unreadable manifest)")
        if manifest.size > limits.max_bytes:
            raise limits.too_large(label)
        budget = self._max_message - FRAMING
        batch = max(1, min(_MAX_KEYS, budget // (manifest.chunk_bytes + _KEY_FRAMING)))
        total = 0
        for start in range(0, manifest.chunks, batch):
            indexes = range(start, min(start + batch, manifest.chunks))
            keys = [_chunk_key(name, manifest.upload, i) for i in indexes]
            for index, item in zip(indexes, self._storage.get_many(keys)):
                expected = min(manifest.chunk_bytes, manifest.size - index * manifest.chunk_bytes)
                value = None if item is None else item.value
                if value is None or len(value) != expected:
                    raise TransportError(
                        label, "fusion file is damaged (a chunk is missing or truncated)")
                dst.write(value)
                total += expected
        return total

    def _write(self, src: Path, name: str, limits: Limits, label: str,
               written: list[bytes]) -> None:
        manifest_key = _manifest_key(name)
        if self._storage.get(manifest_key) is not None:
            raise _exists(label)  # early: spares uploading a file only to be refused at the end
        upload = secrets.token_hex(8)
        total = 0
        with open(src, "rb") as body:
            while chunk := body.read(self.chunk_bytes):
                total += len(chunk)
                if total > limits.max_bytes:
                    raise limits.too_large(label)
                key = _chunk_key(name, upload, len(written))
                if self._storage.transact(conditions={manifest_key: 0, key: 0},
                                          writes={key: chunk}) is None:
                    raise _exists(label)
                written.append(key)
        manifest = _Manifest(total, len(written), self.chunk_bytes, upload)
        if self._storage.transact(conditions={manifest_key: 0},
                                  writes={manifest_key: manifest.dumps()}) is None:
            raise _exists(label)
        written.clear()  # visible now: the chunks belong to the file
        self._sweep(name, upload)

    def _sweep(self, name: str, upload: str) -> None:
        """Deletes the chunks of every upload of `name` but the winning one; best effort, since
        the file is complete whatever happens here."""
        prefix = PREFIX + name.encode() + b"/"
        keep, manifest_key = prefix + upload.encode() + b"/", _manifest_key(name)
        stale: list[bytes] = []
        after = b""
        try:
            while True:
                page = self._storage.scan(prefix, limit=_MAX_KEYS, start_after=after,
                                          keys_only=True)
                stale += [i.key for i in page
                          if i.key != manifest_key and not i.key.startswith(keep)]
                if len(page) < _MAX_KEYS:
                    break
                after = page[-1].key
        except GaiwanError:
            return
        self._discard(stale)

    def _discard(self, keys: list[bytes]) -> None:
        """Best effort: chunks no manifest names are unreachable anyway; this only frees space."""
        batch = max(1, (self._max_message - FRAMING) // _KEY_FRAMING)
        try:
            for start in range(0, len(keys), batch):
                self._storage.transact(writes=dict.fromkeys(keys[start:start + batch]))
        except GaiwanError:
            pass
