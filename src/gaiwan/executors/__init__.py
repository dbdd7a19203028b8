"""Executors run a task's function on an execution node: the interface, and a registry keyed by
the function's `executor_type` (spec §8)."""

from ._base import (
    CancelEvent,
    ExecutionOutput,
    Executor,
    FileRef,
    FunctionError,
    TaskContext,
    failure_reason,
)
from ._registry import ExecutorRegistry, default_registry

__all__ = [
    "CancelEvent",
    "ExecutionOutput",
    "Executor",
    "ExecutorRegistry",
    "FileRef",
    "FunctionError",
    "TaskContext",
    "default_registry",
    "failure_reason",
]
