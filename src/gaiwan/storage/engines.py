"""Choosing and opening the engine named in the configuration's [storage] section."""

from __future__ import annotations

from ..config import Config
from ..errors import ConfigError
from ._engine import Engine


def open_engine(config: Config) -> Engine:
    """lmdb (default): an environment at home/storage, [storage] map_size_mb big.
    postgres: [storage] dsn (required), schema (default "gaiwan"), pool_size (default 4)."""
    section = config.section("storage")
    kind = section.get("engine", "lmdb")
    if kind == "lmdb":
        from ._lmdb import LmdbEngine

        return LmdbEngine(config.home.storage, int(section.get("map_size_mb", 1024)))
    if kind == "postgres":
        from ._postgres import PostgresEngine

        dsn = section.get("dsn")
        if not dsn:
            raise ConfigError("[storage] engine = \"postgres\" needs dsn = \"...\"")
        return PostgresEngine(str(dsn), str(section.get("schema", "gaiwan")),
                              int(section.get("pool_size", 4)))
    raise ConfigError(f"[storage] engine {kind!r} is not one of: lmdb, postgres")
