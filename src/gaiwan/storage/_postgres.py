"""The PostgreSQL engine, for platforms spread over several hosts or wanting replication.

Every transaction runs at SERIALIZABLE and is re-run on a serialization failure or deadlock, so
the semantics match LMDB's single writer without hand-written row locks. Versions and item ids
come from a PostgreSQL SEQUENCE: never reused, monotonic per key under serializable commits, and
free of the hot row a counter table would be. A small private pool of connections lets reads and
long-poll checks proceed while a write commits.
"""

from __future__ import annotations

import queue as _queue
import random
import re
import threading
import time
from collections.abc import Callable

import psycopg
from psycopg import sql

from ..errors import ConfigError, Unavailable
from ._engine import Entry, Row, T, prefix_end

_RETRIES = 20
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

_DDL = """
CREATE TABLE IF NOT EXISTS {kv} (
    key bytea PRIMARY KEY, version bigint NOT NULL, value bytea NOT NULL);
CREATE SEQUENCE IF NOT EXISTS {seq};
CREATE TABLE IF NOT EXISTS {queue} (
    queue text NOT NULL, item_id bigint NOT NULL, item bytea NOT NULL,
    deliveries integer NOT NULL, token bytea, deadline_ms bigint NOT NULL,
    PRIMARY KEY (queue, item_id));
CREATE INDEX IF NOT EXISTS {ready_idx} ON {queue} (queue, item_id) WHERE token IS NULL;
CREATE INDEX IF NOT EXISTS {lease_idx} ON {queue} (deadline_ms) WHERE token IS NOT NULL;
"""


class _PgTxn:
    def __init__(self, conn: psycopg.Connection, names: dict[str, sql.Composable]) -> None:
        self._conn = conn
        self._n = names

    def _q(self, text: str) -> sql.Composed:
        return sql.SQL(text).format(**self._n)

    def get(self, key: bytes) -> Row | None:
        got = self._conn.execute(self._q("SELECT version, value FROM {kv} WHERE key = %s"),
                                 (key,)).fetchone()
        return None if got is None else Row(key, got[0], bytes(got[1]))

    def scan(self, prefix: bytes, start_after: bytes, limit: int, reverse: bool) -> list[Row]:
        where = ["key >= %s"]
        params: list[object] = [prefix]
        end = prefix_end(prefix)
        if end is not None:
            where.append("key < %s")
            params.append(end)
        if start_after:
            where.append("key < %s" if reverse else "key > %s")
            params.append(start_after)
        text = f"SELECT key, version, value FROM {{kv}} WHERE {' AND '.join(where)} " \
               f"ORDER BY key {'DESC' if reverse else 'ASC'}"
        if limit:
            text += " LIMIT %s"
            params.append(limit)
        rows = self._conn.execute(self._q(text), params).fetchall()
        return [Row(bytes(k), v, bytes(s)) for k, v, s in rows]

    def put(self, row: Row) -> None:
        self._conn.execute(self._q(
            "INSERT INTO {kv} (key, version, value) VALUES (%s, %s, %s) ON CONFLICT (key) "
            "DO UPDATE SET version = EXCLUDED.version, value = EXCLUDED.value"),
            (row.key, row.version, row.sealed))

    def delete(self, key: bytes) -> None:
        self._conn.execute(self._q("DELETE FROM {kv} WHERE key = %s"), (key,))

    def next_seq(self) -> int:
        got = self._conn.execute(self._q("SELECT nextval('{seq_name}')")).fetchone()
        assert got is not None
        return int(got[0])

    def _entry(self, got: tuple[object, ...] | None) -> Entry | None:
        if got is None:
            return None
        q, item_id, item, deliveries, token, deadline = got
        return Entry(str(q), int(item_id), bytes(item), int(deliveries),  # type: ignore[call-overload]
                     bytes(token or b""), int(deadline))  # type: ignore[call-overload]

    _COLS = "queue, item_id, item, deliveries, token, deadline_ms"

    def q_put(self, entry: Entry) -> None:
        self._conn.execute(self._q(
            f"INSERT INTO {{queue}} ({self._COLS}) VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (queue, item_id) DO UPDATE SET item = EXCLUDED.item, "
            "deliveries = EXCLUDED.deliveries, token = EXCLUDED.token, "
            "deadline_ms = EXCLUDED.deadline_ms"),
            (entry.queue, entry.item_id, entry.sealed, entry.deliveries,
             entry.token_digest or None, entry.deadline_ms))

    def q_get(self, queue: str, item_id: int) -> Entry | None:
        return self._entry(self._conn.execute(self._q(
            f"SELECT {self._COLS} FROM {{queue}} WHERE queue = %s AND item_id = %s"),
            (queue, item_id)).fetchone())

    def q_first_ready(self, queue: str) -> Entry | None:
        return self._entry(self._conn.execute(self._q(
            f"SELECT {self._COLS} FROM {{queue}} WHERE queue = %s AND token IS NULL "
            "ORDER BY item_id LIMIT 1"), (queue,)).fetchone())

    def q_remove(self, queue: str, item_id: int) -> None:
        self._conn.execute(self._q("DELETE FROM {queue} WHERE queue = %s AND item_id = %s"),
                           (queue, item_id))

    def q_expired(self, now_ms: int) -> list[Entry]:
        rows = self._conn.execute(self._q(
            f"SELECT {self._COLS} FROM {{queue}} WHERE token IS NOT NULL AND deadline_ms <= %s "
            "ORDER BY deadline_ms"), (now_ms,)).fetchall()
        return [e for e in map(self._entry, rows) if e is not None]

    def q_next_deadline(self) -> int | None:
        got = self._conn.execute(self._q(
            "SELECT min(deadline_ms) FROM {queue} WHERE token IS NOT NULL")).fetchone()
        return None if got is None or got[0] is None else int(got[0])


