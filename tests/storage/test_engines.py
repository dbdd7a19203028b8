"""What both engines must keep across a close and reopen, and how they are chosen from config."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gaiwan.config import Config, default_document
from gaiwan.errors import ConfigError
from gaiwan.home import Home
from gaiwan.storage import open_engine
from gaiwan.storage._lmdb import LmdbEngine
from gaiwan.storage._postgres import PostgresEngine
from gaiwan.storage.store import Store


def test_values_and_versions_survive_reopen(open_store: Callable[[], Store]) -> None:
    """Values and versions persist, and the sequence continues past every version handed out."""
    store = open_store()
    (v,) = store.transact(writes={b"fn/a": b"kept"}).versions or [0]
    store.transact(writes={b"fn/gone": b"x"})
    store.transact(writes={b"fn/gone": None})
    store.close()
    store = open_store()
    got = store.get(b"fn/a")
    assert got is not None and (got.value, got.version) == (b"kept", v)
    assert store.get(b"fn/gone") is None
    (v2,) = store.transact(writes={b"fn/b": b"new"}).versions or [0]
    assert v2 > v + 1


def _config(tmp_path: Path, storage: dict[str, object]) -> Config:
    doc = default_document()
    doc["storage"] = storage
    return Config(Home(tmp_path), doc)


def test_config_selects_lmdb_by_default(tmp_path: Path) -> None:
    """Without an engine setting the store is LMDB under home/storage."""
    engine = open_engine(_config(tmp_path, {"map_size_mb": 8}))
    try:
        assert isinstance(engine, LmdbEngine) and (tmp_path / "storage" / "data.mdb").exists()
    finally:
        engine.close()


def test_config_selects_postgres(tmp_path: Path, pg_schema: str) -> None:
    """engine = "postgres" with a dsn and schema opens PostgreSQL."""
    from .conftest import PG_DSN

    engine = open_engine(_config(tmp_path, {"engine": "postgres", "dsn": PG_DSN,
                                            "schema": pg_schema}))
    try:
        assert isinstance(engine, PostgresEngine)
    finally:
        engine.close()


@pytest.mark.parametrize("storage", [
    {"engine": "redis"},
    {"engine": "postgres"},
    {"engine": "postgres", "dsn": "host=127.0.0.1", "schema": "Robert'); DROP TABLE x;--"},
])
def test_bad_engine_config_is_a_config_error(tmp_path: Path, storage: dict[str, object]) -> None:
    """Unknown engines, a missing dsn and unsafe schema names are refused before any I/O."""
    with pytest.raises(ConfigError):
        open_engine(_config(tmp_path, storage))


def test_unreachable_database_does_not_leak_the_dsn() -> None:
    """A connection failure says Unavailable without quoting the DSN (it may hold a password)."""
    from gaiwan.errors import Unavailable

    with pytest.raises(Unavailable) as info:
        PostgresEngine("host=127.0.0.1 port=1 user=postgres password=hunter2 connect_timeout=2")
    assert "hunter2" not in str(info.value)
