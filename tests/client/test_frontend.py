"""FrontendService over a real TLS server: request shapes, WaitTask without polling, typed errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from gaiwan.client import (FrontendService, FunctionArgument, FunctionInput, TaskFailed,
                           TeaclaveException)
from gaiwan.errors import InvalidArgument, PermissionDenied
from gaiwan.rpc.pb import teaclave_common_pb2 as common
from gaiwan.rpc.pb import teaclave_frontend_service_pb2 as fe

from .conftest import Endpoint


@pytest.fixture
def fs(endpoint: Endpoint, client_dir: Path):
    with FrontendService(endpoint.address, client_dir / "as_root_ca_cert.pem",
                         client_dir / "enclave_info.toml") as service:
        service.metadata = {"id": "owner", "token": "tok"}
        yield service


def _task(status: int, result: common.TaskResult | None = None) -> fe.GetTaskResponse:
    return fe.GetTaskResponse(task_id="task-1", status=status, result=result)


def test_register_function_fields(fs: FrontendService, endpoint: Endpoint) -> None:
    """Teaclave's value classes and plain argument names both become the proto fields."""
    fid = fs.register_function("f", "d", "python", public=False, payload=list(b"code"),
                               arguments=[FunctionArgument("a", "1", False), "b"],
                               inputs=[FunctionInput("in", "x", True)], user_allowlist=["u"],
                               usage_quota=3)
    request = endpoint.rec.calls[-1][1]
    assert fid == "function-1" and request.payload == b"code" and not request.public
    assert [(a.key, a.default_value, a.allow_overwrite) for a in request.arguments] == [
        ("a", "1", False), ("b", "", True)]
    assert request.inputs[0].optional and list(request.user_allowlist) == ["u"]


def test_get_task_result_waits_with_waittask(fs: FrontendService, endpoint: Endpoint) -> None:
    """The result comes from WaitTask; a WaitTask timeout just asks again, GetTask never polls."""
    ok = common.TaskResult(Ok=common.TaskOutputs(return_value=b"42", tags_map={"out": b"m" * 16}))
    endpoint.rec.waits += [_task(4), _task(10, ok), _task(10, ok)]
    assert fs.get_task_result("task-1") == b"42"
    assert fs.get_output_cmac_by_tag("task-1", "out") == b"m" * 16
    assert endpoint.rec.names() == ["WaitTask"] * 3


def test_failed_task_raises_with_reason(fs: FrontendService, endpoint: Endpoint) -> None:
    """A Failed task raises TaskFailed carrying the platform's reason."""
    endpoint.rec.waits.append(_task(99, common.TaskResult(Err=common.TaskFailure(reason="bad mac"))))
    with pytest.raises(TaskFailed, match="bad mac") as err:
        fs.get_task_result("task-1")
    assert isinstance(err.value, TeaclaveException)


def test_wait_task_timeout_returns_current_state(fs: FrontendService, endpoint: Endpoint) -> None:
    """With a timeout, wait_task returns the task as it stands when time is up."""
    endpoint.rec.waits.append(_task(4))
    assert fs.wait_task("task-1", timeout=0.05)["status"] == "Running"
    assert endpoint.rec.calls[-1][1].timeout_ms <= 50


def test_errors_are_typed(fs: FrontendService) -> None:
    """Statuses come back as the gaiwan.errors classes, message kept."""
    with pytest.raises(InvalidArgument, match="no such task"):
        fs.get_task("task-missing")
    with pytest.raises(PermissionDenied):
        fs.get_task("task-denied")


def test_set_data_tags_sends_the_full_set(fs: FrontendService, endpoint: Endpoint) -> None:
    """set_data_tags calls GaiwanTasks/SetDataTags with the id and the whole tag list, with credentials."""
    fs.set_data_tags("input-1", ["eu-only", "pii"])
    fs.set_data_tags("input-1", [])
    [(name, first, metadata), (_, cleared, _)] = endpoint.rec.calls[-2:]
    assert name == "SetDataTags" and metadata["token"] == "tok"
    assert (first.data_id, list(first.tags), list(cleared.tags)) == ("input-1", ["eu-only", "pii"], [])


def test_set_data_tags_refuses_a_bare_string_and_types_errors(fs: FrontendService,
                                                              endpoint: Endpoint) -> None:
    """A single string is refused before sending; a server refusal is the typed error."""
    with pytest.raises(InvalidArgument, match="list of strings"):
        fs.set_data_tags("input-1", "eu-only")
    assert "SetDataTags" not in endpoint.rec.names()
    with pytest.raises(InvalidArgument, match="not a data id"):
        fs.set_data_tags("task-1", ["x"])
