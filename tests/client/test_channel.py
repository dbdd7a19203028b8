"""The attested channel against a real TLS server: verify, pin, refuse, re-pin after a restart."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from gaiwan.attestation import Policy
from gaiwan.client import AttestationError, FrontendService, TrustAnchors
from gaiwan.errors import Unavailable
from gaiwan.client._channel import fetch_certificate, parse_address, pinned_name
from gaiwan.rpc.pb import teaclave_frontend_service_pb2 as fe
from gaiwan.rpc.pb import teaclave_frontend_service_pb2_grpc as fe_grpc

from ._pki import Authority, enclave_info_bytes, ra_tls_leaf, rsa_key, write_client_dir
from .conftest import Endpoint


def _frontend(endpoint: Endpoint, client_dir: Path) -> FrontendService:
    return FrontendService(endpoint.address, client_dir / "as_root_ca_cert.pem",
                           client_dir / "enclave_info.toml")


def test_verified_server_serves_calls(endpoint: Endpoint, client_dir: Path) -> None:
    """A correct certificate is accepted, and a call carries the user's id and token."""
    with _frontend(endpoint, client_dir) as fs:
        fs.metadata = {"id": "alice", "token": "t0k"}
        assert fs.create_task("function-1", {"message": "hi"}, "builtin") == "task-1"
    name, request, metadata = endpoint.rec.calls[-1]
    assert name == "CreateTask" and request.function_arguments == '{"message": "hi"}'
    assert metadata["id"] == "alice" and metadata["token"] == "t0k"


@pytest.mark.parametrize("variant, reason", [
    ({"mr_enclave": b"\x77" * 32}, "mr_enclave 7777"),
    ({"mr_signer": b"\x66" * 32}, "mr_signer 6666"),
    ({"report_data": b"\x01" * 64}, "REPORTDATA is not the certificate's public key"),
    ({"signer_key": rsa_key("not-the-signer")}, "report signature does not verify"),
    ({"comment_first": False}, "first certificate extension"),
    ({"status": "GROUP_REVOKED"}, r"TCB status Revoked \(quote status GROUP_REVOKED\) is not accepted"),
])
def test_refuses_before_any_call(authority: Authority, client_dir: Path, variant, reason) -> None:
    """Each failed check of spec §3 refuses the server with its reason; no request is sent."""
    ep = Endpoint(ra_tls_leaf(authority, **variant))
    try:
        with pytest.raises(AttestationError, match=reason):
            _frontend(ep, client_dir)
        assert ep.rec.calls == []
    finally:
        ep.stop()


def test_refuses_report_under_another_root(client_dir: Path) -> None:
    """A report chained to a root the client was not given is refused."""
    ep = Endpoint(ra_tls_leaf(Authority.make("rogue")))
    try:
        with pytest.raises(AttestationError, match="does not chain|not signed"):
            _frontend(ep, client_dir)
    finally:
        ep.stop()


def test_refuses_service_missing_from_enclave_info(tmp_path: Path, authority: Authority,
                                                   endpoint: Endpoint) -> None:
    """A service without a table in enclave_info is never trusted."""
    d = write_client_dir(tmp_path / "c", authority, info=enclave_info_bytes(("authentication",)))
    with pytest.raises(AttestationError, match="teaclave_frontend_service"):
        _frontend(endpoint, d)


