"""The `builtin` executor: the function record's name selects a Python implementation in
gaiwan.functions; the payload is ignored (Teaclave registers built-ins with an empty one)."""

from __future__ import annotations

from .. import functions
from ._base import CancelEvent, ExecutionOutput, Executor, FunctionError, TaskContext, failure_reason


class BuiltinExecutor(Executor):
    executor_type = "builtin"

    def __init__(self, memory_bytes: int = 0) -> None:
        """memory_bytes: what the node reserves for each built-in task. Built-ins run in the
        node's process without a limit, so this is the operator's estimate, not a bound."""
        self._memory_bytes = memory_bytes

    def task_memory_bytes(self) -> int:
        return self._memory_bytes

    def functions(self) -> tuple[str, ...]:
        return functions.names()

    def run(self, task: TaskContext, cancel: CancelEvent) -> ExecutionOutput:
        function = functions.lookup(task.function_name)
        if function is None:
            raise FunctionError(f"no built-in function named {task.function_name!r}")
        call = functions.FunctionCall(task.arguments, cancel, task.input_paths, task.output_paths)
        try:
            value = function(call)
        except FunctionError:
            raise
        except Exception as exc:  # noqa: BLE001 - any function failure ends the task Failed
            raise FunctionError(failure_reason(exc, task)) from None
        if cancel.is_set():
            raise FunctionError("stopped")
        raw = value.encode() if isinstance(value, str) else bytes(value)
        return ExecutionOutput(raw, tuple(call.log_lines))
