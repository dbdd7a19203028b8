"""Tests of the attestation service over real gRPC and TLS, and of establish_identity against it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gaiwan.attestation import establish_identity, verify_ra_tls_certificate
from gaiwan.attestation.enclave_info import parse
from gaiwan.attestation.establish import attestation_channel, request_attestation
from gaiwan.attestation.mesh import measurement_of
from gaiwan.attestation.verifier import Authority
from gaiwan.cli.init_cmd import free_ports
from gaiwan.config import Config
from gaiwan.errors import AttestationError, ConfigError, Unavailable
from gaiwan.logs import get_logger
from gaiwan.rpc.pb import gaiwan_attestation_pb2 as pb
from gaiwan.rpc.pb import gaiwan_attestation_pb2_grpc as pb_grpc
from gaiwan.services.attestation import build_server

from .helpers import evidence_for, other_root, spki

LOG = get_logger("test")


@pytest.fixture
def served(config: Config) -> Iterator[Config]:
    """The attestation service of a private platform copy, on a fresh port."""
    config.doc["endpoints"]["attestation"] = f"127.0.0.1:{free_ports(1)[0]}"
    config.save()
    server, _ = build_server(config, LOG)
    server.start()
    yield config
    server.stop(grace=None).wait(5)


def _attest(config: Config, **fields: object) -> pb.AttestResponse:
    key = ec.generate_private_key(ec.SECP256R1())
    request = dict(service="storage", evidence_type="simulated",
                   evidence=evidence_for(config, "storage", key), public_key=spki(key))
    request.update(fields)
    with attestation_channel(config) as channel:
        return pb_grpc.GaiwanAttestationStub(channel).Attest(pb.AttestRequest(**request), timeout=10)


def _refused(config: Config, reason: str, **fields: object) -> None:
    with pytest.raises(grpc.RpcError) as info:
        _attest(config, **fields)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert reason in info.value.details()


def test_service_identity_over_grpc(served: Config) -> None:
    """establish_identity gets a mesh certificate and an RA-TLS certificate a client accepts."""
    identity = establish_identity(served, "storage", LOG)
    assert identity.role == "storage"
    mesh = x509.load_pem_x509_certificate(identity.mesh_cert_pem)
    assert measurement_of(mesh) == identity.measurement
    key = serialization.load_pem_private_key(identity.key_pem, None)
    assert mesh.public_key() == key.public_key()
    ra_tls = x509.load_pem_x509_certificate(identity.ra_tls_cert_pem)
    claims = verify_ra_tls_certificate(
        ra_tls.public_bytes(serialization.Encoding.DER), served.home.as_root_ca_cert.read_bytes(),
        parse(served.home.enclave_info.read_bytes()), "storage")
    assert claims.quote.mr_enclave.hex() == identity.measurement


def test_attestation_service_attests_itself(config: Config) -> None:
    """The attestation service certifies its own key locally, with the same checks."""
    identity = establish_identity(config, "attestation", LOG)
    assert identity.role == "attestation" and identity.ra_tls_cert_pem


def test_quote_from_another_hardware_key_is_refused(served: Config) -> None:
    """Evidence signed by a key other than the platform's TEE key gets PERMISSION_DENIED."""
    key = ec.generate_private_key(ec.SECP256R1())
    forged = evidence_for(served, "storage", key, hardware=ec.generate_private_key(ec.SECP256R1()))
    _refused(served, "does not verify with the TEE hardware key", evidence=forged,
             public_key=spki(key))


def test_measurement_not_in_enclave_info_is_refused(served: Config) -> None:
    """A quote with an unlisted MRENCLAVE gets no report and no mesh certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    evidence = evidence_for(served, "storage", key, enclave=b"\x66" * 32)
    _refused(served, "mr_enclave " + "66" * 32 + " of storage is not the one in enclave_info",
             evidence=evidence, public_key=spki(key))


def test_other_services_measurement_is_refused(served: Config) -> None:
    """Storage's genuine evidence does not buy a management certificate."""
    _refused(served, "of management is not the one in enclave_info", service="management")


def test_unknown_evidence_type_is_refused(served: Config) -> None:
    """Only evidence types the service can verify are accepted."""
    _refused(served, "unknown evidence type 'sgx-epid'", evidence_type="sgx-epid")


