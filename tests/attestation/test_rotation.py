"""Tests of certificate rotation under load and of revocation taking effect at the next renewal."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gaiwan.attestation import establish_identity
from gaiwan.attestation.enclave_info import parse, render
from gaiwan.attestation.pki import publish_enclave_info
from gaiwan.cli.init_cmd import free_ports
from gaiwan.config import Config
from gaiwan.errors import ConfigError
from gaiwan.logs import get_logger
from gaiwan.services.attestation import build_server
from gaiwan.services.runtime import ServiceRuntime

LOG = get_logger("test")
TTL_S = 3


def _runtime(config: Config, service: str) -> ServiceRuntime:
    return ServiceRuntime(config, service, establish_identity(config, service, LOG), LOG,
                          renew=lambda: establish_identity(config, service, LOG))


@pytest.fixture
def mesh(config: Config) -> Iterator[tuple[Config, ServiceRuntime, ServiceRuntime]]:
    """An attestation service issuing 3-second mesh certificates, storage serving, frontend calling."""
    for name, port in zip(("attestation", "storage"), free_ports(2)):
        config.doc["endpoints"][name] = f"127.0.0.1:{port}"
    config.doc["attestation"]["mesh_cert_ttl_s"] = TTL_S
    config.save()
    attestation, _ = build_server(config, LOG)
    attestation.start()
    storage, frontend = _runtime(config, "storage"), _runtime(config, "frontend")
    storage.serve_internal()
    for runtime in (storage, frontend):
        runtime.start_renewal()
    yield config, storage, frontend
    for runtime in (frontend, storage):
        runtime.shutdown()
    attestation.stop(grace=None).wait(5)


def test_calls_survive_rotation(mesh: tuple[Config, ServiceRuntime, ServiceRuntime]) -> None:
    """A stream of calls on a stub built once sees no failure while both ends rotate twice."""
    _, storage, frontend = mesh
    first = (storage.identity.mesh_cert_pem, frontend.identity.mesh_cert_pem)
    stub = health_pb2_grpc.HealthStub(frontend.channels.get("storage"))
    calls, deadline = 0, time.monotonic() + 2.5 * TTL_S * 2 / 3
    while time.monotonic() < deadline:
        assert stub.Check(health_pb2.HealthCheckRequest(), timeout=5).status is not None
        calls += 1
    assert calls > 50
    assert storage.identity.mesh_cert_pem != first[0] and frontend.identity.mesh_cert_pem != first[1]


def test_revoked_measurement_cannot_renew(mesh: tuple[Config, ServiceRuntime, ServiceRuntime]) -> None:
    """Once auditors drop storage's measurement, renewal is refused and storage stops at expiry."""
    config, storage, _ = mesh
    tables = parse(config.home.enclave_info.read_bytes()).tables
    listed = {n.removeprefix("teaclave_").removesuffix("_service"): (m.mr_enclave, m.mr_signer)
              for n, m in tables.items()}
    listed["storage"] = (b"\x00" * 32, listed["storage"][1])
    publish_enclave_info(config, render(listed))
    with pytest.raises(ConfigError, match="storage cannot be attested"):
        establish_identity(config, "storage", LOG)
    assert storage.stop_event.wait(TTL_S + 8), "storage kept running with an expired certificate"

