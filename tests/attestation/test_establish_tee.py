"""establish_identity on a real-TEE backend: Gramine's /dev/attestation faked on files, answering
with builders' quotes, verified by an attestation service configured with the test root."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from gaiwan.attestation import bound_inputs, establish_identity, verify_ra_tls_certificate
from gaiwan.attestation.backends import GramineSgx
from gaiwan.attestation.enclave_info import parse
from gaiwan.attestation.establish import evidence_backend
from gaiwan.attestation.mesh import measurement_of
from gaiwan.cli.init_cmd import free_ports
from gaiwan.config import Config
from gaiwan.errors import ConfigError
from gaiwan.logs import get_logger
from gaiwan.services.attestation import build_server
from tests.attestation.dcap_builders import Pki
from tests.attestation.dcap_platform import (
    MR_ENCLAVE,
    DcapPlatform,
    enclave_info_text,
    sgx_quote,
    write_enclave_info,
)
from tests.attestation.helpers import bound_env, with_backend
from tests.attestation.test_backends import FakeGramine

LOG = get_logger("test")


class QuotingGramine(FakeGramine):
    """/dev/attestation whose `quote` is a DCAP quote (from the test PKI) over the report data."""

    def __init__(self, root: Path, pki: Pki, mr_enclave: bytes = MR_ENCLAVE) -> None:
        super().__init__(root)
        self.pki = pki
        self.mr_enclave = mr_enclave

    def write(self, path: Path, data: bytes) -> None:
        super().write(path, data)
        if path.name == "user_report_data":
            quote = sgx_quote(self.pki, None, report_data=data,  # type: ignore[arg-type]
                              mr_enclave=self.mr_enclave)
            path.with_name("quote").write_bytes(quote)


def bind(monkeypatch: pytest.MonkeyPatch, config: Config, *services: str) -> None:
    """This process runs `services` from manifests binding the data directory as it is now."""
    monkeypatch.setenv(bound_inputs.ENV, bound_env(config, *services))


@pytest.fixture
def tee(config: Config, tmp_path: Path) -> tuple[Config, GramineSgx]:
    """A gramine-sgx platform listing the builders' enclave for every service, with collateral
    current today, and a fake Gramine answering with quotes of that enclave."""
    with_backend(config)
    text = "\n".join(enclave_info_text(sgx_service=s, td_service="execution").split("\n\n")[0]
                     for s in ("attestation", "storage"))
    write_enclave_info(config, text + "\n")
    pki = Pki(now=datetime.now(timezone.utc))
    DcapPlatform(config, pki).write()
    root = tmp_path / "dev-attestation"
    return config, GramineSgx(root, QuotingGramine(root, pki))


def test_attestation_service_attests_itself_with_a_dcap_quote(tee: tuple[Config, GramineSgx],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The attestation service's own identity comes from its Gramine quote, verified locally."""
    config, backend = tee
    bind(monkeypatch, config, "attestation")
    identity = establish_identity(config, "attestation", LOG, backend=backend)
    mesh = x509.load_pem_x509_certificate(identity.mesh_cert_pem)
    assert measurement_of(mesh) == MR_ENCLAVE.hex() == identity.measurement
    uris = mesh.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "gaiwan:evidence:sgx-dcap" in [str(u.value) for u in uris]


@pytest.fixture
def served(tee: tuple[Config, GramineSgx]) -> Iterator[tuple[Config, GramineSgx]]:
    config, backend = tee
    config.doc["endpoints"]["attestation"] = f"127.0.0.1:{free_ports(1)[0]}"
    config.save()
    server, _ = build_server(config, LOG)
    server.start()
    yield config, backend
    server.stop(grace=None).wait(5)


def test_service_identity_from_gramine_over_grpc(served: tuple[Config, GramineSgx],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A service's Gramine quote is verified by the attestation service; clients accept its
    RA-TLS certificate, which reports the enclave's measurement and status."""
    config, backend = served
    bind(monkeypatch, config, "attestation", "storage")
    identity = establish_identity(config, "storage", LOG, backend=backend)
    ra_tls = x509.load_pem_x509_certificate(identity.ra_tls_cert_pem)
    claims = verify_ra_tls_certificate(
        ra_tls.public_bytes(serialization.Encoding.DER), config.home.as_root_ca_cert.read_bytes(),
        parse(config.home.enclave_info.read_bytes()), "storage")
    assert claims.quote.mr_enclave == MR_ENCLAVE
    assert (claims.evidence_type, claims.tcb_status) == ("sgx-dcap", "UpToDate")


def test_unlisted_enclave_fails_fast(tee: tuple[Config, GramineSgx], tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A quote of an enclave not in enclave_info stops the service before any call."""
    config, _ = tee
    bind(monkeypatch, config, "storage")
    root = tmp_path / "other"
    other = GramineSgx(root, QuotingGramine(root, Pki(), mr_enclave=b"\x13" * 32))
    with pytest.raises(ConfigError, match="storage cannot be attested: mr_enclave 1313"):
        establish_identity(config, "storage", LOG, backend=other)


def test_no_gramine_stops_the_service(tee: tuple[Config, GramineSgx], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside Gramine, the gramine-sgx backend cannot quote: ConfigError with the reason."""
    config, _ = tee
    bind(monkeypatch, config, "storage")
    with pytest.raises(ConfigError, match="storage cannot be attested: .* not running under "
                                          "Gramine-SGX"):
        establish_identity(config, "storage", LOG, backend=GramineSgx(tmp_path / "absent"))


def test_backend_follows_the_configuration(tee: tuple[Config, GramineSgx]) -> None:
    """`[attestation] backend` picks the backend; simulated means none."""
    config, _ = tee
    assert isinstance(evidence_backend(config), GramineSgx)
    config.doc["attestation"]["backend"] = "simulated"
    assert evidence_backend(config) is None


def test_settings_edited_after_signing_stop_the_service(tee: tuple[Config, GramineSgx],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A host that admits another caller in gaiwan.toml after the manifest was signed gets a
    service that refuses to attest, before it asks the TEE for anything."""
    config, backend = tee
    bind(monkeypatch, config, "storage")
    config.doc["inbound"]["storage"].append("intruder")
    with pytest.raises(ConfigError, match="security settings of gaiwan.toml: digest differs"):
        establish_identity(config, "storage", LOG, backend=GramineSgx(Path("/nonexistent")))


def test_a_swapped_attestation_root_is_refused(served: tuple[Config, GramineSgx],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A host that replaces client/as_root_ca_cert.pem (to send the service to an attestation
    service of its own) gets a refusal naming the file, not a connection."""
    config, backend = served
    bind(monkeypatch, config, "attestation", "storage")
    root = config.home.as_root_ca_cert
    root.write_bytes(Pki().root_pem)
    with pytest.raises(ConfigError, match="as_root_ca_cert.pem: digest differs"):
        establish_identity(config, "storage", LOG, backend=backend)
