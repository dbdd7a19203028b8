"""Tests of `gaiwan attest` against in-process public, internal and attestation endpoints."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from gaiwan.attestation import establish_identity
from gaiwan.attestation.enclave_info import parse, render
from gaiwan.attestation.pki import publish_enclave_info
from gaiwan.cli import main
from gaiwan.cli.init_cmd import free_ports
from gaiwan.config import Config
from gaiwan.logs import get_logger
from gaiwan.rpc.server import internal_server, public_server
from gaiwan.services.attestation import build_server

LOG = get_logger("test")


@pytest.fixture
def platform(config: Config) -> Iterator[Config]:
    """Attestation, frontend's public endpoint and storage's internal endpoint, in process."""
    ports = free_ports(3)
    for name, port in zip(("attestation", "frontend_api", "storage"), ports):
        config.doc["endpoints"][name] = f"127.0.0.1:{port}"
    config.save()
    attestation, _ = build_server(config, LOG)
    attestation.start()
    frontend, _ = public_server(establish_identity(config, "frontend", LOG),
                                config.listen_address("frontend_api"), [], LOG)
    storage, _ = internal_server(establish_identity(config, "storage", LOG),
                                 config.listen_address("storage"), ["frontend"], [], LOG)
    frontend.start()
    storage.start()
    yield config
    for server in (frontend, storage, attestation):
        server.stop(grace=None).wait(5)


def _attest(config: Config, endpoint: str, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["attest", config.target(endpoint), "--home",
                                       str(config.home.root), *extra])
    return result.exit_code, result.output


def test_public_endpoint_claims(platform: Config) -> None:
    """A public endpoint shows its service, evidence, mode, measurements, status, age and auditors."""
    code, out = _attest(platform, "frontend_api")
    assert code == 0, out
    for text in ("verified", "RA-TLS", "service", "frontend", "evidence type", "simulated",
                 "mode", "development", "mr_enclave", "UpToDate (OK)", "age", "auditors", "local"):
        assert text in out


def test_internal_endpoint_claims(platform: Config) -> None:
    """An internal endpoint shows the mesh certificate's role, measurement and evidence type."""
    code, out = _attest(platform, "storage")
    assert code == 0, out
    assert "mesh certificate" in out and "storage" in out and "simulated" in out


def test_attestation_endpoint_claims(platform: Config) -> None:
    """The attestation endpoint is recognised by its server certificate from the AS root CA."""
    code, out = _attest(platform, "attestation")
    assert code == 0, out
    assert "attestation server certificate" in out


def test_wrong_service_says_why(platform: Config) -> None:
    """Asking for another service fails with the measurement mismatch, exit status 1."""
    code, out = _attest(platform, "frontend_api", "--service", "authentication")
    assert code == 1
    assert "verification failed: mr_enclave" in out and "of authentication is not the one" in out


def test_revoked_measurement_shows_at_once(platform: Config) -> None:
    """After auditors drop storage's measurement, its live mesh certificate no longer verifies."""
    tables = parse(platform.home.enclave_info.read_bytes()).tables
    measurements = {name.removeprefix("teaclave_").removesuffix("_service"):
                    (m.mr_enclave, m.mr_signer) for name, m in tables.items()}
    measurements["storage"] = (b"\x00" * 32, measurements["storage"][1])
    publish_enclave_info(platform, render(measurements))
    code, out = _attest(platform, "storage")
    assert code == 1 and "enclave_info no longer lists" in out


def test_unreachable_endpoint(config: Config) -> None:
    """No server: one line saying the endpoint cannot be reached."""
    code, out = _attest(config, "frontend_api")
    assert code == 1 and "cannot reach" in out


def test_status_line_names_the_advisories() -> None:
    """What `gaiwan attest` prints as status carries the report's advisory ids, when any."""
    from gaiwan.attestation.endpoint import _status
    from gaiwan.attestation.quote import QuoteBody
    from gaiwan.attestation.report import ReportClaims

    body = QuoteBody(mr_enclave=bytes(32), mr_signer=bytes(32), report_data=bytes(64))
    plain = ReportClaims("1", "2026-11-30T00:00:00.000000", 4, "OK", body)
    assert _status(plain) == "UpToDate (OK)"
    affected = ReportClaims("1", "2026-11-30T00:00:00.000000", 4, "SW_HARDENING_NEEDED", body,
                            advisory_ids=("INTEL-SA-00334", "INTEL-SA-00615"))
    assert _status(affected) == \
        "SWHardeningNeeded (SW_HARDENING_NEEDED), advisories INTEL-SA-00334, INTEL-SA-00615"
