"""The `wamr` executor (also offered as `wasm`): Teaclave WebAssembly payloads on wasmtime.

One run: compile (or reuse) the module, check its imports against what the host offers, create
a store with the node's limits, instantiate, copy the arguments in, call `entrypoint(argc,
argv)` and return its i32 result as a decimal string. Wasmtime runs the module in the worker
thread (releasing the GIL); traps, fuel, memory growth and interrupts all surface as Python
exceptions, so a hostile module ends its own task and nothing else.

Unlike Teaclave v0.6, which reported a WAMR exception as the task's *successful* return value,
a trap here fails the task with a reason.
"""

from __future__ import annotations

from contextlib import ExitStack

import wasmtime

from .._base import CancelEvent, ExecutionOutput, Executor, FunctionError, TaskContext
from . import _argv, _errors, _hostapi
from ._cache import CacheInfo, ModuleCache
from ._deadlines import Deadlines
from ._interrupt import StopGuard
from ._limits import WASM_PAGE, WasmLimits
from ._wasi import WASI_MODULES, wasi_view

STOPPED = "stopped"
TIME_EXCEEDED = "time limit exceeded"


class WasmRuntime:
    """The engine, module cache and limits shared by every wasm task of a node."""

    def __init__(self, limits: WasmLimits | None = None) -> None:
        self.limits = limits or WasmLimits()
        config = wasmtime.Config()
        config.epoch_interruption = True  # always on: it is how cancel reaches a running module
        config.consume_fuel = self.limits.fuel is not None
        self.engine = wasmtime.Engine(config)
        self.modules = ModuleCache(self.engine, self.limits.cached_modules, self.limits.module_bytes)
        self._deadlines = Deadlines()
        self._host = _hostapi.HostApi()
        self._linker = wasmtime.Linker(self.engine)
        self._host.define(self._linker)
        self._linker.define_wasi()

    def cache_info(self) -> CacheInfo:
        return self.modules.info()

    def run(self, task: TaskContext, cancel: CancelEvent) -> int:
        """entrypoint's result; FunctionError for every way the module can fail."""
        module = self.modules.get(task.payload)
        uses_wasi = _check_imports(module)
        _check_entrypoint(module)
        store = wasmtime.Store(self.engine)
        store.set_limits(memory_size=self.limits.memory_bytes, instances=1, table_elements=1 << 20)
        if self.limits.fuel is not None:
            store.set_fuel(self.limits.fuel)
        with ExitStack() as stack:
            files = _hostapi.FileTable(task.input_paths, task.output_paths, self.limits.output_bytes)
            stack.enter_context(self._host.serving(files))
            if uses_wasi:
                store.set_wasi(stack.enter_context(wasi_view(task.input_paths, task.output_paths)))
            guard = stack.enter_context(StopGuard(self.engine, store))
            cancel.on_set(lambda: guard.stop(STOPPED))
            if self.limits.time_limit is not None:
                stack.enter_context(self._deadlines.within(self.limits.time_limit, lambda: guard.stop(TIME_EXCEEDED)))
            result = self._call(store, module, task, guard)
        return result

    def _call(self, store: wasmtime.Store, module: wasmtime.Module, task: TaskContext,
              guard: StopGuard) -> int:
        memory: wasmtime.Memory | None = None
        try:
            instance = self._linker.instantiate(store, module)
            exported = instance.exports(store).get("memory")
            memory = exported if isinstance(exported, wasmtime.Memory) else None
            argc, argv = _place_arguments(store, memory, _argv.flatten(task.arguments))
            if guard.reason is not None:
                raise FunctionError(guard.reason)
            entrypoint = instance.exports(store)["entrypoint"]
            assert isinstance(entrypoint, wasmtime.Func)
            result = entrypoint(store, argc, argv)
        except wasmtime.ExitTrap as exc:  # WASI proc_exit(n): the program's result is n
            return exc.code
        except wasmtime.Trap as exc:
            raise FunctionError(self._failure(store, memory, guard, _errors.trap_reason(exc))) from None
        except wasmtime.WasmtimeError as exc:
            raise FunctionError(self._failure(store, memory, guard, _errors.error_reason(exc))) from None
        if guard.reason is not None:
            raise FunctionError(guard.reason)
        return int(result)

    def _failure(self, store: wasmtime.Store, memory: wasmtime.Memory | None, guard: StopGuard,
                 reason: str) -> str:
        """Why the run failed: our own stop or the fuel bound first, then a memory cap the module
        ran into (it sees a failed memory.grow and usually traps soon after), then wasmtime's."""
        if guard.reason is not None:
            return guard.reason
        at_cap = memory is not None and memory.data_len(store) + WASM_PAGE > self.limits.memory_bytes
        if at_cap and reason != _errors.FUEL_EXHAUSTED:
            return _errors.MEMORY_EXCEEDED
        if "exceeds memory limits" in reason:  # instantiation refused: initial memory above the cap
            return _errors.MEMORY_EXCEEDED
        return reason


