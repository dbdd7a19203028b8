"""The default engine: LMDB, an embedded ordered key-value store with one writer at a time.

LMDB's single writer makes every write transaction serializable with no retries; readers never
block it. Queue entries live in their own database, with two index databases (ready items by
queue and id, leases by deadline) so dequeue and the lease reaper each touch one cursor position.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import lmdb

from ..errors import ResourceExhausted
from ._engine import Entry, Row, T, prefix_end

_U64 = struct.Struct(">Q")
_ENTRY = struct.Struct(">IQB")  # deliveries, deadline_ms, token digest length
_SEQ = b"seq"


def _qkey(queue: str, item_id: int) -> bytes:
    return queue.encode() + b"\x00" + _U64.pack(item_id)


def _split_qkey(qkey: bytes) -> tuple[str, int]:
    return qkey[:-9].decode(), _U64.unpack(qkey[-8:])[0]


def _encode_entry(entry: Entry) -> bytes:
    head = _ENTRY.pack(entry.deliveries, entry.deadline_ms, len(entry.token_digest))
    return head + entry.token_digest + entry.sealed


def _decode_entry(qkey: bytes, raw: bytes) -> Entry:
    deliveries, deadline_ms, n = _ENTRY.unpack_from(raw)
    start = _ENTRY.size
    queue, item_id = _split_qkey(qkey)
    return Entry(queue, item_id, bytes(raw[start + n:]), deliveries,
                 bytes(raw[start:start + n]), deadline_ms)


class _LmdbTxn:
    def __init__(self, txn: lmdb.Transaction, dbs: dict[str, lmdb._Database]) -> None:
        self._txn = txn
        self._kv = dbs["kv"]
        self._meta = dbs["meta"]
        self._queue = dbs["queue"]
        self._ready = dbs["ready"]
        self._leases = dbs["leases"]

    def get(self, key: bytes) -> Row | None:
        raw = self._txn.get(key, db=self._kv)
        if raw is None:
            return None
        return Row(key, _U64.unpack_from(raw)[0], bytes(raw[8:]))

    def scan(self, prefix: bytes, start_after: bytes, limit: int, reverse: bool) -> list[Row]:
        cur = self._txn.cursor(db=self._kv)
        rows: list[Row] = []
        if reverse:
            upper = prefix_end(prefix)
            if start_after and (upper is None or start_after < upper):
                upper = start_after
            positioned = cur.set_range(upper) if upper is not None else False
            ok = cur.prev() if positioned else cur.last()
            step = cur.prev
        else:
            ok = cur.set_range(max(prefix, start_after))
            if ok and start_after and cur.key() == start_after:
                ok = cur.next()
            step = cur.next
        while ok and (not limit or len(rows) < limit):
            key = cur.key()
            if not key.startswith(prefix):
                break
            raw = cur.value()
            rows.append(Row(bytes(key), _U64.unpack_from(raw)[0], bytes(raw[8:])))
            ok = step()
        return rows

    def put(self, row: Row) -> None:
        self._txn.put(row.key, _U64.pack(row.version) + row.sealed, db=self._kv)

    def delete(self, key: bytes) -> None:
        self._txn.delete(key, db=self._kv)

    def next_seq(self) -> int:
        raw = self._txn.get(_SEQ, db=self._meta)
        seq = (_U64.unpack(raw)[0] if raw else 0) + 1
        self._txn.put(_SEQ, _U64.pack(seq), db=self._meta)
        return seq

    def q_get(self, queue: str, item_id: int) -> Entry | None:
        qkey = _qkey(queue, item_id)
        raw = self._txn.get(qkey, db=self._queue)
        return None if raw is None else _decode_entry(qkey, raw)

    def _unindex(self, entry: Entry) -> None:
        qkey = _qkey(entry.queue, entry.item_id)
        if entry.token_digest:
            self._txn.delete(_U64.pack(entry.deadline_ms) + qkey, db=self._leases)
        else:
            self._txn.delete(qkey, db=self._ready)

    def q_put(self, entry: Entry) -> None:
        old = self.q_get(entry.queue, entry.item_id)
        if old is not None:
            self._unindex(old)
        qkey = _qkey(entry.queue, entry.item_id)
        self._txn.put(qkey, _encode_entry(entry), db=self._queue)
        if entry.token_digest:
            self._txn.put(_U64.pack(entry.deadline_ms) + qkey, b"", db=self._leases)
        else:
            self._txn.put(qkey, b"", db=self._ready)

    def q_first_ready(self, queue: str) -> Entry | None:
        head = queue.encode() + b"\x00"
        cur = self._txn.cursor(db=self._ready)
        if not cur.set_range(head) or not cur.key().startswith(head):
            return None
        item_id = _U64.unpack(cur.key()[-8:])[0]
        return self.q_get(queue, item_id)

    def q_remove(self, queue: str, item_id: int) -> None:
        old = self.q_get(queue, item_id)
        if old is not None:
            self._unindex(old)
            self._txn.delete(_qkey(queue, item_id), db=self._queue)

    def q_expired(self, now_ms: int) -> list[Entry]:
        out: list[Entry] = []
        for lkey, _ in self._txn.cursor(db=self._leases):
            if _U64.unpack_from(lkey)[0] > now_ms:
                break
            queue, item_id = _split_qkey(bytes(lkey[8:]))
            entry = self.q_get(queue, item_id)
            if entry is not None:
                out.append(entry)
        return out

    def q_next_deadline(self) -> int | None:
        cur = self._txn.cursor(db=self._leases)
        return _U64.unpack_from(cur.key())[0] if cur.first() else None


class LmdbEngine:
    """One LMDB environment in a directory; every transaction is serializable (single writer)."""

    def __init__(self, path: Path, map_size_mb: int = 1024) -> None:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._env = lmdb.open(str(path), map_size=map_size_mb * 1024 * 1024, max_dbs=8,
                              max_readers=512, subdir=True, sync=True, metasync=True, mode=0o600)
        with self._env.begin(write=True) as txn:
            self._dbs = {name: self._env.open_db(name.encode(), txn=txn)
                         for name in ("kv", "meta", "queue", "ready", "leases")}

    def run(self, fn: Callable[[_LmdbTxn], T], write: bool) -> T:
        try:
            with self._env.begin(write=write) as txn:
                return fn(_LmdbTxn(txn, self._dbs))
        except lmdb.MapFullError:
            raise ResourceExhausted("storage is full: raise [storage] map_size_mb") from None

    def close(self) -> None:
        self._env.close()
