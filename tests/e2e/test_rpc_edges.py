"""End to end at the wire: what raw gRPC clients get from public and internal endpoints."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gaiwan.attestation import operator_identity
from gaiwan.rpc.channels import mesh_channel
from gaiwan.rpc.identity import mesh_hostname
from gaiwan.rpc.pb import gaiwan_storage_pb2
from gaiwan.supervisor import check_public, public_channel
from tests.support.platform import SHARED, Platform, login

FRONTEND = "/teaclave_frontend_service_proto.TeaclaveFrontend/"
pytestmark = [pytest.mark.platform, pytest.mark.xdist_group(SHARED)]


def test_unknown_method_and_malformed_bytes(platform: Platform) -> None:
    """Unknown method: UNIMPLEMENTED; undecodable request: INVALID_ARGUMENT; the service stays up."""
    credentials = (("id", "admin"), ("token", login(platform)))
    with public_channel(platform.config, "frontend_api") as channel:
        with pytest.raises(grpc.RpcError) as unknown:
            channel.unary_unary(FRONTEND + "NoSuchMethod")(b"", metadata=credentials, timeout=10)
        assert unknown.value.code() == grpc.StatusCode.UNIMPLEMENTED
        with pytest.raises(grpc.RpcError) as malformed:
            channel.unary_unary(FRONTEND + "GetTask")(b"\xff\xff\xff\x0f", metadata=credentials,
                                                      timeout=10)
        assert malformed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert check_public(platform.config, "frontend_api").serving


def test_internal_endpoint_refuses_client_without_mesh_certificate(platform: Platform) -> None:
    """TLS without a mesh client certificate never gets a call through to an internal service."""
    operator = operator_identity(platform.config)
    creds = grpc.ssl_channel_credentials(root_certificates=operator.mesh_ca_pem)
    options = [("grpc.ssl_target_name_override", mesh_hostname("storage"))]
    with grpc.secure_channel(platform.endpoints["storage"], creds, options=options) as channel:
        with pytest.raises(grpc.RpcError) as refused:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


def test_operator_identity_is_admitted_for_health_only(platform: Platform) -> None:
    """The operator's mesh certificate passes health checks and gets PERMISSION_DENIED elsewhere."""
    config = platform.config
    with mesh_channel(operator_identity(config), config.target("storage"), "storage") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        get = channel.unary_unary("/gaiwan_storage_proto.GaiwanStorage/Get",
                                  request_serializer=gaiwan_storage_pb2.GetRequest.SerializeToString)
        with pytest.raises(grpc.RpcError) as denied:
            get(gaiwan_storage_pb2.GetRequest(), timeout=10)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
