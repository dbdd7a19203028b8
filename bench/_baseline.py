"""The floor to compare against: a unary gRPC round trip over TLS to an in-process echo server.

Same machine, same grpcio, same TLS as the platform's endpoints, but no platform: the difference
between this and an echo task is what Gaiwan itself costs.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from concurrent import futures

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_METHOD = "/bench.Echo/Echo"
_NAME = "bench.local"


def _self_signed() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, _NAME)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(_NAME)]), critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


@contextmanager
def grpc_tls_round_trips(payload: bytes = b"Hello, Gaiwan!") -> Iterator[Callable[[int], list[float]]]:
    """A function giving the latencies (seconds) of `count` unary calls, over one connection
    opened and warmed up beforehand and kept open until the block ends."""
    key_pem, cert_pem = _self_signed()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    handler = grpc.method_handlers_generic_handler(
        "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(lambda req, ctx: req)})
    server.add_generic_rpc_handlers((handler,))
    port = server.add_secure_port("127.0.0.1:0", grpc.ssl_server_credentials([(key_pem, cert_pem)]))
    server.start()
    try:
        creds = grpc.ssl_channel_credentials(root_certificates=cert_pem)
        with grpc.secure_channel(f"127.0.0.1:{port}", creds,
                                 options=[("grpc.ssl_target_name_override", _NAME)]) as channel:
            echo = channel.unary_unary(_METHOD)
            for _ in range(20):
                echo(payload, timeout=10)

            def measure(count: int) -> list[float]:
                samples = []
                for _ in range(count):
                    start = time.perf_counter()
                    echo(payload, timeout=10)
                    samples.append(time.perf_counter() - start)
                return samples

            yield measure
    finally:
        server.stop(None)
