"""An attested, pinned gRPC channel to one public endpoint.

grpcio cannot run a custom certificate verifier inside its handshake, so the check happens in
two steps: a plain TLS handshake (verification off, ALPN h2) fetches the server's leaf
certificate, which is verified as spec §3 says; then a grpcio channel is opened that trusts
exactly that certificate and nothing else. A man in the middle between the two steps cannot
help himself: grpcio refuses any other certificate, and the verified one binds the enclave's key.

A service that restarts presents a new key and certificate, and the pinned channel then fails
its handshake. The next call notices (UNAVAILABLE), fetches and verifies the new certificate and
re-pins. The failed call itself is retried once only when grpcio reports it never connected, so
a request is never sent twice.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..attestation import (EnclaveInfo, Policy, ReportClaims, load_enclave_info_files,
                           verify_ra_tls_certificate)
from ..config import Config
from ..errors import AttestationError, Unavailable
from ..home import Home

DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
_NEVER_SENT = "failed to connect to all addresses"



@dataclass(frozen=True)
class TrustAnchors:
    """What a client trusts: the attestation root CA, auditor-verified enclave_info, a policy.

    The policy says which TCB statuses count, how old a report may be, and whether reports of the
    simulated TEE count. The root CA is the real trust decision (a production attestation service
    never endorses simulated evidence); a home whose configuration says production refuses them
    on the client side as well, and so does any client given `Policy(allow_simulated=False)`.
    """

    as_root_ca_pem: bytes = field(repr=False)
    enclave_info: EnclaveInfo
    policy: Policy = Policy()

    @classmethod
    def from_files(cls, as_root_ca_cert_path: str | Path, enclave_info_path: str | Path,
                   auditors_dir: str | Path | None = None, threshold: int = 1,
                   policy: Policy | None = None) -> "TrustAnchors":
        """Loads the files; auditors default to the `auditors/` folder beside enclave_info."""
        info_path = Path(enclave_info_path)
        auditors = Path(auditors_dir) if auditors_dir is not None else info_path.parent / "auditors"
        try:
            root = Path(as_root_ca_cert_path).read_bytes()
        except OSError as exc:
            raise AttestationError(f"cannot read root CA {as_root_ca_cert_path}: {exc.strerror}") from None
        return cls(root, load_enclave_info_files(info_path, auditors, threshold), policy or Policy())

    @classmethod
    def from_home(cls, home: Home) -> "TrustAnchors":
        """The home's client/ files, with the threshold and policy of its configuration if any."""
        threshold, policy = 1, Policy()
        if home.exists():
            config = Config.load(home)
            threshold = int(config.section("attestation").get("auditor_threshold", 1))
            policy = Policy.from_config(config)
        return cls.from_files(home.as_root_ca_cert, home.enclave_info, home.auditors, threshold,
                              policy)


def parse_address(address: str | tuple[str, int]) -> tuple[str, int]:
    """Accepts Teaclave's `(host, port)` tuples and `host:port` / `[v6]:port` strings."""
    if isinstance(address, tuple):
        return str(address[0]), int(address[1])
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"address {address!r} is not host:port")
    return host.strip("[]"), int(port)


def fetch_certificate(host: str, port: int, timeout: float = 10.0) -> bytes:
    """The server's leaf certificate (DER), unverified: the caller verifies it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["h2"])
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            with context.wrap_socket(sock) as tls:
                cert = tls.getpeercert(binary_form=True)
    except OSError as exc:
        raise Unavailable(f"cannot reach {host}:{port}: {exc.strerror or exc}") from None
    if not cert:
        raise AttestationError(f"{host}:{port} presented no certificate")
    return cert


def pinned_name(cert_der: bytes) -> str:
    """The TLS name grpcio must check: the certificate's first DNS SAN, else its common name."""
    cert = x509.load_der_x509_certificate(cert_der)
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = names.get_values_for_type(x509.DNSName)
        if dns:
            return dns[0]
    except x509.ExtensionNotFound:
        pass
    common = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(common[0].value) if common else ""


