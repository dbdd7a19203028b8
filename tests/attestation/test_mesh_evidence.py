"""Outside development mode every internal server refuses callers attested on simulated evidence
(or on none), whatever certified them: production does not rest on the attestation service alone."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import grpc
import pytest

from gaiwan.logs import get_logger
from gaiwan.rpc.channels import mesh_channel
from gaiwan.rpc.server import PRODUCTION_REFUSED_EVIDENCE, internal_server
from tests.storage.mesh import MeshCA

_METHOD = "/gaiwan_test.Echo/Echo"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _echo(server: grpc.Server) -> None:
    handler = grpc.unary_unary_rpc_method_handler(lambda request, context: request)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("gaiwan_test.Echo", {"Echo": handler}),))


@pytest.fixture(scope="module")
def ca() -> MeshCA:
    return MeshCA()


@pytest.fixture(scope="module", params=["production", "development"])
def server(request: pytest.FixtureRequest, ca: MeshCA) -> Iterator[tuple[str, str]]:
    refused = PRODUCTION_REFUSED_EVIDENCE if request.param == "production" else frozenset()
    address = f"127.0.0.1:{_port()}"
    srv, _ = internal_server(ca.identity("storage", "sgx-dcap"), address, ["management"],
                             [_echo], get_logger("test"), workers=4, refused_evidence=refused)
    srv.start()
    yield request.param, address
    srv.stop(None)


def _call(ca: MeshCA, address: str, evidence_type: str) -> bytes:
    with mesh_channel(ca.identity("management", evidence_type), address, "storage") as channel:
        return bytes(channel.unary_unary(_METHOD)(b"ping", timeout=5))


@pytest.mark.parametrize("evidence_type", ["simulated", ""])
def test_simulated_or_unnamed_evidence(ca: MeshCA, server: tuple[str, str],
                                       evidence_type: str) -> None:
    mode, address = server
    if mode == "development":
        assert _call(ca, address, evidence_type) == b"ping"
        return
    with pytest.raises(grpc.RpcError) as info:
        _call(ca, address, evidence_type)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert f"attested on {evidence_type or 'no'} evidence" in str(info.value.details())


@pytest.mark.parametrize("evidence_type", ["sgx-dcap", "tdx-dcap"])
def test_hardware_evidence_is_served_in_every_mode(ca: MeshCA, server: tuple[str, str],
                                                    evidence_type: str) -> None:
    assert _call(ca, server[1], evidence_type) == b"ping"
