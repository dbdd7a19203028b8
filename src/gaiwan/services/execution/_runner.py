"""One task run on a node: assignment in, TaskResult out. No gRPC, no threads of its own."""

from __future__ import annotations

import json

from ... import records
from ...executors import CancelEvent, ExecutorRegistry, FileRef, FunctionError, TaskContext
from ...executors import failure_reason
from ...logs import Logger
from ...rpc.pb import gaiwan_scheduler_pb2 as spb

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
                   executors: ExecutorRegistry, log: Logger) -> records.TaskResult:
    """Runs the task; every failure becomes TaskResult.Err with a reason safe to show."""
    task: TaskContext | None = None
    try:
        task = context(assignment)
        output = executors.get(assignment.executor_type).run(task, cancel)
    except FunctionError as exc:
        reason = STOPPED_REASON if cancel.is_set() else exc.reason
        return records.TaskResult(failure=reason)
    except Exception as exc:  # noqa: BLE001 - an executor bug must not kill the worker
        log.error("executor error", task_id=assignment.task_id, error=type(exc).__name__)
        reason = failure_reason(exc, task) if task else type(exc).__name__
        return records.TaskResult(failure=reason)
    if cancel.is_set():
        return records.TaskResult(failure=STOPPED_REASON)
    keep_log = task.arguments.get("save_log") == "true"
    return records.TaskResult(return_value=output.return_value,
                              log=output.log if keep_log else ())
