"""Protobuf conversion: function requests and responses, crypto info, tasks and results."""

from __future__ import annotations

import dataclasses
import json

from gaiwan.records import (CryptoInfo, DataFile, FunctionArgument, FunctionIO, OwnerList, Task,
                            TaskResult, TaskStatus)
from gaiwan.rpc.pb import teaclave_common_pb2 as common_pb
from gaiwan.rpc.pb import teaclave_frontend_service_pb2 as fe_pb
from gaiwan.services.management import _convert as convert

REQUEST = fe_pb.RegisterFunctionRequest(
    name="f", description="d", executor_type="python", public=False, payload=b"code",
    arguments=[fe_pb.FunctionArgument(key="k", default_value="v", allow_overwrite=False)],
    inputs=[fe_pb.FunctionInput(name="i", description="in", optional=True)],
    outputs=[fe_pb.FunctionOutput(name="o", description="out")],
    user_allowlist=["alice", "bank_b"], usage_quota=5,
)

TASK = Task(
    task_id="task-1", creator="alice", function_id="function-1", function_owner="fred",
    function_arguments={"order": "asc", "n": "3"}, executor="builtin",
    inputs_ownership=(OwnerList("left", ("alice", "bob")),),
    outputs_ownership=(OwnerList("out", ("alice",)),),
    participants=("alice", "bob", "fred"), approved_users=("bob",),
    assigned_inputs={"left": "input-1"}, assigned_outputs={"out": "output-1"},
    status=TaskStatus.FINISHED,
    result=TaskResult(return_value=b"ok", tags_map={"out": bytes(16)}, log=("line",)),
)


def test_function_request_to_record_to_response() -> None:
    """Every field of a registration survives record conversion into GetFunctionResponse."""
    function = dataclasses.replace(convert.function_from_request(REQUEST), owner="fred")
    assert function.arguments == (FunctionArgument("k", "v", False),)
    assert function.inputs == (FunctionIO("i", "in", True),) and function.usage_quota == 5
    response = convert.function_to_response(function)
    assert response.owner == "fred"
    for field in ("name", "description", "executor_type", "public", "payload", "arguments",
                  "inputs", "outputs", "user_allowlist"):
        assert getattr(response, field) == getattr(REQUEST, field), field


def test_update_request_converts_like_register() -> None:
    """UpdateFunctionRequest shares the definition fields with RegisterFunctionRequest."""
    update = fe_pb.UpdateFunctionRequest(function_id="function-1", name="f", executor_type="builtin",
                                         usage_quota=-1)
    function = convert.function_from_request(update)
    assert (function.name, function.executor_type, function.usage_quota) == ("f", "builtin", -1)


def test_usage_and_file_responses() -> None:
    """Usage stats and file responses carry quota, usage, owners and cmac."""
    function = dataclasses.replace(convert.function_from_request(REQUEST), current_usage=2)
    assert convert.usage_to_response(function) == fe_pb.GetFunctionUsageStatsResponse(
        function_quota=5, current_usage=2)
    file = DataFile("input-1", "input", "file:///x", ("alice", "bob"), CryptoInfo("raw", b""), b"m")
    assert list(convert.file_to_input_response(file).owner) == ["alice", "bob"]
    assert convert.file_to_output_response(file).cmac == b"m"


def test_crypto_info_round_trip() -> None:
    """FileCryptoInfo converts both ways unchanged."""
    info = CryptoInfo("aes-gcm-128", bytes(range(16)), bytes(12))
    assert convert.crypto_from_proto(convert.crypto_to_proto(info)) == info


def test_task_round_trip_with_result() -> None:
    """A finished task converts to GetTaskResponse and back, result included."""
    response = convert.task_to_response(TASK)
    assert json.loads(response.function_arguments) == TASK.function_arguments
    assert response.status == common_pb.Finished and response.result.WhichOneof("result") == "Ok"
    back = convert.task_from_response(fe_pb.GetTaskResponse.FromString(response.SerializeToString()))
    assert back == dataclasses.replace(TASK, executor="")


def test_task_result_arms() -> None:
    """Failures become TaskResult.Err; an unset result means no result."""
    err = convert.task_result_to_proto(TaskResult(failure="bad mac"))
    assert err.Err.reason == "bad mac"
    assert convert.task_result_from_proto(err) == TaskResult(failure="bad mac")
    assert convert.task_result_from_proto(common_pb.TaskResult()) is None


def test_live_task_has_no_result() -> None:
    """A task that has not ended carries no result, even if one is stored."""
    response = convert.task_to_response(dataclasses.replace(TASK, status=TaskStatus.RUNNING))
    assert not response.HasField("result") and response.status == common_pb.Running
