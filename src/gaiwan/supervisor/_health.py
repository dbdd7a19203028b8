"""Health of services over the standard gRPC health protocol (grpc.health.v1).

Internal endpoints are reached with mutual TLS as the operator, the one mesh role every internal
server admits for health checks only; the attestation endpoint, which authenticates its callers by
evidence rather than by certificate, with server-authenticated TLS to the attestation root CA. Public endpoints present a self-signed RA-TLS certificate;
for a health check (not for trust) we take that certificate from the handshake and pin it.

The supervisor uses `Watch`, a server stream that pushes every status change, so readiness and
loss of a service arrive as events; `gaiwan status` uses one-shot `Check` calls.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc
from cryptography import x509
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ..config import PUBLIC_ENDPOINTS, Config
from ..home import SERVICES
from ..rpc.channels import mesh_channel
from ..rpc.identity import ServiceIdentity

SERVING = health_pb2.HealthCheckResponse.SERVING


@dataclass(frozen=True)
class Probe:
    """The result of one health check."""

    endpoint: str
    target: str
    public: bool
    serving: bool
    detail: str


def _describe(exc: grpc.RpcError) -> str:
    code = exc.code() if hasattr(exc, "code") else None
    return code.name.lower() if code is not None else "unreachable"


def internal_channel(config: Config, operator: ServiceIdentity, service: str) -> grpc.Channel:
    """The channel an operator uses to reach `service`'s internal endpoint."""
    if service == "attestation":
        from ..attestation.establish import attestation_channel

        return attestation_channel(config)
    return mesh_channel(operator, config.target(service), service)


def check_internal(config: Config, operator: ServiceIdentity, service: str,
                   timeout: float = 3.0) -> Probe:
    return _probe(internal_channel(config, operator, service), service, config.target(service),
                  False, timeout)


def _probe(channel: grpc.Channel, endpoint: str, target: str, public: bool,
           timeout: float) -> Probe:
    """One health check over `channel`, which it closes."""
    try:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=timeout)
        serving = reply.status == SERVING
        detail = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status).lower()
        return Probe(endpoint, target, public, serving, detail)
    except grpc.RpcError as exc:
        return Probe(endpoint, target, public, False, _describe(exc))
    finally:
        channel.close()


def _server_name(cert_pem: str) -> str:
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = names.get_values_for_type(x509.DNSName)
        if dns:
            return str(dns[0])
    except x509.ExtensionNotFound:
        pass
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(cns[0].value) if cns else "localhost"


def public_channel(config: Config, endpoint: str, timeout: float = 3.0) -> grpc.Channel:
    """TLS to a public endpoint pinned to the certificate it presents now (no attestation)."""
    target = config.target(endpoint)
    host, _, port = target.rpartition(":")
    cert_pem = ssl.get_server_certificate((host, int(port)), timeout=timeout)
    name = _server_name(cert_pem)
    return grpc.secure_channel(
        target, grpc.ssl_channel_credentials(root_certificates=cert_pem.encode()),
        options=[("grpc.ssl_target_name_override", name), ("grpc.default_authority", name)])


def check_public(config: Config, endpoint: str, timeout: float = 3.0) -> Probe:
    target = config.target(endpoint)
    try:
        channel = public_channel(config, endpoint, timeout)
    except (OSError, ValueError) as exc:
        return Probe(endpoint, target, True, False, f"no TLS handshake ({type(exc).__name__})")
    return _probe(channel, endpoint, target, True, timeout)


def check_all(config: Config, operator: ServiceIdentity, timeout: float = 3.0) -> list[Probe]:
    """Every internal and public endpoint, checked concurrently, in start order."""
    with ThreadPoolExecutor(max_workers=len(SERVICES) + len(PUBLIC_ENDPOINTS)) as pool:
        internal = [pool.submit(check_internal, config, operator, s, timeout) for s in SERVICES]
        public = [pool.submit(check_public, config, e, timeout) for e in PUBLIC_ENDPOINTS]
        return [f.result() for f in internal + public]


class HealthWatch:
    """Follows one service incarnation's health stream until closed.

    Reports `on_change(serving)` on every change; a broken stream while the process lives counts
    as not serving and is re-opened after a short, growing pause (the service may still be
    binding its port).
    """

    def __init__(self, config: Config, operator: ServiceIdentity, service: str,
                 on_change: Callable[[bool], None]) -> None:
        self._channel = internal_channel(config, operator, service)
        self._on_change = on_change
        self._closed = threading.Event()
        self._call: grpc.Future | None = None
        self._lock = threading.Lock()
        threading.Thread(target=self._run, name=f"health-{service}", daemon=True).start()

    def _run(self) -> None:
        stub = health_pb2_grpc.HealthStub(self._channel)
        pause, last = 0.1, None
        while not self._closed.is_set():
            try:
                with self._lock:
                    if self._closed.is_set():
                        return
                    call = stub.Watch(health_pb2.HealthCheckRequest(), wait_for_ready=True)
                    self._call = call
                for reply in call:
                    serving = reply.status == SERVING
                    if serving != last:
                        last = serving
                        self._on_change(serving)
                    pause = 0.1
            except grpc.RpcError:
                pass
            if self._closed.is_set():
                return
            if last is not False:
                last = False
                self._on_change(False)
            self._closed.wait(pause)
            pause = min(pause * 2, 2.0)

    def close(self) -> None:
        with self._lock:
            self._closed.set()
            if self._call is not None:
                self._call.cancel()
        self._channel.close()