def _check_imports(module: wasmtime.Module) -> bool:
    """Refuses imports the host does not offer; returns whether the module uses WASI."""
    uses_wasi = False
    for item in module.imports:
        if item.module in WASI_MODULES and isinstance(item.type, wasmtime.FuncType):
            uses_wasi = True
            continue
        if item.module == "env" and item.name in _hostapi.SIGNATURES:
            if not _hostapi.matches(item.type, item.name):
                raise FunctionError(f"module imports env.{item.name} with the wrong signature")
            continue
        raise FunctionError(f"module imports unknown host function {item.module}.{item.name}")
    return uses_wasi


def _check_entrypoint(module: wasmtime.Module) -> None:
    for item in module.exports:
        if item.name == "entrypoint" and isinstance(item.type, wasmtime.FuncType):
            if [str(t) for t in item.type.params] == ["i32", "i32"] and \
                    [str(t) for t in item.type.results] == ["i32"]:
                return
    raise FunctionError("module does not export entrypoint(i32 argc, i32 argv) -> i32")


def _place_arguments(store: wasmtime.Store, memory: wasmtime.Memory | None,
                     strings: list[str]) -> tuple[int, int]:
    """(argc, argv) with the argv block written into freshly grown pages."""
    if not strings:
        return 0, 0
    if memory is None:
        raise FunctionError("module exports no memory to pass its arguments in")
    base = memory.data_len(store)
    block = _argv.layout(strings, base)
    try:
        memory.grow(store, _argv.pages_for(len(block)))
    except wasmtime.WasmtimeError:
        raise FunctionError(_errors.MEMORY_EXCEEDED) from None
    memory.write(store, block, base)
    return len(strings), base


class WasmExecutor(Executor):
    """Runs `wamr` (Teaclave) or `wasm` payloads; both names share one runtime."""

    def __init__(self, executor_type: str = "wamr", runtime: WasmRuntime | None = None) -> None:
        self.executor_type = executor_type
        self.runtime = runtime or WasmRuntime()

    def task_memory_bytes(self) -> int:
        """Linear memory plus the module's own compiled code and data, bounded by its size."""
        limits = self.runtime.limits
        return limits.memory_bytes + limits.module_bytes

    def run(self, task: TaskContext, cancel: CancelEvent) -> ExecutionOutput:
        if cancel.is_set():
            raise FunctionError(STOPPED)
        return ExecutionOutput(str(self.runtime.run(task, cancel)).encode())


def wasm_executors(limits: WasmLimits | None = None) -> tuple[WasmExecutor, WasmExecutor]:
    """The `wamr` and `wasm` executors over one shared runtime (engine and module cache)."""
    runtime = WasmRuntime(limits)
    return WasmExecutor("wamr", runtime), WasmExecutor("wasm", runtime)
