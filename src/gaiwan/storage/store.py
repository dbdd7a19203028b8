"""The storage core: the semantics of `StorageClient`, with no gRPC in sight.

Everything a caller relies on is decided here, once, over the small `Engine` interface: sealing
(nothing reaches an engine in the clear), versions from one global sequence (a deleted and
re-created key never reuses a version, so a stale compare-and-set can never succeed), atomic
transactions of conditions, writes, enqueues and acks, long-polls woken on commit (`Signals`),
and leases whose expiry a reaper thread handles by sleeping exactly until the nearest deadline.
Lease tokens are handed out once and stored only as SHA-256 digests.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Protocol

from ..errors import InvalidArgument, Unavailable
from ..logs import get_logger
from ._engine import Engine, Entry, Row, Txn
from ._sealing import Sealer
from ._signals import Signals
from .client import Enqueue, Lease, Versioned, queue_items

MAX_KEY_BYTES = 448  # LMDB keys stop at 511 bytes; leaves room for engine-side prefixes
MAX_QUEUE_NAME_BYTES = 64
MAX_LEASE_MS = 3_600_000
MAX_WAIT_S = 60.0
_TOKEN_BYTES = 16


class LeaseHandle(Protocol):
    """What identifies a held lease: `Lease` from dequeue, or a `LeaseRef` from the wire."""

    @property
    def queue(self) -> str: ...

    @property
    def item_id(self) -> int: ...

    @property
    def token(self) -> bytes: ...


@dataclass(frozen=True)
class LeaseRef:
    queue: str
    item_id: int
    token: bytes


@dataclass(frozen=True)
class TxnResult:
    """versions is None when the transaction did not commit; conflicts then names the keys
    whose condition failed (empty when only a stale lease failed)."""

    versions: list[int] | None
    conflicts: list[bytes]


def now_ms() -> int:
    return int(time.time() * 1000)


def check_key(key: bytes) -> None:
    if not key:
        raise InvalidArgument("key must not be empty")
    if len(key) > MAX_KEY_BYTES:
        raise InvalidArgument(f"key longer than {MAX_KEY_BYTES} bytes")


def check_queue(queue: str) -> None:
    if not queue or len(queue.encode()) > MAX_QUEUE_NAME_BYTES or "\x00" in queue:
        raise InvalidArgument(f"queue name must be 1..{MAX_QUEUE_NAME_BYTES} bytes without NUL")


def _check_lease_ms(lease_ms: int) -> None:
    if not 0 < lease_ms <= MAX_LEASE_MS:
        raise InvalidArgument(f"lease_ms must be in 1..{MAX_LEASE_MS}")


def _wait_s(wait_s: float) -> float:
    if wait_s < 0:
        raise InvalidArgument("a wait must not be negative")
    return min(wait_s, MAX_WAIT_S)


def _digest(token: bytes) -> bytes:
    return hashlib.sha256(token).digest()


def _holds(entry: Entry | None, token: bytes, now: int) -> bool:
    return (entry is not None and bool(entry.token_digest) and entry.deadline_ms > now
            and hmac.compare_digest(entry.token_digest, _digest(token)))


class Store:
    """Thread-safe; owns its lease reaper thread, which `close` stops."""

    def __init__(self, engine: Engine, seal_key: bytes) -> None:
        self._engine = engine
        self._sealer = Sealer(seal_key)
        self._signals = Signals()
        self._log = get_logger("storage")
        self._state = threading.Condition()
        self._active = 0
        self._closed = False
        self._reap_wake = threading.Condition()
        self._reap_dirty = False
        self._reaper = threading.Thread(target=self._reap_loop, name="lease-reaper", daemon=True)
        self._reaper.start()

    # -- lifecycle ------------------------------------------------------------------------

    @contextmanager
    def _op(self) -> Iterator[None]:
        with self._state:
            if self._closed:
                raise Unavailable("storage is shutting down")
            self._active += 1
        try:
            yield
        finally:
            with self._state:
                self._active -= 1
                if self._closed:
                    self._state.notify_all()

    def close(self) -> None:
        """Wakes long-polls (they fail with Unavailable), lets running calls finish, then closes
        the engine."""
        with self._state:
            if self._closed:
                return
            self._closed = True
        self._signals.close()
        self._wake_reaper()
        self._reaper.join()
        with self._state:
            self._state.wait_for(lambda: self._active == 0)
        self._engine.close()

    # -- keys -----------------------------------------------------------------------------

    def get(self, key: bytes) -> Versioned | None:
        return self.get_many([key])[0]

    def get_many(self, keys: Sequence[bytes]) -> list[Versioned | None]:
        """The keys' records as of one moment (a single read transaction), in order."""
        for key in keys:
            check_key(key)
        with self._op():
            rows = self._engine.run(lambda txn: [txn.get(key) for key in keys], write=False)
        return [self._open_row(key, row) for key, row in zip(keys, rows)]

    def _open_row(self, key: bytes, row: Row | None) -> Versioned | None:
        return None if row is None else Versioned(key, self._sealer.open_value(key, row.sealed),
                                                  row.version)

    def scan(self, prefix: bytes, limit: int = 0, reverse: bool = False,
             start_after: bytes = b"", keys_only: bool = False) -> list[Versioned]:
        """keys_only: values come back empty and are never unsealed."""
        if limit < 0:
            raise InvalidArgument("limit must not be negative")
        with self._op():
            rows = self._engine.run(lambda txn: txn.scan(prefix, start_after, limit, reverse),
                                    write=False)
        if keys_only:
            return [Versioned(r.key, b"", r.version) for r in rows]
        return [Versioned(r.key, self._sealer.open_value(r.key, r.sealed), r.version) for r in rows]

    def transact(
        self,
        conditions: Mapping[bytes, int] | None = None,
        writes: Mapping[bytes, bytes | None] | None = None,
        enqueue: Enqueue = (),
        ack: Iterable[LeaseHandle] = (),
    ) -> TxnResult:
        conditions, writes = dict(conditions or {}), dict(writes or {})
        items, ack = queue_items(enqueue), list(ack)
        for key in (*conditions, *writes, *(k for i in items for k in i.read_with)):
            check_key(key)
        for name in (*(i.queue for i in items), *(lease.queue for lease in ack)):
            check_queue(name)
        if any(v < 0 for v in conditions.values()):
            raise InvalidArgument("an expected version must not be negative")

        def body(txn: Txn) -> TxnResult:
            now = now_ms()
            conflicts = [k for k, v in conditions.items() if _version(txn, k) != v]
            stale = [lease for lease in ack
                     if not _holds(txn.q_get(lease.queue, lease.item_id), lease.token, now)]
            if conflicts or stale:
                return TxnResult(None, conflicts)
            versions = []
            for key, value in writes.items():
                if value is None:
                    txn.delete(key)
                    versions.append(0)
                else:
                    version = txn.next_seq()
                    txn.put(Row(key, version, self._sealer.seal_value(key, value)))
                    versions.append(version)
            for item in items:
                item_id = txn.next_seq()
                sealed = self._sealer.seal_item(item.queue, item_id, item.item, item.read_with)
                txn.q_put(Entry(item.queue, item_id, sealed, 0, b"", 0))
            for lease in ack:
                txn.q_remove(lease.queue, lease.item_id)
            return TxnResult(versions, [])

        with self._op():
            result = self._engine.run(body, write=True)
        if result.versions is not None:
            self._signals.notify([("k", k) for k in writes] + [("q", i.queue) for i in items])
        return result

    def watch(self, key: bytes, version: int, timeout_s: float) -> int:
        """The key's version (0: absent) once it differs from `version`; `version` on timeout."""
        check_key(key)
        wait = _wait_s(timeout_s)

        def check() -> int | None:
            current = self._engine.run(lambda txn: _version(txn, key), write=False)
            return None if current == version else current

        with self._op():
            changed = self._signals.wait(("k", key), check, wait)
        return version if changed is None else changed

    # -- queues ---------------------------------------------------------------------------

    def dequeue(self, queue: str, lease_ms: int, wait_s: float = 0.0) -> Lease | None:
        """The oldest ready item, leased with a new token, with the records it was enqueued to
        be read with as of this moment; waits up to wait_s for one."""
        check_queue(queue)
        _check_lease_ms(lease_ms)
        wait = _wait_s(wait_s)

        def body(txn: Txn) -> Lease | None:
            entry = txn.q_first_ready(queue)
            if entry is None:
                return None
            token = secrets.token_bytes(_TOKEN_BYTES)
            deadline = now_ms() + lease_ms
            txn.q_put(replace(entry, deliveries=entry.deliveries + 1,
                              token_digest=_digest(token), deadline_ms=deadline))
            item, read_with = self._sealer.open_item(queue, entry.item_id, entry.sealed)
            rows = {key: self._open_row(key, txn.get(key)) for key in read_with}
            return Lease(queue, entry.item_id, token, item, entry.deliveries, deadline, rows)

        with self._op():
            lease = self._signals.wait(("q", queue), lambda: self._engine.run(body, write=True),
                                       wait)
        if lease is not None:
            self._wake_reaper()
        return lease

    def renew(self, lease: LeaseHandle, lease_ms: int) -> int | None:
        """The new deadline (ms since the epoch), or None when the token no longer holds the item."""
        check_queue(lease.queue)
        _check_lease_ms(lease_ms)

        def body(txn: Txn) -> int | None:
            now = now_ms()
            entry = txn.q_get(lease.queue, lease.item_id)
            if entry is None or not _holds(entry, lease.token, now):
                return None
            txn.q_put(replace(entry, deadline_ms=now + lease_ms))
            return now + lease_ms

        with self._op():
            deadline = self._engine.run(body, write=True)
        if deadline is not None:
            self._wake_reaper()
        return deadline

    def release(self, lease: LeaseHandle) -> bool:
        """Puts a held item back in its queue at once; False (and no change) for a stale token."""
        check_queue(lease.queue)

        def body(txn: Txn) -> bool:
            entry = txn.q_get(lease.queue, lease.item_id)
            if entry is None or not _holds(entry, lease.token, now_ms()):
                return False
            txn.q_put(replace(entry, token_digest=b"", deadline_ms=0))
            return True

        with self._op():
            released = self._engine.run(body, write=True)
        if released:
            self._signals.notify([("q", lease.queue)])
        return released

    # -- lease reaper ---------------------------------------------------------------------

    def _wake_reaper(self) -> None:
        with self._reap_wake:
            self._reap_dirty = True
            self._reap_wake.notify()

    def _reap_once(self) -> int | None:
        """Returns expired items to their queues; the next deadline to wake up for."""

        def body(txn: Txn) -> tuple[set[str], int | None]:
            queues = set()
            for entry in txn.q_expired(now_ms()):
                txn.q_put(replace(entry, token_digest=b"", deadline_ms=0))
                queues.add(entry.queue)
            return queues, txn.q_next_deadline()

        queues, next_deadline = self._engine.run(body, write=True)
        if queues:
            self._log.info("leases expired", queues=sorted(queues))
            self._signals.notify([("q", q) for q in queues])
        return next_deadline

    def _reap_loop(self) -> None:
        next_deadline: int | None = None
        while True:
            with self._reap_wake:
                if self._closed:
                    return
                self._reap_dirty = False
            try:
                next_deadline = self._reap_once()
            except Exception as exc:  # noqa: BLE001 - a failing engine must not kill the reaper
                self._log.warning("lease reaping failed", error=type(exc).__name__)
                next_deadline = now_ms() + 1000
            with self._reap_wake:
                while not self._reap_dirty:
                    if next_deadline is None:
                        self._reap_wake.wait()
                        continue
                    remaining = (next_deadline - now_ms()) / 1000
                    if remaining <= 0:
                        break
                    self._reap_wake.wait(remaining)


def _version(txn: Txn, key: bytes) -> int:
    row = txn.get(key)
    return 0 if row is None else row.version
