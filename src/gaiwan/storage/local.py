"""`StorageClient`'s methods, served in-process by a real `Store`: for unit tests of services.

Same names, signatures and results as the client, so a service under test takes either. Given a
role, it also enforces that role's namespace, so a test catches a service reaching outside its
part of the state just as the storage service would.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from ._lmdb import LmdbEngine
from .client import Enqueue, Lease, TransactShortcuts, Versioned, queue_items
from .namespaces import CONSUME, ENQUEUE, Namespace, check_read_with, namespace_for
from .store import Store


class LocalStorage(TransactShortcuts):
    def __init__(self, store: Store, role: str | None = None) -> None:
        self._store = store
        self._ns: Namespace | None = namespace_for(role) if role is not None else None

    @classmethod
    def open(cls, path: str | os.PathLike[str], seal_key: bytes | None = None,
             role: str | None = None, map_size_mb: int = 64) -> "LocalStorage":
        """An LMDB store in `path` (created if missing), sealed under seal_key (random if None)."""
        if role is not None:
            namespace_for(role)  # refuse an unknown role before opening anything
        engine = LmdbEngine(Path(path), map_size_mb)
        return cls(Store(engine, seal_key or os.urandom(32)), role)

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> "LocalStorage":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _keys(self, *keys: bytes) -> None:
        if self._ns is not None:
            for key in keys:
                self._ns.check_key(key)

    def _queue(self, queue: str, operation: str) -> None:
        if self._ns is not None:
            self._ns.check_queue(queue, operation)

    def get(self, key: bytes) -> Versioned | None:
        self._keys(key)
        return self._store.get(key)

    def get_many(self, keys: Sequence[bytes]) -> list[Versioned | None]:
        for key in keys:
            self._keys(key)
        return self._store.get_many(keys)

    def scan(self, prefix: bytes, limit: int = 0, reverse: bool = False,
             start_after: bytes = b"", keys_only: bool = False) -> list[Versioned]:
        if self._ns is not None:
            self._ns.check_prefix(prefix)
        return self._store.scan(prefix, limit, reverse, start_after, keys_only)

    def transact(
        self,
        conditions: Mapping[bytes, int] | None = None,
        writes: Mapping[bytes, bytes | None] | None = None,
        enqueue: Enqueue = (),
        ack: Iterable[Lease] = (),
    ) -> list[int] | None:
        """Applies everything atomically; None when a condition failed (nothing was written)."""
        items, ack = queue_items(enqueue), list(ack)
        self._keys(*(conditions or {}), *(writes or {}))
        for item in items:
            self._queue(item.queue, ENQUEUE)
            if self._ns is not None:
                check_read_with(self._ns, item.queue, item.read_with)
        for lease in ack:
            self._queue(lease.queue, CONSUME)
        return self._store.transact(conditions, writes, items, ack).versions

    def watch(self, key: bytes, version: int, timeout_s: float) -> int:
        self._keys(key)
        return self._store.watch(key, version, timeout_s)

    def watch_value(self, key: bytes, version: int, timeout_s: float) -> Versioned | None:
        self._keys(key)
        self._store.watch(key, version, timeout_s)
        return self._store.get(key)

    def dequeue(self, queue: str, lease_ms: int, wait_s: float = 0.0) -> Lease | None:
        self._queue(queue, CONSUME)
        return self._store.dequeue(queue, lease_ms, wait_s)

    def renew(self, lease: Lease, lease_ms: int) -> bool:
        self._queue(lease.queue, CONSUME)
        return self._store.renew(lease, lease_ms) is not None

    def release(self, lease: Lease) -> None:
        self._queue(lease.queue, CONSUME)
        self._store.release(lease)
