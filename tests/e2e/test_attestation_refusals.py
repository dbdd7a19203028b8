"""End to end: clients, the attestation service and internal endpoints refuse what is not attested.

Client-side cases tamper with a copy of the platform's client files (enclave_info, auditor
signature, root CA) and show the SDK refuses to connect before any request is sent. Server-side
cases use the platform's own key material from <home>/keys, the way an attacker holding the
simulated hardware or a mesh certificate for the wrong role would.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gaiwan.attestation import enclave_info
from gaiwan.attestation.establish import attestation_channel
from gaiwan.attestation.keystore import (KeyFiles, LOCAL_AUDITOR, auditor_signature_path, cert_pem,
                                         load_cert, load_private_key, private_key_pem)
from gaiwan.attestation.measurement import mr_enclave
from gaiwan.attestation.mesh import issue_mesh_certificate
from gaiwan.client import AttestationError, AuthenticationService, FrontendService
from gaiwan.config import Config
from gaiwan.home import Home
from gaiwan.rpc.channels import mesh_channel
from gaiwan.rpc.identity import ServiceIdentity
from gaiwan.rpc.pb import (gaiwan_attestation_pb2, gaiwan_attestation_pb2_grpc,
                           gaiwan_management_pb2_grpc, gaiwan_storage_pb2,
                           gaiwan_storage_pb2_grpc, teaclave_frontend_service_pb2)
from tests.attestation.helpers import evidence_for, other_root, spki
from tests.support.platform import SHARED, Platform

pytestmark = [pytest.mark.platform, pytest.mark.xdist_group(SHARED)]


# -- clients: tampered copies of <home>/client ------------------------------------------------

def _client_copy(platform: Platform, tmp_path: Path) -> Home:
    """The platform's client files in a directory of their own (a Home has the same layout)."""
    shutil.copytree(platform.home.client, tmp_path / "client")
    return Home(tmp_path)


def _auditor_key(platform: Platform) -> rsa.RSAPrivateKey:
    key = load_private_key(KeyFiles(platform.home).auditor_key(LOCAL_AUDITOR))
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _other_frontend_measurement(platform: Platform, client: Home) -> None:
    """Lists another mr_enclave for the frontend and re-signs, so only the measurement is wrong."""
    text = client.enclave_info.read_text()
    want = enclave_info.parse(text.encode()).expect("frontend").mr_enclave.hex()
    other = bytes(b ^ 0xFF for b in bytes.fromhex(want)).hex()
    content = text.replace(want, other).encode()
    client.enclave_info.write_bytes(content)
    auditor_signature_path(client, LOCAL_AUDITOR).write_bytes(
        enclave_info.sign(content, _auditor_key(platform)))


def _signature_missing(platform: Platform, client: Home) -> None:
    auditor_signature_path(client, LOCAL_AUDITOR).unlink()


def _signature_over_other_bytes(platform: Platform, client: Home) -> None:
    auditor_signature_path(client, LOCAL_AUDITOR).write_bytes(
        enclave_info.sign(b"[teaclave_frontend_service]\n", _auditor_key(platform)))


def _another_root_ca(platform: Platform, client: Home) -> None:
    _, root, _, _ = other_root()
    client.as_root_ca_cert.write_bytes(cert_pem(root))


# name -> (tampering, what the refusal must say, as a regular expression)
TAMPERINGS: dict[str, tuple[Callable[[Platform, Home], None], str]] = {
    "other_measurement": (_other_frontend_measurement,
                          r"mr_enclave [0-9a-f]{64} of frontend is not the one in enclave_info"),
    "signature_missing": (_signature_missing, "has no signature"),
    "signature_over_other_bytes": (_signature_over_other_bytes, "does not verify"),
    "another_root_ca": (_another_root_ca, "does not chain to the attestation root CA"),
}


def _connect(platform: Platform, client: Home) -> FrontendService:
    return FrontendService(platform.endpoints["frontend_api"], client.as_root_ca_cert,
                           client.enclave_info)


