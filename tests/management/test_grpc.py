"""The gRPC adapter behind the server interceptor: caller metadata, statuses, message shapes."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from gaiwan.logs import get_logger
from gaiwan.rpc.interceptors import ServerInterceptor
from gaiwan.rpc.pb import gaiwan_api_pb2 as api_pb
from gaiwan.rpc.pb import gaiwan_management_pb2_grpc as pb_grpc
from gaiwan.rpc.pb import teaclave_common_pb2 as common_pb
from gaiwan.rpc.pb import teaclave_frontend_service_pb2 as fe_pb
from gaiwan.services.management import Management, _grpc

FRED = (("gaiwan-user-id", "fred"), ("gaiwan-user-role", "FunctionOwner"))
ALICE = (("gaiwan-user-id", "alice"), ("gaiwan-user-role", "DataOwner-bank_a"))
CAROL = (("gaiwan-user-id", "carol"), ("gaiwan-user-role", "DataOwner-bank_c"))


@pytest.fixture
def stub(core: Management) -> Iterator[pb_grpc.GaiwanManagementStub]:
    """A plaintext loopback server (mesh TLS is the interceptor's and runtime's business)."""
    from concurrent import futures

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                         interceptors=[ServerInterceptor(get_logger("management"), None)])
    _grpc.register(core)(server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield pb_grpc.GaiwanManagementStub(channel)
    channel.close()
    server.stop(None)


def _register(stub: pb_grpc.GaiwanManagementStub, **fields: object) -> str:
    request = fe_pb.RegisterFunctionRequest(
        name="builtin-echo", executor_type="builtin", public=False, user_allowlist=["bank_a"], usage_quota=-1,
        arguments=[fe_pb.FunctionArgument(key="message", allow_overwrite=True)], **fields)
    return str(stub.RegisterFunction(request, metadata=FRED).function_id)


def test_function_calls_carry_the_caller(stub: pb_grpc.GaiwanManagementStub) -> None:
    """The metadata caller becomes the owner, and allowlisted callers get the redacted view."""
    function_id = _register(stub, payload=b"p")
    assert stub.GetFunction(fe_pb.GetFunctionRequest(function_id=function_id), metadata=FRED).owner == "fred"
    redacted = stub.GetFunction(fe_pb.GetFunctionRequest(function_id=function_id), metadata=ALICE)
    assert redacted.payload == b"" and list(redacted.user_allowlist) == []
    listed = stub.ListFunctions(fe_pb.ListFunctionsRequest(user_id="alice"), metadata=ALICE)
    assert list(listed.allowed_functions) == [function_id]


@pytest.mark.parametrize("metadata, code", [
    ((), grpc.StatusCode.UNAUTHENTICATED),
    ((("gaiwan-user-id", "fred"),), grpc.StatusCode.UNAUTHENTICATED),
    (FRED + (("gaiwan-user-id", "eve"),), grpc.StatusCode.UNAUTHENTICATED),
    ((("gaiwan-user-id", "fred"), ("gaiwan-user-role", "Wizard")), grpc.StatusCode.INVALID_ARGUMENT),
])
def test_caller_metadata_required(stub: pb_grpc.GaiwanManagementStub, metadata: tuple,
                                  code: grpc.StatusCode) -> None:
    """Missing, repeated or unparsable caller metadata is refused before anything happens."""
    with pytest.raises(grpc.RpcError) as err:
        stub.ListFunctions(fe_pb.ListFunctionsRequest(user_id="fred"), metadata=metadata)
    assert err.value.code() == code


def test_errors_keep_their_status(stub: pb_grpc.GaiwanManagementStub) -> None:
    """Denials, bad ids and wrong states arrive with their own status codes."""
    function_id = _register(stub)
    cases = [
        (lambda: stub.GetFunction(fe_pb.GetFunctionRequest(function_id=function_id), metadata=CAROL),
         grpc.StatusCode.PERMISSION_DENIED),
        (lambda: stub.GetTask(fe_pb.GetTaskRequest(task_id="task-x"), metadata=ALICE),
         grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: stub.CreateTask(fe_pb.CreateTaskRequest(function_id=function_id, function_arguments="[]",
                                                         executor="builtin"), metadata=ALICE),
         grpc.StatusCode.INVALID_ARGUMENT),
    ]
    for call, code in cases:
        with pytest.raises(grpc.RpcError) as err:
            call()
        assert err.value.code() == code


def test_task_path(stub: pb_grpc.GaiwanManagementStub) -> None:
    """Create, assign-free approve, invoke, cancel and wait work end to end over gRPC."""
    function_id = _register(stub)
    task_id = stub.CreateTask(fe_pb.CreateTaskRequest(
        function_id=function_id, function_arguments='{"message": "hi"}', executor="builtin"),
        metadata=ALICE).task_id
    stub.ApproveTask(fe_pb.ApproveTaskRequest(task_id=task_id), metadata=ALICE)
    stub.ApproveTask(fe_pb.ApproveTaskRequest(task_id=task_id), metadata=FRED)
    stub.InvokeTask(fe_pb.InvokeTaskRequest(task_id=task_id), metadata=ALICE)
    task = stub.GetTask(fe_pb.GetTaskRequest(task_id=task_id), metadata=FRED)
    assert task.status == common_pb.Staged and list(task.participants) == ["alice", "fred"]
    stub.CancelTask(fe_pb.CancelTaskRequest(task_id=task_id), metadata=ALICE)
    waited = stub.WaitTask(api_pb.WaitTaskRequest(task_id=task_id, timeout_ms=1000), metadata=ALICE)
    assert waited.status == common_pb.Canceled and waited.result.Err.reason == "canceled"
    with pytest.raises(grpc.RpcError) as err:
        stub.CancelTask(fe_pb.CancelTaskRequest(task_id=task_id), metadata=ALICE)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_file_calls(stub: pb_grpc.GaiwanManagementStub) -> None:
    """Files register and read back through the adapter; bad crypto info is INVALID_ARGUMENT."""
    info = common_pb.FileCryptoInfo(schema="aes-gcm-128", key=bytes(16), iv=bytes(12))
    data_id = stub.RegisterInputFile(fe_pb.RegisterInputFileRequest(
        url="https://h/a", cmac=bytes(16), crypto_info=info), metadata=ALICE).data_id
    got = stub.GetInputFile(fe_pb.GetInputFileRequest(data_id=data_id), metadata=ALICE)
    assert list(got.owner) == ["alice"] and got.cmac == bytes(16)
    bad = common_pb.FileCryptoInfo(schema="aes-gcm-128", key=bytes(5), iv=bytes(12))
    with pytest.raises(grpc.RpcError) as err:
        stub.RegisterOutputFile(fe_pb.RegisterOutputFileRequest(url="file:///o", crypto_info=bad),
                                metadata=ALICE)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