class AttestedChannel:
    """One verified, pinned grpcio channel to `service`'s public endpoint; re-pins on restart."""

    def __init__(self, address: str | tuple[str, int], service: str, trust: TrustAnchors, *,
                 max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
                 connect_timeout: float = 10.0) -> None:
        self.host, self.port = parse_address(address)
        self.service = service
        self._trust = trust
        self._options = [("grpc.max_send_message_length", max_message_bytes),
                         ("grpc.max_receive_message_length", max_message_bytes)]
        self._timeout = connect_timeout
        self._lock = threading.Lock()
        self._cert = b""
        self._channel: grpc.Channel | None = None
        self.report: ReportClaims | None = None
        self._pin(fetch_certificate(self.host, self.port, self._timeout))

    def _pin(self, cert_der: bytes) -> None:
        report = verify_ra_tls_certificate(cert_der, self._trust.as_root_ca_pem,
                                           self._trust.enclave_info, self.service,
                                           policy=self._trust.policy)
        pem = x509.load_der_x509_certificate(cert_der).public_bytes(serialization.Encoding.PEM)
        name = pinned_name(cert_der)
        channel = grpc.secure_channel(
            f"{self.host}:{self.port}" if ":" not in self.host else f"[{self.host}]:{self.port}",
            grpc.ssl_channel_credentials(root_certificates=pem),
            options=[*self._options, ("grpc.ssl_target_name_override", name),
                     ("grpc.default_authority", name)],
        )
        old, self._channel, self._cert, self.report = self._channel, channel, cert_der, report
        if old is not None:
            old.close()

    @property
    def report_age(self) -> timedelta | None:
        """How long ago the attestation service endorsed the pinned certificate's report."""
        return None if self.report is None else self.report.age()

    def _repin(self, failed: grpc.Channel, fresh: bool = False) -> bool:
        """Re-verifies the server if it changed certificate; True when a new channel is pinned.

        `fresh`: a new channel even for the same certificate, when the server answers again. A
        grpcio channel that failed to connect waits out a reconnect back-off (a second, then
        longer) and fails calls at once meanwhile, though the server is back."""
        with self._lock:
            if self._channel is not failed:
                return True  # another thread already re-pinned
            try:
                cert = fetch_certificate(self.host, self.port, self._timeout)
            except Unavailable:
                return False
            if cert == self._cert and not fresh:
                return False
            self._pin(cert)
            return True

    def call(self, stub_class: Callable[[grpc.Channel], Any], method: str, request: Any,
             metadata: list[tuple[str, str]] | None = None, timeout: float | None = None) -> Any:
        """Calls `method` of a stub on the pinned channel; raises grpc.RpcError or AttestationError."""
        channel = self._current()
        try:
            return getattr(stub_class(channel), method)(request, metadata=metadata, timeout=timeout)
        except grpc.RpcError as err:
            never_sent = _NEVER_SENT in (err.details() or "")
            if err.code() != grpc.StatusCode.UNAVAILABLE or not self._repin(channel, never_sent):
                raise
            if not never_sent:
                raise  # it may have run: only the caller can tell whether to repeat it
        return getattr(stub_class(self._current()), method)(request, metadata=metadata, timeout=timeout)

    def _current(self) -> grpc.Channel:
        with self._lock:
            if self._channel is None:
                raise Unavailable(f"channel to {self.service} is closed")
            return self._channel

    def dump_report(self, path: str | Path) -> None:
        """Writes what the verified report claims as JSON (Teaclave's `dump_report`)."""
        claims = self.report
        doc = {} if claims is None else {
            "id": claims.id, "timestamp": claims.timestamp, "version": claims.version,
            "isvEnclaveQuoteStatus": claims.quote_status,
            "mr_enclave": claims.quote.mr_enclave.hex(), "mr_signer": claims.quote.mr_signer.hex(),
            "evidence_type": claims.evidence_type, "mode": claims.mode,
            "tcb_status": claims.tcb_status, "age_s": round(claims.age().total_seconds(), 3),
        }
        Path(path).write_text(json.dumps(doc, indent=2))

    def close(self) -> None:
        with self._lock:
            if self._channel is not None:
                self._channel.close()
                self._channel = None


def metadata_pairs(metadata: Mapping[str, str] | None) -> list[tuple[str, str]]:
    """Teaclave's SDK keeps credentials as a dict; grpcio wants a list of pairs."""
    return [(str(k), str(v)) for k, v in (metadata or {}).items()]
