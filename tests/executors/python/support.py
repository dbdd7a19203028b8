"""Helpers for the sandboxed Python executor's tests."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from gaiwan.executors import CancelEvent, ExecutionOutput, FunctionError, TaskContext
from gaiwan.executors.python import Limits, PythonExecutor

MiB = 1 << 20
LIMITS = Limits(time=10.0, memory=256 * MiB, processes=8, file_size=1 * MiB)


def task(source: str, arguments: Mapping[str, str] | None = None,
         inputs: Mapping[str, Path] | None = None,
         outputs: Mapping[str, Path] | None = None) -> TaskContext:
    return TaskContext(task_id="task-1", function_name="f", executor_type="python",
                       payload=source.encode(), arguments=dict(arguments or {}),
                       input_paths=dict(inputs or {}), output_paths=dict(outputs or {}))


def run(ex: PythonExecutor, source: str, **kwargs: Mapping[str, object]) -> ExecutionOutput:
    return ex.run(task(source, **kwargs), CancelEvent())  # type: ignore[arg-type]


def failure(ex: PythonExecutor, source: str, **kwargs: Mapping[str, object]) -> str:
    """The reason the task fails with; fails the test if it succeeds."""
    with pytest.raises(FunctionError) as caught:
        run(ex, source, **kwargs)
    return caught.value.reason


def assert_still_works(ex: PythonExecutor) -> None:
    """The executor keeps running tasks after whatever the previous payload did."""
    assert run(ex, "def entrypoint(argv):\n    return 'ok'\n").return_value == b"ok"