def test_untampered_client_copy_connects(platform: Platform, tmp_path: Path) -> None:
    """The copied client files work as they are, so each refusal below is its tampering's."""
    with _connect(platform, _client_copy(platform, tmp_path)) as client:
        assert client.channel.report is not None


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
def test_client_refuses_tampered_trust_anchors(platform: Platform, tmp_path: Path,
                                               tampering: str) -> None:
    """Each tampering makes the SDK refuse the frontend with a message saying what failed."""
    client = _client_copy(platform, tmp_path)
    tamper, reason = TAMPERINGS[tampering]
    tamper(platform, client)
    with pytest.raises(AttestationError, match=reason):
        _connect(platform, client)


def test_wrong_frontend_measurement_leaves_other_endpoints_trusted(platform: Platform,
                                                                   tmp_path: Path) -> None:
    """The re-signed copy is a valid enclave_info: the authentication endpoint still passes."""
    client = _client_copy(platform, tmp_path)
    _other_frontend_measurement(platform, client)
    with AuthenticationService(platform.endpoints["authentication_api"], client.as_root_ca_cert,
                               client.enclave_info) as auth:
        assert auth.channel.report is not None


# -- the attestation service ------------------------------------------------------------------

def test_attestation_service_refuses_unlisted_measurement(platform: Platform) -> None:
    """Evidence signed by the simulated TEE key, for a fresh key but a wrong mr_enclave, is
    PERMISSION_DENIED: no report, no mesh certificate."""
    config = platform.config
    key = ec.generate_private_key(ec.SECP256R1())
    wrong = bytes(b ^ 0xFF for b in mr_enclave(config, "management"))
    request = gaiwan_attestation_pb2.AttestRequest(
        service="management", evidence_type="simulated",
        evidence=evidence_for(config, "management", key, enclave=wrong), public_key=spki(key))
    with attestation_channel(config) as channel:
        with pytest.raises(grpc.RpcError) as refused:
            gaiwan_attestation_pb2_grpc.GaiwanAttestationStub(channel).Attest(request, timeout=30)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert f"mr_enclave {wrong.hex()}" in (refused.value.details() or "")


# -- internal endpoints: a valid mesh certificate for the wrong role ---------------------------

def _mesh_identity(config: Config, role: str) -> ServiceIdentity:
    """A key certified for `role` by the platform's mesh CA, as the attestation service would."""
    files = KeyFiles(config.home)
    ca_key = load_private_key(files.mesh_ca_key)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca_cert = load_cert(files.mesh_ca_cert)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = issue_mesh_certificate(ca_key, ca_cert, key.public_key(), role,
                                  mr_enclave(config, role), timedelta(minutes=10))
    return ServiceIdentity(role, private_key_pem(key), cert_pem(cert), cert_pem(ca_cert))


def _healthy(channel: grpc.Channel) -> bool:
    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def test_internal_endpoints_refuse_roles_outside_inbound(platform: Platform) -> None:
    """An "execution" certificate passes TLS and health checks but no management or storage call."""
    config = platform.config
    execution = _mesh_identity(config, "execution")
    with mesh_channel(execution, config.target("management"), "management") as channel:
        assert _healthy(channel)
        with pytest.raises(grpc.RpcError) as denied:
            gaiwan_management_pb2_grpc.GaiwanManagementStub(channel).GetTask(
                teaclave_frontend_service_pb2.GetTaskRequest(task_id="task-none"), timeout=10)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "'execution' may not call" in (denied.value.details() or "")
    with mesh_channel(execution, config.target("storage"), "storage") as channel:
        with pytest.raises(grpc.RpcError) as denied:
            gaiwan_storage_pb2_grpc.GaiwanStorageStub(channel).Get(
                gaiwan_storage_pb2.GetRequest(key=b"task/none"), timeout=10)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_storage_refuses_keys_outside_the_callers_namespace(platform: Platform) -> None:
    """A "frontend" certificate reads its own audit/ keys but not authentication's auth/ keys."""
    config = platform.config
    frontend = _mesh_identity(config, "frontend")
    with mesh_channel(frontend, config.target("storage"), "storage") as channel:
        stub = gaiwan_storage_pb2_grpc.GaiwanStorageStub(channel)
        own = stub.Get(gaiwan_storage_pb2.GetRequest(key=b"audit/none"), timeout=10)
        assert not own.found
        with pytest.raises(grpc.RpcError) as denied:
            stub.Get(gaiwan_storage_pb2.GetRequest(key=b"auth/jwt_secret"), timeout=10)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "may not access key" in (denied.value.details() or "")
