"""The attestation service: verifies each service's evidence and issues its report and passport.

Callers have no mesh certificate yet, so this endpoint is server-authenticated TLS only (a server
certificate from the AS root CA, name `attestation.gaiwan`) and each request is authenticated by
the evidence it carries. The checks themselves live in gaiwan.attestation.verifier.
"""

from __future__ import annotations

from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2_grpc

from ...attestation.authority_keys import load_authority_keys
from ...attestation.keystore import cert_pem, private_key_pem
from ...attestation.verifier import Authority
from ...config import Config
from ...errors import GaiwanError
from ...logs import Logger
from ...rpc.interceptors import ServerInterceptor
from ...rpc.pb import gaiwan_attestation_pb2, gaiwan_attestation_pb2_grpc
from ...rpc.server import message_options
from ..runtime import ServiceRuntime


class AttestationServicer(gaiwan_attestation_pb2_grpc.GaiwanAttestationServicer):
    def __init__(self, authority: Authority, log: Logger) -> None:
        self._authority = authority
        self._log = log

    def Attest(self, request: gaiwan_attestation_pb2.AttestRequest,
               context: grpc.ServicerContext) -> gaiwan_attestation_pb2.AttestResponse:
        try:
            endorsed = self._authority.attest(request.service, request.evidence_type,
                                              request.evidence, request.public_key)
        except GaiwanError as exc:
            self._log.warning("attestation refused", role=request.service, reason=exc.message)
            raise
        self._log.info("attested", role=request.service, evidence_type=request.evidence_type)
        e = endorsed.endorsement
        return gaiwan_attestation_pb2.AttestResponse(
            report=e.report, report_signature=e.signature, report_certs=list(e.certs),
            mesh_certificate=endorsed.mesh_cert_pem, mesh_ca_certificate=endorsed.mesh_ca_pem,
            not_after=endorsed.not_after,
        )


def build_server(config: Config, log: Logger) -> tuple[grpc.Server, health.HealthServicer]:
    """The bound (not yet started) attestation server and its health servicer."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=config.rpc_workers, thread_name_prefix="rpc"),
        interceptors=[ServerInterceptor(log, None)],
        options=message_options(config.max_message_bytes),
        maximum_concurrent_rpcs=config.rpc_workers * 8,
    )
    keys = load_authority_keys(config)
    gaiwan_attestation_pb2_grpc.add_GaiwanAttestationServicer_to_server(
        AttestationServicer(Authority.load(config, keys), log), server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    creds = grpc.ssl_server_credentials(
        [(private_key_pem(keys.server_key), cert_pem(keys.server_cert))])
    address = config.listen_address("attestation")
    if server.add_secure_port(address, creds) == 0:
        raise OSError(f"cannot listen on {address} (in use?)")
    return server, health_servicer


def main(runtime: ServiceRuntime) -> None:
    server, health_servicer = build_server(runtime.config, runtime.log)
    runtime.serve(server, health_servicer)
