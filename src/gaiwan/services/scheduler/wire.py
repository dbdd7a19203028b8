"""Conversions of the scheduler protocol, used by both ends (scheduler and execution nodes), so
that a task result or a file description means the same thing on either side."""

from __future__ import annotations

import dataclasses
import json

from ... import records
from ...rpc.pb import gaiwan_scheduler_pb2 as spb
from ...rpc.pb import teaclave_common_pb2 as cpb


def result_to_pb(result: records.TaskResult) -> cpb.TaskResult:
    if result.failure is not None:
        return cpb.TaskResult(Err=cpb.TaskFailure(reason=result.failure))
    return cpb.TaskResult(Ok=cpb.TaskOutputs(
        return_value=result.return_value, tags_map=dict(result.tags_map), log=list(result.log)))


def result_from_pb(message: cpb.TaskResult) -> records.TaskResult:
    kind = message.WhichOneof("result")
    if kind == "Ok":
        ok = message.Ok
        return records.TaskResult(return_value=ok.return_value, tags_map=dict(ok.tags_map),
                                  log=tuple(ok.log))
    if kind == "Err":
        return records.TaskResult(failure=message.Err.reason or "failed")
    return records.TaskResult(failure="execution node sent no result")


def file_spec(name: str, data: records.DataFile) -> spb.FileSpec:
    crypto = data.crypto_info
    return spb.FileSpec(
        name=name, data_id=data.data_id, url=data.url, cmac=data.cmac,
        crypto_info=cpb.FileCryptoInfo(schema=crypto.schema, key=crypto.key, iv=crypto.iv),
    )


def final_arguments(task: records.Task, function: records.Function) -> dict[str, str]:
    """The task's arguments with the function's defaults filled in for keys it did not set."""
    merged = {arg.key: arg.default_value for arg in function.arguments}
    merged.update(task.function_arguments)
    return merged


def assignment(task: records.Task, function: records.Function, inputs: list[spb.FileSpec],
               outputs: list[spb.FileSpec], lease_ms: int) -> spb.TaskAssignment:
    return spb.TaskAssignment(
        task_id=task.task_id,
        function_id=function.function_id,
        function_name=function.name,
        executor_type=function.executor_type,
        executor=task.executor,
        payload=function.payload,
        function_arguments=json.dumps(final_arguments(task, function), sort_keys=True),
        inputs=inputs,
        outputs=outputs,
        lease_ms=lease_ms,
        attempt=task.attempt,
    )


def with_tags(result: records.TaskResult, output_cmacs: dict[str, bytes]) -> records.TaskResult:
    """Teaclave reports each written output's cmac in tags_map (output name -> cmac)."""
    return dataclasses.replace(result, tags_map={**result.tags_map, **output_cmacs})
