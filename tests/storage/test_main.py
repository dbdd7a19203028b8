"""The storage service's entry point on a real ServiceRuntime: serves, then stops cleanly."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import pytest

import gaiwan.attestation
from gaiwan.config import Config, default_document
from gaiwan.errors import Unavailable
from gaiwan.home import Home
from gaiwan.logs import get_logger
from gaiwan.rpc.channels import mesh_channel
from gaiwan.services import storage as storage_service
from gaiwan.services.runtime import ServiceRuntime
from gaiwan.storage import StorageClient
from gaiwan.storage._lmdb import LmdbEngine

from .conftest import SEAL_KEY
from .mesh import MeshCA


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_main_serves_and_closes_the_store_on_stop(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """main() serves sealed storage on the configured endpoint; shutdown releases the LMDB env."""
    # The sealing key normally derives from the platform secret `gaiwan init` writes; a fixed key
    # stands in so this test needs no initialised platform.
    monkeypatch.setattr(gaiwan.attestation, "seal_key", lambda config, label: SEAL_KEY)
    doc = default_document(ports={"storage": _free_port()})
    doc["storage"]["map_size_mb"] = 8
    config = Config(Home(tmp_path), doc)
    ca = MeshCA()
    runtime = ServiceRuntime(config, "storage", ca.identity("storage"), get_logger("storage"))
    storage_service.main(runtime)
    with mesh_channel(ca.identity("management"), config.target("storage"), "storage") as ch:
        client = StorageClient(ch, timeout_s=5)
        version = client.put(b"task/1", b"kept")
        handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
        runtime.stop_event.set()
        try:
            assert runtime.run_until_stopped() == 0
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
        with pytest.raises(Unavailable):
            client.get(b"task/1")
    engine = LmdbEngine(tmp_path / "storage", 8)  # fails if the service left its env open
    try:
        row = engine.run(lambda t: t.get(b"task/1"), write=False)
        assert row is not None and row.version == version and b"kept" not in row.sealed
    finally:
        engine.close()
