"""Calls between services over real mutual TLS: a peer that is not up yet, or restarts, delays a
call with a deadline instead of failing it."""

from __future__ import annotations

import threading
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gaiwan.attestation import establish_identity
from gaiwan.cli.init_cmd import free_ports
from gaiwan.config import Config
from gaiwan.logs import get_logger
from gaiwan.services.attestation import build_server
from gaiwan.services.runtime import ServiceRuntime

LOG = get_logger("test")


def test_a_call_with_a_deadline_waits_for_a_peer_that_starts_late(config: Config) -> None:
    """Services start together: the caller's first attempt finds nothing listening, and grpcio
    then fails calls at once while it backs off. A call with a deadline waits for the peer."""
    for name, port in zip(("attestation", "storage"), free_ports(2)):
        config.doc["endpoints"][name] = f"127.0.0.1:{port}"
    config.save()
    attestation, _ = build_server(config, LOG)
    attestation.start()
    storage = ServiceRuntime(config, "storage", establish_identity(config, "storage", LOG), LOG)
    frontend = ServiceRuntime(config, "frontend", establish_identity(config, "frontend", LOG), LOG)
    try:
        stub = health_pb2_grpc.HealthStub(frontend.channels.get("storage"))
        with pytest.raises(grpc.RpcError):  # nothing listens yet: the channel starts backing off
            stub.Check(health_pb2.HealthCheckRequest(), timeout=0.3)
        starter = threading.Timer(0.3, storage.serve_internal)
        started = time.monotonic()
        starter.start()
        assert stub.Check(health_pb2.HealthCheckRequest(), timeout=5).status is not None
        assert time.monotonic() - started >= 0.3
        starter.join()
    finally:
        frontend.shutdown()
        storage.shutdown()
        attestation.stop(grace=None).wait(5)
