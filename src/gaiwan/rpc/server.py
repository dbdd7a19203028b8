"""Building servers: internal endpoints speak mutual TLS with the mesh CA, public endpoints
serve the RA-TLS certificate that Teaclave clients verify. Nothing here listens in plaintext."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent import futures

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


def _new_server(log: Logger, allowed: frozenset[str] | None, workers: int,
                max_message_bytes: int) -> grpc.Server:
    return grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rpc"),
        interceptors=[ServerInterceptor(log, allowed)],
        options=message_options(max_message_bytes),
        maximum_concurrent_rpcs=workers * 8,
    )


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
) -> tuple[grpc.Server, health.HealthServicer]:
    """A mutually authenticated server: only mesh certificates, only roles listed in `inbound`."""
    server = _new_server(log, frozenset(inbound), workers, max_message_bytes)
    for reg in register:
        reg(server)
    health_servicer = _health(server)
    creds = grpc.ssl_server_credentials(
        [(identity.key_pem, identity.mesh_cert_pem)],
        root_certificates=identity.mesh_ca_pem,
        require_client_auth=True,
    )
    _bind(server, address, creds)
    return server, health_servicer


def public_server(
    identity: ServiceIdentity,
    address: str,
    register: Iterable[Register],
    log: Logger,
    workers: int = 32,
    max_message_bytes: int = 4 * 1024 * 1024,
) -> tuple[grpc.Server, health.HealthServicer]:
    """A server-authenticated endpoint presenting the RA-TLS certificate (spec §3)."""
    server = _new_server(log, None, workers, max_message_bytes)
    for reg in register:
        reg(server)
    health_servicer = _health(server)
    creds = grpc.ssl_server_credentials([(identity.key_pem, identity.ra_tls_cert_pem)])
    _bind(server, address, creds)
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
