"""Teaclave's FrontendService: functions, data and tasks, plus Gaiwan's WaitTask.

Teaclave's SDK waited for a task by calling GetTask once a second. Here `wait_task` and the calls
that need a finished task use `GaiwanTasks/WaitTask`, which the server answers as soon as the
task ends; the client loops only when a WaitTask itself times out.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from gaiwan.rpc.pb import gaiwan_api_pb2 as api
from gaiwan.rpc.pb import gaiwan_api_pb2_grpc as api_grpc
from gaiwan.rpc.pb import teaclave_frontend_service_pb2 as fe
from gaiwan.rpc.pb import teaclave_frontend_service_pb2_grpc as fe_grpc

from ..errors import InvalidArgument
from ._messages import CryptoInfo, FunctionArgument
from ._service import _Service, to_dict
from ._tasks import Task

_Stub = fe_grpc.TeaclaveFrontendStub
_Wait = api_grpc.GaiwanTasksStub  # Gaiwan's own calls: WaitTask, SetDataTags
_WAIT_CHUNK_S = 60.0
_WAIT_GRACE_S = 10.0


def _messages(items: Iterable[Any]) -> list[Any]:
    """Teaclave's value classes carry `.message`; raw protobufs are accepted as they are."""
    return [getattr(item, "message", item) for item in items]


def _arguments(items: Iterable[Any]) -> list[Any]:
    """Older Teaclave examples list argument names as plain strings."""
    return _messages(FunctionArgument(i) if isinstance(i, str) else i for i in items)


