"""The storage service: one Store (sealed, on the configured engine) served over the mesh."""

from __future__ import annotations

from ...storage.engines import open_engine
from ...storage.store import Store
from ..runtime import ServiceRuntime
from ._servicer import Limits, StorageServicer


def main(runtime: ServiceRuntime) -> None:
    from ...attestation import seal_key  # late: the attestation package is heavy to import

    store = Store(open_engine(runtime.config), seal_key(runtime.config, b"storage"))
    runtime.on_stop(store.close)
    runtime.serve_internal(StorageServicer(store, Limits.from_config(runtime.config)).register)
    runtime.log.info("storage ready", engine=runtime.config.section("storage").get("engine", "lmdb"))
