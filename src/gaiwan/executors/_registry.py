"""Executors by `executor_type`, the field of a function record that says how to run it."""

from __future__ import annotations

from ._base import Executor, FunctionError


class ExecutorRegistry:
    def __init__(self, executors: tuple[Executor, ...] = ()) -> None:
        self._executors: dict[str, Executor] = {}
        for executor in executors:
            self.register(executor)

    def register(self, executor: Executor) -> None:
        self._executors[executor.executor_type] = executor

    def get(self, executor_type: str) -> Executor:
        try:
            return self._executors[executor_type]
        except KeyError:
            raise FunctionError(f"executor {executor_type!r} is not available on this node") from None

    def executor_types(self) -> tuple[str, ...]:
        return tuple(sorted(self._executors))

    def builtin_names(self) -> tuple[str, ...]:
        return tuple(sorted(name for ex in self._executors.values() for name in ex.functions()))


def default_registry() -> ExecutorRegistry:
    """The executors this installation offers. Imported here, not at module level, so that loading
    the interface does not load every executor's dependencies."""
    from .builtin import BuiltinExecutor
    from .python import PythonExecutor
    from .wasm import wasm_executors

    return ExecutorRegistry((BuiltinExecutor(), *wasm_executors(), PythonExecutor()))