class PostgresEngine:
    """Tables in one schema of one database; the schema is created on first use."""

    def __init__(self, dsn: str, schema: str = "gaiwan", pool_size: int = 4) -> None:
        if not _SCHEMA_NAME.match(schema):
            raise ConfigError(f"[storage] schema {schema!r} is not a plain lower-case identifier")
        self._dsn = dsn
        self._names: dict[str, sql.Composable] = {
            "kv": sql.Identifier(schema, "kv"),
            "seq": sql.Identifier(schema, "seq"),
            "seq_name": sql.SQL(f"{schema}.seq"),
            "queue": sql.Identifier(schema, "queue"),
            "ready_idx": sql.Identifier("queue_ready"),
            "lease_idx": sql.Identifier("queue_leases"),
        }
        self._idle: _queue.LifoQueue[psycopg.Connection] = _queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(pool_size)
        self._closed = False
        conn = self._connect()
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (schema,))
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
                conn.execute(sql.SQL(_DDL).format(**self._names))
        except psycopg.Error:
            conn.close()
            raise
        self._idle.put(conn)

    def _connect(self) -> psycopg.Connection:
        try:
            conn = psycopg.connect(self._dsn, autocommit=True)
        except psycopg.OperationalError:
            # The driver's message can quote the DSN, which may carry a password.
            raise Unavailable("cannot reach the storage database") from None
        conn.isolation_level = psycopg.IsolationLevel.SERIALIZABLE
        return conn

    def run(self, fn: Callable[[_PgTxn], T], write: bool) -> T:
        if self._closed:
            raise Unavailable("storage is shutting down")
        with self._slots:
            try:
                conn = self._idle.get_nowait()
            except _queue.Empty:
                conn = self._connect()
            try:
                result = self._attempt(conn, fn, write)
            except psycopg.OperationalError:
                conn.close()
                raise Unavailable("lost the connection to the storage database") from None
            except BaseException:
                if conn.broken:
                    conn.close()
                else:
                    self._idle.put(conn)
                raise
            self._idle.put(conn)
            return result

    def _attempt(self, conn: psycopg.Connection, fn: Callable[[_PgTxn], T], write: bool) -> T:
        for attempt in range(_RETRIES):
            try:
                with conn.transaction():
                    if not write:
                        conn.execute("SET TRANSACTION READ ONLY")
                    return fn(_PgTxn(conn, self._names))
            except (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected):
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))  # jitter apart, then re-run
        raise Unavailable("storage is too contended; retry")

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except _queue.Empty:
                return