def test_sgx_mode_sw_does_not_bypass(authority: Authority, client_dir: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Teaclave skipped every check under SGX_MODE=SW; Gaiwan does not."""
    monkeypatch.setenv("SGX_MODE", "SW")
    ep = Endpoint(ra_tls_leaf(authority, mr_enclave=b"\x77" * 32))
    try:
        with pytest.raises(AttestationError):
            _frontend(ep, client_dir)
    finally:
        ep.stop()


def test_restart_with_new_certificate_repins(endpoint: Endpoint, authority: Authority,
                                             client_dir: Path) -> None:
    """After the service restarts with a new key, the next call re-verifies and succeeds."""
    with _frontend(endpoint, client_dir) as fs:
        fs.create_task("function-1", {}, "builtin")
        first = fs.channel.report
        endpoint.restart(ra_tls_leaf(authority))
        assert fs.create_task("function-1", {}, "builtin") == "task-1"
        assert fs.channel.report is not first
    assert endpoint.rec.names().count("CreateTask") == 2


def test_restart_with_unverifiable_certificate_is_refused(endpoint: Endpoint, authority: Authority,
                                                         client_dir: Path) -> None:
    """A restarted service that fails verification is refused, with the reason."""
    with _frontend(endpoint, client_dir) as fs:
        endpoint.restart(ra_tls_leaf(authority, mr_signer=b"\x55" * 32))
        with pytest.raises(AttestationError, match="mr_signer"):
            fs.create_task("function-1", {}, "builtin")
    assert "CreateTask" not in endpoint.rec.names()


def test_pin_rejects_other_certificate(endpoint: Endpoint, authority: Authority,
                                       client_dir: Path) -> None:
    """grpcio trusts only the verified certificate, not another leaf under the same CA."""
    with _frontend(endpoint, client_dir) as fs:
        pinned = fs.channel._current()
        endpoint.restart(ra_tls_leaf(authority))
        with pytest.raises(grpc.RpcError) as err:
            fe_grpc.TeaclaveFrontendStub(pinned).CreateTask(fe.CreateTaskRequest(), timeout=5)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "CreateTask" not in endpoint.rec.names()


def test_fetch_and_name(endpoint: Endpoint) -> None:
    """The fetched leaf names the service in its SAN, which the channel pins as TLS name."""
    der = fetch_certificate("127.0.0.1", endpoint.port)
    assert pinned_name(der) == "frontend.ra-tls.gaiwan"
    assert parse_address(("h", 1)) == ("h", 1) and parse_address("[::1]:7777") == ("::1", 7777)


@pytest.mark.parametrize("signers, known, threshold, reason", [
    ((), ("alice",), 1, "has no signature"),
    (("mallory",), ("alice",), 1, "by no known auditor"),
    (("alice",), ("alice", "bob"), 2, "1 distinct known auditor"),
])
def test_enclave_info_auditor_refusals(tmp_path: Path, authority: Authority, signers, known,
                                       threshold, reason) -> None:
    """enclave_info counts only when enough distinct known auditors signed it."""
    d = write_client_dir(tmp_path / "c", authority, signers=signers, known=known)
    with pytest.raises(AttestationError, match=reason):
        TrustAnchors.from_files(d / "as_root_ca_cert.pem", d / "enclave_info.toml", threshold=threshold)


def test_enclave_info_bad_signature(tmp_path: Path, authority: Authority) -> None:
    """A file changed after signing loses its signatures."""
    d = write_client_dir(tmp_path / "c", authority)
    info = d / "enclave_info.toml"
    info.write_bytes(info.read_bytes().replace(b"00", b"01", 1))
    with pytest.raises(AttestationError, match="does not verify"):
        FrontendService("127.0.0.1:1", d / "as_root_ca_cert.pem", info)


def test_enclave_info_threshold_met(tmp_path: Path, authority: Authority) -> None:
    """Two distinct auditors meet a threshold of two."""
    d = write_client_dir(tmp_path / "c", authority, signers=("alice", "bob"), known=("alice", "bob"))
    trust = TrustAnchors.from_files(d / "as_root_ca_cert.pem", d / "enclave_info.toml", threshold=2)
    assert trust.enclave_info.expect("frontend")


def test_simulated_evidence_refused_when_not_allowed(authority: Authority, client_dir: Path) -> None:
    """A client trusting a production platform refuses reports of the simulated TEE."""
    ep = Endpoint(ra_tls_leaf(authority, evidence_type="simulated"))
    try:
        trust = TrustAnchors.from_files(client_dir / "as_root_ca_cert.pem",
                                        client_dir / "enclave_info.toml",
                                        policy=Policy(allow_simulated=False))
        with pytest.raises(AttestationError, match="simulated"):
            FrontendService(ep.address, trust=trust)
        with _frontend(ep, client_dir) as fs:
            assert fs.channel.report is not None and fs.channel.report.evidence_type == "simulated"
    finally:
        ep.stop()


def test_a_call_never_sent_is_retried_once_the_server_answers(endpoint: Endpoint, authority: Authority,
                                                              client_dir: Path) -> None:
    """While the service is down a call fails; once it is back (same certificate), the next call
    goes through at once instead of failing for the rest of grpcio's reconnect back-off."""
    leaf = ra_tls_leaf(authority)
    endpoint.restart(leaf)
    with _frontend(endpoint, client_dir) as fs:
        fs.create_task("function-1", {}, "builtin")
        endpoint.stop()
        with pytest.raises(Unavailable):
            fs.create_task("function-1", {}, "builtin")
        endpoint.start(leaf)
        assert fs.create_task("function-1", {}, "builtin") == "task-1"
    assert endpoint.rec.names().count("CreateTask") == 2
