"""Tests of the frontend over real in-process gRPC: registration, the edge interceptor and the
authentication client (plaintext localhost servers stand in for the attested mesh)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest

from gaiwan.errors import Unavailable
from gaiwan.logs import get_logger
from gaiwan.roles import Role
from gaiwan.rpc.interceptors import ServerInterceptor
from gaiwan.rpc.pb import gaiwan_management_pb2_grpc as mgmt_grpc
from gaiwan.rpc.pb import teaclave_authentication_service_pb2 as auth_pb
from gaiwan.rpc.pb import teaclave_authentication_service_pb2_grpc as auth_grpc
from gaiwan.rpc.pb import teaclave_frontend_service_pb2 as pb
from gaiwan.rpc.pb import teaclave_frontend_service_pb2_grpc as pb_grpc
from gaiwan.services.access_control import Decision
from gaiwan.services.frontend import audit
from gaiwan.services.frontend.audit_writer import AuditWriter
from gaiwan.services.frontend.gate import Authenticator, Gate

from .conftest import MemoryStorage

LOG = get_logger("test")


class FakeAuth(auth_grpc.TeaclaveAuthenticationInternalServicer):
    """Knows one token; for user `liar` it returns claims for someone else."""

    def UserAuthenticate(self, request, context):  # type: ignore[no-untyped-def]
        cred = request.credential
        if cred.token != "good":
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "bad token")
        sub = "mallory" if cred.id == "liar" else cred.id
        role = "NoSuchRole" if cred.id == "oddrole" else "DataOwner-bank_a"
        return auth_pb.UserAuthenticateResponse(claims=auth_pb.UserAuthClaims(sub=sub, role=role))


UNREACHABLE = ("failed to connect to all addresses; last error: UNKNOWN: ipv4:10.1.2.3:7781: "
               "Failed to connect to remote host: Connection refused")


class Management(mgmt_grpc.GaiwanManagementServicer):
    """Implements GetTask; GetFunction and ListFunctions fail as management does when storage
    is unreachable and when storage says why; the base class answers UNIMPLEMENTED for the rest."""

    def GetTask(self, request, context):  # type: ignore[no-untyped-def]
        metadata = dict(context.invocation_metadata())
        return pb.GetTaskResponse(task_id=request.task_id, creator=metadata["gaiwan-user-id"],
                                  function_owner=metadata["gaiwan-user-role"])

    def GetFunction(self, request, context):  # type: ignore[no-untyped-def]
        context.abort(grpc.StatusCode.UNAVAILABLE, UNREACHABLE)

    def ListFunctions(self, request, context):  # type: ignore[no-untyped-def]
        context.abort(grpc.StatusCode.UNAVAILABLE, "storage is shutting down")


def _serve(register, edge: bool = True) -> tuple[grpc.Server, str]:  # type: ignore[no-untyped-def]
    """edge: with Gaiwan's server interceptor (the frontend); the fake neighbours run without."""
    interceptors = [ServerInterceptor(LOG, None)] if edge else []
    server = grpc.server(futures.ThreadPoolExecutor(4), interceptors=interceptors)
    register(server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, f"127.0.0.1:{port}"


@pytest.fixture
def frontend() -> Iterator[tuple[pb_grpc.TeaclaveFrontendStub, MemoryStorage]]:
    auth_server, auth_addr = _serve(lambda s: auth_grpc.add_TeaclaveAuthenticationInternalServicer_to_server(FakeAuth(), s), edge=False)
    auth_channel = grpc.insecure_channel(auth_addr)
    mgmt_server, mgmt_addr = _serve(lambda s: mgmt_grpc.add_GaiwanManagementServicer_to_server(Management(), s), edge=False)
    mgmt_channel = grpc.insecure_channel(mgmt_addr)
    storage = MemoryStorage()

    def check(user_id: str, role: Role, action: str) -> Decision:
        return Decision(action in ("get_task", "register_function", "get_function",
                                   "list_functions"), ())

    writer = AuditWriter(storage, LOG)
    stop = threading.Event()
    writer_thread = threading.Thread(target=writer.run, args=(stop,))
    writer_thread.start()
    gate = Gate(Authenticator(auth_channel, LOG), check, mgmt_grpc.GaiwanManagementStub(mgmt_channel),
                writer, storage, LOG)
    server, addr = _serve(gate.register)
    channel = grpc.insecure_channel(addr)
    yield pb_grpc.TeaclaveFrontendStub(channel), storage
    channel.close()
    server.stop(None)
    stop.set()
    writer.close()
    writer_thread.join()
    for ch, srv in ((auth_channel, auth_server), (mgmt_channel, mgmt_server)):
        ch.close()
        srv.stop(None)


def _md(user: str, token: str = "good") -> tuple[tuple[str, str], ...]:
    return (("id", user), ("token", token))


def test_allowed_call_round_trip(frontend) -> None:  # type: ignore[no-untyped-def]
    """A valid token and an allowed call get management's answer, as the authenticated user."""
    stub, _ = frontend
    reply = stub.GetTask(pb.GetTaskRequest(task_id="task-9"), metadata=_md("alice"))
    assert (reply.task_id, reply.creator) == ("task-9", "alice")


@pytest.mark.parametrize("md", [(), _md("alice", "bad"), _md("liar"), _md("oddrole")])
def test_authentication_failures_are_unauthenticated(frontend, md) -> None:  # type: ignore[no-untyped-def]
    """No credentials, a refused token, claims for another user or an unknown role: UNAUTHENTICATED."""
    stub, _ = frontend
    with pytest.raises(grpc.RpcError) as info:
        stub.GetTask(pb.GetTaskRequest(), metadata=md)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_denied_call_is_permission_denied_on_the_wire(frontend) -> None:  # type: ignore[no-untyped-def]
    """A denied call surfaces as PERMISSION_DENIED to a Teaclave client."""
    stub, _ = frontend
    with pytest.raises(grpc.RpcError) as info:
        stub.CreateTask(pb.CreateTaskRequest(), metadata=_md("alice"))
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_downstream_status_passes_unchanged(frontend) -> None:  # type: ignore[no-untyped-def]
    """A status management returns (here UNIMPLEMENTED) reaches the client unchanged and is audited."""
    stub, storage = frontend
    with pytest.raises(grpc.RpcError) as info:
        stub.RegisterFunction(pb.RegisterFunctionRequest(name="f"), metadata=_md("alice"))
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
    reply = stub.GetTask(pb.GetTaskRequest(task_id="t"), metadata=_md("alice"))
    assert reply.function_owner == "DataOwner-bank_a"


def test_audit_entry_has_the_client_ip(frontend) -> None:  # type: ignore[no-untyped-def]
    """The audit entry of a real call carries 127.0.0.1 packed."""
    stub, storage = frontend
    stub.GetTask(pb.GetTaskRequest(task_id="t"), metadata=_md("alice"))

    entries = []
    for _ in range(200):
        entries = audit.query(storage, "get_task", 10)
        if entries:
            break
        threading.Event().wait(0.01)
    assert entries[0].ip == bytes([127, 0, 0, 1]) and entries[0].result


def test_authentication_outage_is_unavailable_not_a_refused_token() -> None:
    """The token may well be good: the caller is told to retry, not to log in again."""
    with grpc.insecure_channel("127.0.0.1:1") as down:
        with pytest.raises(Unavailable, match="authentication is unavailable; try again"):
            Authenticator(down, LOG, timeout_s=0.5).check("alice", "good")


def test_an_unreachable_internal_service_is_reported_without_its_address(  # type: ignore[no-untyped-def]
        frontend) -> None:
    """grpcio's text for a peer it could not reach names internal addresses: the client gets
    UNAVAILABLE with a plain message; a reason a service gave passes unchanged."""
    stub, _ = frontend
    with pytest.raises(grpc.RpcError) as info:
        stub.GetFunction(pb.GetFunctionRequest(function_id="function-1"), metadata=_md("alice"))
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert info.value.details() == "a platform service is unreachable; try again"
    with pytest.raises(grpc.RpcError) as info:
        stub.ListFunctions(pb.ListFunctionsRequest(user_id="alice"), metadata=_md("alice"))
    assert (info.value.code(), info.value.details()) == (grpc.StatusCode.UNAVAILABLE,
                                                         "storage is shutting down")
