"""The one boundary between management's records and the Teaclave frontend protobufs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ...records import (CryptoInfo, DataFile, Function, FunctionArgument, FunctionIO, OwnerList,
                        Task, TaskResult, TaskStatus)
from ...rpc.pb import teaclave_common_pb2 as common_pb
from ...rpc.pb import teaclave_frontend_service_pb2 as fe_pb

FunctionRequest = fe_pb.RegisterFunctionRequest | fe_pb.UpdateFunctionRequest


def function_from_request(req: FunctionRequest) -> Function:
    """The caller's definition; id and owner are left empty for the service to fill in."""
    return Function(
        function_id="",
        owner="",
        name=req.name,
        description=req.description,
        executor_type=req.executor_type,
        public=req.public,
        payload=req.payload,
        arguments=tuple(FunctionArgument(a.key, a.default_value, a.allow_overwrite) for a in req.arguments),
        inputs=tuple(FunctionIO(i.name, i.description, i.optional) for i in req.inputs),
        outputs=tuple(FunctionIO(o.name, o.description, o.optional) for o in req.outputs),
        user_allowlist=tuple(req.user_allowlist),
        usage_quota=req.usage_quota,
    )


def function_to_response(function: Function) -> fe_pb.GetFunctionResponse:
    return fe_pb.GetFunctionResponse(
        name=function.name,
        description=function.description,
        executor_type=function.executor_type,
        owner=function.owner,
        payload=function.payload,
        public=function.public,
        arguments=[fe_pb.FunctionArgument(key=a.key, default_value=a.default_value,
                                          allow_overwrite=a.allow_overwrite) for a in function.arguments],
        inputs=[fe_pb.FunctionInput(name=i.name, description=i.description, optional=i.optional)
                for i in function.inputs],
        outputs=[fe_pb.FunctionOutput(name=o.name, description=o.description, optional=o.optional)
                 for o in function.outputs],
        user_allowlist=list(function.user_allowlist),
    )


def usage_to_response(function: Function) -> fe_pb.GetFunctionUsageStatsResponse:
    return fe_pb.GetFunctionUsageStatsResponse(function_quota=function.usage_quota,
                                               current_usage=function.current_usage)


def crypto_from_proto(info: common_pb.FileCryptoInfo) -> CryptoInfo:
    return CryptoInfo(info.schema, info.key, info.iv)


def crypto_to_proto(info: CryptoInfo) -> common_pb.FileCryptoInfo:
    return common_pb.FileCryptoInfo(schema=info.schema, key=info.key, iv=info.iv)


def file_to_input_response(file: DataFile) -> fe_pb.GetInputFileResponse:
    return fe_pb.GetInputFileResponse(owner=list(file.owners), cmac=file.cmac)


def file_to_output_response(file: DataFile) -> fe_pb.GetOutputFileResponse:
    return fe_pb.GetOutputFileResponse(owner=list(file.owners), cmac=file.cmac)


def owners_from_proto(lists: Iterable[fe_pb.OwnerList]) -> tuple[OwnerList, ...]:
    return tuple(OwnerList(o.data_name, tuple(o.uids)) for o in lists)


def _owners_to_proto(lists: Iterable[OwnerList]) -> list[fe_pb.OwnerList]:
    return [fe_pb.OwnerList(data_name=o.data_name, uids=list(o.uids)) for o in lists]


def data_maps_from_proto(maps: Iterable[fe_pb.DataMap]) -> list[tuple[str, str]]:
    return [(m.data_name, m.data_id) for m in maps]


def _data_maps_to_proto(assigned: dict[str, str]) -> list[fe_pb.DataMap]:
    return [fe_pb.DataMap(data_name=name, data_id=data_id) for name, data_id in assigned.items()]


def task_result_to_proto(result: TaskResult) -> common_pb.TaskResult:
    if result.ok:
        return common_pb.TaskResult(Ok=common_pb.TaskOutputs(
            return_value=result.return_value, tags_map=result.tags_map, log=list(result.log)))
    return common_pb.TaskResult(Err=common_pb.TaskFailure(reason=result.failure or ""))


def task_result_from_proto(result: common_pb.TaskResult) -> TaskResult | None:
    """None when neither arm is set (a task that has not ended)."""
    arm = result.WhichOneof("result")
    if arm == "Ok":
        return TaskResult(return_value=result.Ok.return_value, tags_map=dict(result.Ok.tags_map),
                          log=tuple(result.Ok.log))
    if arm == "Err":
        return TaskResult(failure=result.Err.reason)
    return None


def task_to_response(task: Task) -> fe_pb.GetTaskResponse:
    """Teaclave's view of a task; the result appears once the task has ended."""
    response = fe_pb.GetTaskResponse(
        task_id=task.task_id,
        creator=task.creator,
        function_id=task.function_id,
        function_owner=task.function_owner,
        function_arguments=json.dumps(task.function_arguments, separators=(",", ":")),
        inputs_ownership=_owners_to_proto(task.inputs_ownership),
        outputs_ownership=_owners_to_proto(task.outputs_ownership),
        participants=list(task.participants),
        approved_users=list(task.approved_users),
        assigned_inputs=_data_maps_to_proto(task.assigned_inputs),
        assigned_outputs=_data_maps_to_proto(task.assigned_outputs),
        status=int(task.status),  # type: ignore[arg-type]
    )
    if task.status.terminal and task.result is not None:
        response.result.CopyFrom(task_result_to_proto(task.result))
    return response


def task_from_response(response: fe_pb.GetTaskResponse) -> Task:
    """The record a client reads back (Gaiwan's bookkeeping fields stay at their defaults)."""
    arguments: dict[str, Any] = json.loads(response.function_arguments or "{}")
    return Task(
        task_id=response.task_id,
        creator=response.creator,
        function_id=response.function_id,
        function_owner=response.function_owner,
        function_arguments={k: str(v) for k, v in arguments.items()},
        executor="",
        inputs_ownership=owners_from_proto(response.inputs_ownership),
        outputs_ownership=owners_from_proto(response.outputs_ownership),
        participants=tuple(response.participants),
        approved_users=tuple(response.approved_users),
        assigned_inputs={m.data_name: m.data_id for m in response.assigned_inputs},
        assigned_outputs={m.data_name: m.data_id for m in response.assigned_outputs},
        status=TaskStatus(response.status),
        result=task_result_from_proto(response.result) if response.HasField("result") else None,
    )
