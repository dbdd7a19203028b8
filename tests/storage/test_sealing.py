"""Sealing at rest: nothing readable reaches an engine, and tampering is caught, not served."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from gaiwan.storage import SealedValueError
from gaiwan.storage._engine import Engine, Row
from gaiwan.storage._lmdb import LmdbEngine
from gaiwan.storage._postgres import PostgresEngine
from gaiwan.storage._sealing import Sealer
from gaiwan.storage.store import Store

from .conftest import PG_DSN, SEAL_KEY

MARKER = b"GAIWAN-PLAINTEXT-MARKER-4242"


def test_seal_roundtrip_uses_fresh_nonces() -> None:
    """The same value seals differently each time and opens back to itself."""
    sealer = Sealer(SEAL_KEY)
    a, b = sealer.seal_value(b"k", MARKER), sealer.seal_value(b"k", MARKER)
    assert a != b and MARKER not in a
    assert sealer.open_value(b"k", a) == MARKER


def test_moved_value_fails_to_open() -> None:
    """A ciphertext under another key, or a queue item read as a value, does not open."""
    sealer = Sealer(SEAL_KEY)
    with pytest.raises(SealedValueError, match="other"):
        sealer.open_value(b"auth/other", sealer.seal_value(b"auth/mine", MARKER))
    with pytest.raises(SealedValueError):
        sealer.open_item("tasks", 2, sealer.seal_item("tasks", 1, MARKER))
    with pytest.raises(SealedValueError):
        sealer.open_value(b"tasks", sealer.seal_item("tasks", 1, MARKER))


def test_foreign_key_and_garbage_fail_to_open() -> None:
    """Values sealed under another platform's key, or not sealed at all, raise."""
    sealed = Sealer(os.urandom(32)).seal_value(b"k", MARKER)
    with pytest.raises(SealedValueError, match="k"):
        Sealer(SEAL_KEY).open_value(b"k", sealed)
    with pytest.raises(SealedValueError):
        Sealer(SEAL_KEY).open_value(b"k", b"short")
    with pytest.raises(ValueError):
        Sealer(b"too short")


def test_sealer_repr_hides_the_key() -> None:
    """The key never shows up in a repr (and so in a log or traceback)."""
    assert SEAL_KEY.hex() not in repr(Sealer(SEAL_KEY)) and "hidden" in repr(Sealer(SEAL_KEY))


def test_tampered_row_raises_naming_the_key(store: Store) -> None:
    """A flipped bit on disk, or a value copied to another key, raises instead of returning data."""
    store.transact(writes={b"data/a": MARKER, b"data/b": b"other"})
    engine: Engine = store._engine  # the raw engine, below sealing, as an attacker on disk sees it
    row = engine.run(lambda t: t.get(b"data/a"), write=False)
    assert row is not None
    flipped = row.sealed[:-1] + bytes([row.sealed[-1] ^ 1])
    engine.run(lambda t: t.put(Row(b"data/a", row.version, flipped)), write=True)
    engine.run(lambda t: t.put(Row(b"data/b", row.version, row.sealed)), write=True)
    for key in (b"data/a", b"data/b"):
        with pytest.raises(SealedValueError, match=key.decode()):
            store.get(key)
    with pytest.raises(SealedValueError):
        store.scan(b"data/")


def _write_marked(store: Store) -> None:
    store.transact(writes={b"auth/user": MARKER}, enqueue=[("tasks", MARKER)])
    store.transact(writes={b"auth/old": MARKER})
    store.transact(writes={b"auth/old": None})


def test_no_plaintext_in_lmdb_files(tmp_path: Path) -> None:
    """After writes, enqueues and deletes the marker appears nowhere in the LMDB directory."""
    store = Store(LmdbEngine(tmp_path / "db", 8), SEAL_KEY)
    _write_marked(store)
    store.close()
    files = list((tmp_path / "db").iterdir())
    assert files
    for path in files:
        assert MARKER not in path.read_bytes(), path.name
        assert SEAL_KEY not in path.read_bytes()


def test_no_plaintext_in_postgres_rows(pg_schema: str) -> None:
    """Every bytea column in every table holds only sealed bytes."""
    store = Store(PostgresEngine(PG_DSN, pg_schema), SEAL_KEY)
    _write_marked(store)
    store.close()
    with psycopg.connect(PG_DSN) as conn:
        for table in ("kv", "queue"):
            rows = conn.execute(sql.SQL("SELECT * FROM {}").format(
                sql.Identifier(pg_schema, table))).fetchall()
            assert rows
            for row in rows:
                for col in row:
                    if isinstance(col, bytes | str):
                        text = col.encode() if isinstance(col, str) else col
                        assert MARKER not in text and SEAL_KEY not in text


def test_item_sealed_with_its_read_keys() -> None:
    """An item named to be read with records keeps those keys inside the seal: they open with
    it, are not readable at rest, and the item still cannot be moved; an item without them opens
    with none."""
    sealer = Sealer(SEAL_KEY)
    keys = (b"task/" + MARKER, b"fn/f", b"")
    sealed = sealer.seal_item("tasks", 1, MARKER, keys)
    assert MARKER not in sealed
    assert sealer.open_item("tasks", 1, sealed) == (MARKER, keys)
    assert sealer.open_item("tasks", 1, sealer.seal_item("tasks", 1, MARKER)) == (MARKER, ())
    with pytest.raises(SealedValueError):
        sealer.open_item("tasks", 2, sealed)
    with pytest.raises(SealedValueError):
        sealer.open_value(b"tasks", sealed)
