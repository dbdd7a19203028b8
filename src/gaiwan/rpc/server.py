"""Building servers: internal endpoints speak mutual TLS with the mesh CA, public endpoints
serve the RA-TLS certificate that Teaclave clients verify. Nothing here listens in plaintext.

Certificates are short-lived and replaced while the server runs: the credentials are
`grpc.dynamic_ssl_server_credentials`, whose fetcher gRPC consults on each new handshake, so a
renewed certificate is presented to new connections at once while established connections (and
the calls on them) carry on untouched. Rejected: restarting the server on a new port or
re-binding, which drops calls in flight."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent import futures

import threading

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from ..logs import Logger
from .identity import ServiceIdentity
from .interceptors import ServerInterceptor

Register = Callable[[grpc.Server], None]


def message_options(max_message_bytes: int) -> list[tuple[str, int]]:
    return [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.so_reuseport", 0),
        ("grpc.keepalive_time_ms", 20000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 10000),
    ]


# What an internal server outside development mode refuses in its callers' mesh certificates.
PRODUCTION_REFUSED_EVIDENCE = frozenset({"simulated", ""})


def _new_server(log: Logger, allowed: frozenset[str] | None, workers: int,
                max_message_bytes: int, refused_evidence: frozenset[str] = frozenset()
                ) -> grpc.Server:
    return grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rpc"),
        interceptors=[ServerInterceptor(log, allowed, refused_evidence)],
        options=message_options(max_message_bytes),
        maximum_concurrent_rpcs=workers * 8,
    )


class ServerCredentials:
    """The key and certificate a server presents, replaceable while it serves (rotation)."""

    def __init__(self, key_pem: bytes, cert_pem: bytes, client_ca_pem: bytes | None = None) -> None:
        self._lock = threading.Lock()
        self._pair = (key_pem, cert_pem)
        self._client_ca = client_ca_pem
        self._version = self._fetched = 0

    def replace(self, key_pem: bytes, cert_pem: bytes) -> None:
        with self._lock:
            self._pair = (key_pem, cert_pem)
            self._version += 1

    def _configuration(self) -> grpc.ServerCertificateConfiguration:
        return grpc.ssl_server_certificate_configuration([self._pair],
                                                         root_certificates=self._client_ca)

    def _fetch(self) -> grpc.ServerCertificateConfiguration | None:
        """Called by gRPC before each handshake: the new pair once, None while unchanged."""
        with self._lock:
            if self._fetched == self._version:
                return None
            self._fetched = self._version
            return self._configuration()

    def grpc_credentials(self) -> grpc.ServerCredentials:
        with self._lock:
            initial = self._configuration()
        return grpc.dynamic_ssl_server_credentials(
            initial, self._fetch, require_client_authentication=self._client_ca is not None)


def mesh_credentials(identity: ServiceIdentity) -> ServerCredentials:
    """Mutual TLS: the mesh certificate, and only clients with one from the same mesh CA."""
    return ServerCredentials(identity.key_pem, identity.mesh_cert_pem, identity.mesh_ca_pem)


def ra_tls_credentials(identity: ServiceIdentity) -> ServerCredentials:
    """Server-authenticated TLS with the RA-TLS certificate (spec §3)."""
    return ServerCredentials(identity.key_pem, identity.ra_tls_cert_pem)


def _bind(server: grpc.Server, address: str, credentials: grpc.ServerCredentials) -> int:
    port = server.add_secure_port(address, credentials)
    if port == 0:
        raise OSError(f"cannot listen on {address} (in use?)")
    return port


def internal_server(
    identity: ServiceIdentity,
    address: str,
    inbound: Iterable[str],
    register: Iterable[Register],
    log: Logger,
    workers: int = 32,
    max_message_bytes: int = 4 * 1024 * 1024,
    credentials: ServerCredentials | None = None,
    refused_evidence: frozenset[str] = frozenset(),
) -> tuple[grpc.Server, health.HealthServicer]:
    """A mutually authenticated server: only mesh certificates, only roles listed in `inbound`,
    none issued on evidence of a type in `refused_evidence`.

    Pass `credentials` (from `mesh_credentials`) to replace the certificate later."""
    return _secure_server(address, frozenset(inbound), credentials or mesh_credentials(identity),
                          register, log, workers, max_message_bytes, refused_evidence)


def public_server(
    identity: ServiceIdentity,
    address: str,
    register: Iterable[Register],
    log: Logger,
    workers: int = 32,
    max_message_bytes: int = 4 * 1024 * 1024,
    credentials: ServerCredentials | None = None,
) -> tuple[grpc.Server, health.HealthServicer]:
    """A server-authenticated endpoint presenting the RA-TLS certificate (spec §3).

    Pass `credentials` (from `ra_tls_credentials`) to replace the certificate later."""
    return _secure_server(address, None, credentials or ra_tls_credentials(identity),
                          register, log, workers, max_message_bytes)


def _secure_server(address: str, allowed: frozenset[str] | None, credentials: ServerCredentials,
                   register: Iterable[Register], log: Logger, workers: int,
                   max_message_bytes: int, refused_evidence: frozenset[str] = frozenset()
                   ) -> tuple[grpc.Server, health.HealthServicer]:
    server = _new_server(log, allowed, workers, max_message_bytes, refused_evidence)
    for reg in register:
        reg(server)
    health_servicer = _health(server)
    _bind(server, address, credentials.grpc_credentials())
    return server, health_servicer


def _health(server: grpc.Server) -> health.HealthServicer:
    """The standard health service, NOT_SERVING until the service says it is ready."""
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    set_serving(servicer, False)
    return servicer


def set_serving(servicer: health.HealthServicer, serving: bool = True) -> None:
    status = (health_pb2.HealthCheckResponse.SERVING if serving
              else health_pb2.HealthCheckResponse.NOT_SERVING)
    servicer.set("", status)
