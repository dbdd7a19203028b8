"""One task run on a node: assignment in, TaskResult out. No gRPC, no threads of its own.

Around the executor runs the data path (`_datapath`): inputs are fetched, checked and opened
into a private directory before the function starts; outputs are sealed and uploaded after it
returns; the directory is gone when `run_assignment` returns.
"""

from __future__ import annotations

import dataclasses
import json

from ... import records
from ...executors import (CancelEvent, ExecutionOutput, Executor, ExecutorRegistry, FileRef,
                          FunctionError, TaskContext)
from ...executors import failure_reason
from ...logs import Logger
from ...rpc.pb import gaiwan_scheduler_pb2 as spb
from ...transport import Transport
from . import _datapath

STOPPED_REASON = "stopped"


def _file(spec: spb.FileSpec) -> FileRef:
    crypto = spec.crypto_info
    return FileRef(spec.name, spec.data_id, spec.url, crypto.schema, crypto.key, crypto.iv, spec.cmac)


def context(assignment: spb.TaskAssignment) -> TaskContext:
    try:
        arguments = json.loads(assignment.function_arguments or "{}")
    except ValueError:
        raise FunctionError("malformed function arguments") from None
    if not isinstance(arguments, dict):
        raise FunctionError("malformed function arguments")
    return TaskContext(
        task_id=assignment.task_id,
        function_name=assignment.function_name,
        executor_type=assignment.executor_type,
        payload=assignment.payload,
        arguments={str(k): str(v) for k, v in arguments.items()},
        inputs=tuple(_file(s) for s in assignment.inputs),
        outputs=tuple(_file(s) for s in assignment.outputs),
    )


def run_assignment(assignment: spb.TaskAssignment, cancel: CancelEvent,
                   executors: ExecutorRegistry, log: Logger,
                   transport: Transport | None = None) -> records.TaskResult:
    """Runs the task; every failure becomes TaskResult.Err with a reason safe to show.

    `tags_map` holds output name -> cmac of every output uploaded: on success all of them, on a
    failure during uploads those uploaded before it (the node reports them either way)."""
    task: TaskContext | None = None
    written: dict[str, bytes] = {}
    try:
        task = context(assignment)
        output, written = _run(task, cancel, executors.get(assignment.executor_type),
                               transport or Transport())
    except _datapath.UploadError as exc:
        return _failed(STOPPED_REASON if cancel.is_set() else exc.reason, exc.written)
    except FunctionError as exc:
        return _failed(STOPPED_REASON if cancel.is_set() else exc.reason)
    except Exception as exc:  # noqa: BLE001 - an executor bug must not kill the worker
        log.error("executor error", task_id=assignment.task_id, error=type(exc).__name__)
        return _failed(failure_reason(exc, task) if task else type(exc).__name__)
    keep_log = task.arguments.get("save_log") == "true"
    return records.TaskResult(return_value=output.return_value, tags_map=written,
                              log=output.log if keep_log else ())


def _run(task: TaskContext, cancel: CancelEvent, executor: Executor,
         transport: Transport) -> tuple[ExecutionOutput, dict[str, bytes]]:
    if not task.inputs and not task.outputs:  # nothing to fetch or seal: no directory needed
        output = executor.run(task, cancel)
        if cancel.is_set():
            raise FunctionError(STOPPED_REASON)
        return output, {}
    with _datapath.private_dir() as work:
        task = dataclasses.replace(
            task,
            input_paths=_datapath.open_inputs(task.inputs, transport, work, cancel),
            output_paths=_datapath.output_paths(task.outputs, work),
        )
        output = executor.run(task, cancel)
        if cancel.is_set():
            raise FunctionError(STOPPED_REASON)
        sealed = _datapath.seal_outputs(task.outputs, task.output_paths)
        return output, _datapath.upload_outputs(sealed, transport, cancel)


def _failed(reason: str, written: dict[str, bytes] | None = None) -> records.TaskResult:
    return records.TaskResult(failure=reason, tags_map=dict(written or {}))