class FrontendService(_Service):
    """The frontend API. Set `metadata` to {"id": ..., "token": ...} before calling."""

    _service = "frontend"

    # -- functions -------------------------------------------------------------------------
    def register_function(self, name: str, description: str, executor_type: str,
                          public: bool = True, payload: bytes | list[int] = b"",
                          arguments: Iterable[Any] = (), inputs: Iterable[Any] = (),
                          outputs: Iterable[Any] = (), user_allowlist: Iterable[str] = (),
                          usage_quota: int = -1) -> str:
        request = fe.RegisterFunctionRequest(
            name=name, description=description, executor_type=executor_type, public=public,
            payload=bytes(payload), arguments=_arguments(arguments), inputs=_messages(inputs),
            outputs=_messages(outputs), user_allowlist=list(user_allowlist), usage_quota=usage_quota)
        return str(self._call(_Stub, "RegisterFunction", request).function_id)

    def update_function(self, function_id: str, name: str, description: str, executor_type: str,
                        public: bool = True, payload: bytes | list[int] = b"",
                        arguments: Iterable[Any] = (), inputs: Iterable[Any] = (),
                        outputs: Iterable[Any] = (), user_allowlist: Iterable[str] = (),
                        usage_quota: int = -1) -> str:
        request = fe.UpdateFunctionRequest(
            function_id=function_id, name=name, description=description,
            executor_type=executor_type, public=public, payload=bytes(payload),
            arguments=_arguments(arguments), inputs=_messages(inputs), outputs=_messages(outputs),
            user_allowlist=list(user_allowlist), usage_quota=usage_quota)
        return str(self._call(_Stub, "UpdateFunction", request).function_id)

    def list_functions(self, user_id: str) -> dict[str, Any]:
        return to_dict(self._call(_Stub, "ListFunctions", fe.ListFunctionsRequest(user_id=user_id)))

    def get_function(self, function_id: str) -> dict[str, Any]:
        return to_dict(self._call(_Stub, "GetFunction", fe.GetFunctionRequest(function_id=function_id)))

    def get_function_usage_stats(self, function_id: str) -> dict[str, Any]:
        return to_dict(self._call(_Stub, "GetFunctionUsageStats",
                                  fe.GetFunctionUsageStatsRequest(function_id=function_id)))

    def delete_function(self, function_id: str) -> None:
        self._call(_Stub, "DeleteFunction", fe.DeleteFunctionRequest(function_id=function_id))

    def disable_function(self, function_id: str) -> None:
        self._call(_Stub, "DisableFunction", fe.DisableFunctionRequest(function_id=function_id))

    # -- data ------------------------------------------------------------------------------
    def register_input_file(self, url: str, schema: str, key: bytes | list[int],
                            iv: bytes | list[int], cmac: bytes | list[int]) -> str:
        request = fe.RegisterInputFileRequest(url=url, cmac=bytes(cmac),
                                              crypto_info=CryptoInfo(schema, key, iv).message)
        return str(self._call(_Stub, "RegisterInputFile", request).data_id)

    def register_output_file(self, url: str, schema: str, key: bytes | list[int],
                             iv: bytes | list[int]) -> str:
        request = fe.RegisterOutputFileRequest(url=url, crypto_info=CryptoInfo(schema, key, iv).message)
        return str(self._call(_Stub, "RegisterOutputFile", request).data_id)

    def update_input_file(self, data_id: str, url: str) -> str:
        request = fe.UpdateInputFileRequest(data_id=data_id, url=url)
        return str(self._call(_Stub, "UpdateInputFile", request).data_id)

    def update_output_file(self, data_id: str, url: str) -> str:
        request = fe.UpdateOutputFileRequest(data_id=data_id, url=url)
        return str(self._call(_Stub, "UpdateOutputFile", request).data_id)

    def register_fusion_output(self, owner_list: Iterable[str]) -> str:
        request = fe.RegisterFusionOutputRequest(owner_list=list(owner_list))
        return str(self._call(_Stub, "RegisterFusionOutput", request).data_id)

    def register_input_from_output(self, data_id: str) -> str:
        request = fe.RegisterInputFromOutputRequest(data_id=data_id)
        return str(self._call(_Stub, "RegisterInputFromOutput", request).data_id)

    def get_input_file(self, data_id: str) -> dict[str, Any]:
        return to_dict(self._call(_Stub, "GetInputFile", fe.GetInputFileRequest(data_id=data_id)))

    def get_output_file(self, data_id: str) -> dict[str, Any]:
        return to_dict(self._call(_Stub, "GetOutputFile", fe.GetOutputFileRequest(data_id=data_id)))

    def set_data_tags(self, data_id: str, tags: Iterable[str]) -> None:
        """Replaces the tags of a data item the caller owns alone (Gaiwan's GaiwanTasks/SetDataTags;
        policies may read them, docs/policies.md). An empty list clears them."""
        if isinstance(tags, (str, bytes)):
            raise InvalidArgument("tags must be a list of strings, not one string")
        self._call(_Wait, "SetDataTags", api.SetDataTagsRequest(data_id=data_id, tags=list(tags)))

    def output_cmac(self, data_id: str) -> bytes:
        """The cmac the platform recorded when a task wrote the output; empty until then."""
        return bytes(self._call(_Stub, "GetOutputFile", fe.GetOutputFileRequest(data_id=data_id)).cmac)

    # -- tasks -----------------------------------------------------------------------------
    def create_task(self, function_id: str, function_arguments: dict[str, Any], executor: str,
                    inputs_ownership: Iterable[Any] = (), outputs_ownership: Iterable[Any] = ()) -> str:
        request = fe.CreateTaskRequest(
            function_id=function_id, function_arguments=json.dumps(function_arguments),
            executor=executor, inputs_ownership=_messages(inputs_ownership),
            outputs_ownership=_messages(outputs_ownership))
        return str(self._call(_Stub, "CreateTask", request).task_id)

    def assign_data_to_task(self, task_id: str, inputs: Iterable[Any] = (),
                            outputs: Iterable[Any] = ()) -> None:
        self._call(_Stub, "AssignData", fe.AssignDataRequest(
            task_id=task_id, inputs=_messages(inputs), outputs=_messages(outputs)))

    def approve_task(self, task_id: str) -> None:
        self._call(_Stub, "ApproveTask", fe.ApproveTaskRequest(task_id=task_id))

    def invoke_task(self, task_id: str) -> None:
        self._call(_Stub, "InvokeTask", fe.InvokeTaskRequest(task_id=task_id))

    def cancel_task(self, task_id: str) -> None:
        self._call(_Stub, "CancelTask", fe.CancelTaskRequest(task_id=task_id))

    def get_task(self, task_id: str) -> dict[str, Any]:
        return to_dict(self._task_proto(task_id))

    def _task_proto(self, task_id: str) -> fe.GetTaskResponse:
        return self._call(_Stub, "GetTask", fe.GetTaskRequest(task_id=task_id))

    def wait_task(self, task_id: str, timeout: float | None = None) -> dict[str, Any]:
        """The task once it has ended, or as it stands when `timeout` seconds have passed."""
        return to_dict(self._wait_proto(task_id, timeout))

    def _wait_proto(self, task_id: str, timeout: float | None = None) -> fe.GetTaskResponse:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            chunk = _WAIT_CHUNK_S if deadline is None else max(0.001, deadline - time.monotonic())
            chunk = min(chunk, _WAIT_CHUNK_S)
            request = api.WaitTaskRequest(task_id=task_id, timeout_ms=max(1, int(chunk * 1000)))
            response = self._call(_Wait, "WaitTask", request, timeout=chunk + _WAIT_GRACE_S)
            if Task.from_proto(response).done:
                return response
            if deadline is not None and time.monotonic() >= deadline:
                return response

    def get_task_result(self, task_id: str) -> bytes:
        """Waits for the task; its return value, or TaskFailed with the reason it did not finish."""
        return Task.from_proto(self._wait_proto(task_id)).result()

    def get_output_cmac_by_tag(self, task_id: str, tag: str) -> bytes:
        task = Task.from_proto(self._wait_proto(task_id))
        task.result()
        if tag not in task.tags:
            raise InvalidArgument(f"task {task_id} has no output {tag!r}")
        return task.tags[tag]

    # -- audit -----------------------------------------------------------------------------
    def query_audit_logs(self, query: str, limit: int) -> list[dict[str, Any]]:
        response = self._call(_Stub, "QueryAuditLogs", fe.QueryAuditLogsRequest(query=query, limit=limit))
        return [to_dict(entry) for entry in response.logs]
