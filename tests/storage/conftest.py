"""Fixtures: a Store over each real engine (LMDB in a temp dir, PostgreSQL in a throwaway schema)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from gaiwan.storage._engine import Engine
from gaiwan.storage._lmdb import LmdbEngine
from gaiwan.storage._postgres import PostgresEngine
from gaiwan.storage.store import Store

PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
SEAL_KEY = bytes(range(32))


@pytest.fixture(params=["lmdb", "postgres"])
def engine_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def pg_schema() -> Iterator[str]:
    schema = f"gaiwan_test_{secrets.token_hex(6)}"
    yield schema
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def open_engine(engine_kind: str, tmp_path: Path,
                request: pytest.FixtureRequest) -> Callable[[], Engine]:
    """Opens (or reopens) the same underlying database each time it is called."""
    if engine_kind == "lmdb":
        return lambda: LmdbEngine(tmp_path / "lmdb", map_size_mb=16)
    schema = request.getfixturevalue("pg_schema")
    return lambda: PostgresEngine(PG_DSN, schema, pool_size=4)


@pytest.fixture
def open_store(open_engine: Callable[[], Engine]) -> Iterator[Callable[[], Store]]:
    opened: list[Store] = []

    def make() -> Store:
        opened.append(Store(open_engine(), SEAL_KEY))
        return opened[-1]

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Callable[[], Store]) -> Store:
    return open_store()
