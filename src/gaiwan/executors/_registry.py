"""Executors by `executor_type`, the field of a function record that says how to run it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._base import Executor, FunctionError

if TYPE_CHECKING:
    from .python import Limits
    from .wasm import WasmLimits


class ExecutorRegistry:
    def __init__(self, executors: tuple[Executor, ...] = ()) -> None:
        self._executors: dict[str, Executor] = {}
        for executor in executors:
            self.register(executor)

    def register(self, executor: Executor) -> None:
        self._executors[executor.executor_type] = executor

    def remove(self, executor_type: str) -> None:
        """Stops offering an executor (e.g. one that cannot start on this host)."""
        self._executors.pop(executor_type, None)

    def get(self, executor_type: str) -> Executor:
        try:
            return self._executors[executor_type]
        except KeyError:
            raise FunctionError(f"executor {executor_type!r} is not available on this node") from None

    def executors(self) -> tuple[Executor, ...]:
        return tuple(self._executors.values())

    def executor_types(self) -> tuple[str, ...]:
        return tuple(sorted(self._executors))

    def builtin_names(self) -> tuple[str, ...]:
        return tuple(sorted(name for ex in self._executors.values() for name in ex.functions()))


def default_registry(python: Limits | None = None, wasm: WasmLimits | None = None,
                     builtin_memory: int = 0) -> ExecutorRegistry:
    """Every executor this installation offers, with the given limits. Imported here, not at
    module level, so that loading the interface does not load every executor's dependencies."""
    from .builtin import BuiltinExecutor
    from .python import Limits, PythonExecutor
    from .wasm import wasm_executors

    return ExecutorRegistry((BuiltinExecutor(builtin_memory), *wasm_executors(wasm),
                             PythonExecutor(python or Limits())))