def test_report_data_must_bind_the_key(served: Config) -> None:
    """Evidence for one key cannot certify another key."""
    _refused(served, "REPORTDATA of the quote is not the public key",
             public_key=spki(ec.generate_private_key(ec.SECP256R1())))


@pytest.mark.parametrize(("fields", "reason"), [
    ({"public_key": b"junk"}, "not a DER SubjectPublicKeyInfo"),
    ({"service": "nosuch"}, "unknown service 'nosuch'"),
    ({"evidence": b"\x00" * 40}, "too short"),
])
def test_malformed_requests_are_refused(served: Config, fields: dict[str, object],
                                        reason: str) -> None:
    """Garbage in any field is a refusal with its reason, and the service stays up."""
    _refused(served, reason, **fields)
    assert _attest(served).mesh_certificate


def test_tampered_enclave_info_is_refused(served: Config) -> None:
    """If enclave_info changes after the auditors signed it, nothing is attested."""
    path = served.home.enclave_info
    path.write_bytes(path.read_bytes() + b"\n")
    _refused(served, "signature of auditor 'local' does not verify")


def test_undecodable_request_is_invalid_argument(served: Config) -> None:
    """Bytes that are not an AttestRequest get INVALID_ARGUMENT, not INTERNAL."""
    with attestation_channel(served) as channel:
        call = channel.unary_unary("/gaiwan_attestation_proto.GaiwanAttestation/Attest")
        with pytest.raises(grpc.RpcError) as info:
            call(b"\xff\xff\xff", timeout=10)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_server_is_authenticated_by_the_as_root(served: Config) -> None:
    """A client trusting another root CA cannot complete the TLS handshake."""
    other = ec.generate_private_key(ec.SECP256R1())
    _, root, _, _ = other_root()
    creds = grpc.ssl_channel_credentials(root.public_bytes(serialization.Encoding.PEM))
    options = [("grpc.ssl_target_name_override", "attestation.gaiwan")]
    with grpc.secure_channel(served.target("attestation"), creds, options=options) as channel:
        with pytest.raises(grpc.RpcError) as info:
            pb_grpc.GaiwanAttestationStub(channel).Attest(
                pb.AttestRequest(service="storage", public_key=spki(other)), timeout=5)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE


def test_production_mode_refuses_simulated_evidence(config: Config) -> None:
    """A production platform does not accept simulated evidence, locally or at the service."""
    prod = replace(config, doc={**config.doc, "platform": {"mode": "production"}})
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(AttestationError, match="simulated evidence is refused in production mode"):
        Authority.load(prod).attest("storage", "simulated", evidence_for(prod, "storage", key),
                                    spki(key))
    with pytest.raises(ConfigError, match="refused in production mode"):
        establish_identity(prod, "storage", LOG)


def test_unlisted_service_fails_fast_with_advice(config: Config) -> None:
    """A measurement not in enclave_info stops the service before any call, saying what to run."""
    changed = replace(config, doc={**config.doc,
                                   "inbound": {**config.doc["inbound"], "storage": ["frontend"]}})
    with pytest.raises(ConfigError, match="run `gaiwan enclave-info refresh`") as info:
        establish_identity(changed, "storage", LOG)
    assert "mr_enclave" in info.value.message


def test_unavailable_service_is_retried_then_reported(config: Config) -> None:
    """With nobody listening, Attest is retried until the deadline, then Unavailable."""
    config.doc["endpoints"]["attestation"] = f"127.0.0.1:{free_ports(1)[0]}"
    start = time.monotonic()
    with pytest.raises(Unavailable, match="unavailable after"):
        request_attestation(config, pb.AttestRequest(service="storage"), LOG, timeout_s=1.0)
    assert 0.5 <= time.monotonic() - start < 5


def test_refusal_is_not_retried(served: Config) -> None:
    """PERMISSION_DENIED comes back at once as AttestationError."""
    start = time.monotonic()
    with pytest.raises(AttestationError, match="attestation refused: unknown evidence type"):
        request_attestation(served, pb.AttestRequest(service="storage", evidence_type="x"), LOG)
    assert time.monotonic() - start < 2
