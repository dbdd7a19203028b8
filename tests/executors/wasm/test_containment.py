"""Hostile modules end their own task with a clear reason; nothing else is affected."""

from __future__ import annotations

import threading
import time

import pytest

from gaiwan.executors import CancelEvent, FunctionError
from gaiwan.executors.wasm import WasmExecutor, WasmLimits, WasmRuntime

from .conftest import run, wat

LOOP = '(module (func (export "entrypoint") (param i32 i32) (result i32) (loop (br 0)) (i32.const 0)))'
GROW_BOMB = """
(module
  (memory (export "memory") 1)
  (func (export "entrypoint") (param i32 i32) (result i32)
    (loop (br_if 0 (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    unreachable))
"""


def _fails(reason: str, payload: bytes, **kwargs: object) -> None:
    with pytest.raises(FunctionError) as caught:
        run(payload, **kwargs)  # type: ignore[arg-type]
    assert caught.value.reason == reason


def test_infinite_loop_runs_out_of_fuel() -> None:
    """With fuel metering, a loop that never ends is stopped deterministically."""
    _fails("fuel exhausted", wat(LOOP), limits=WasmLimits(fuel=1_000_000, time_limit=None))


def test_infinite_loop_hits_the_time_limit() -> None:
    """Without fuel, the wall-clock limit interrupts the loop via an epoch bump."""
    started = time.monotonic()
    _fails("time limit exceeded", wat(LOOP), limits=WasmLimits(time_limit=0.2))
    assert time.monotonic() - started < 2


def test_cancel_stops_a_running_loop_within_a_second_and_only_that_task() -> None:
    """Cancelling one of two looping tasks stops it promptly; the other keeps running."""
    executor = WasmExecutor(runtime=WasmRuntime(WasmLimits(time_limit=60)))
    cancels = [CancelEvent(), CancelEvent()]
    reasons: dict[int, str] = {}
    finished: dict[int, float] = {}

    def work(index: int) -> None:
        try:
            run(wat(LOOP), executor=executor, cancel=cancels[index])
        except FunctionError as exc:
            reasons[index] = exc.reason
        finished[index] = time.monotonic()

    threads = [threading.Thread(target=work, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    cancelled_at = time.monotonic()
    cancels[0].set()
    threads[0].join(timeout=5)
    assert reasons.get(0) == "stopped" and finished[0] - cancelled_at < 1.0
    time.sleep(0.2)
    assert threads[1].is_alive()  # the epoch bump did not stop the other task
    cancels[1].set()
    threads[1].join(timeout=5)
    assert reasons.get(1) == "stopped"


def test_already_cancelled_task_does_not_run() -> None:
    """A task cancelled before it starts fails with "stopped" without running."""
    cancel = CancelEvent()
    cancel.set()
    _fails("stopped", wat(LOOP), cancel=cancel)


def test_memory_growth_bomb_hits_the_memory_cap() -> None:
    """memory.grow fails at the cap; the module's trap is reported as the memory limit."""
    _fails("memory limit exceeded", wat(GROW_BOMB), limits=WasmLimits(memory_bytes=4 << 20))


def test_refused_growth_that_the_module_handles_is_not_a_failure() -> None:
    """memory.grow returns -1 at the cap; a module that copes with it still succeeds."""
    module = """
    (module
      (memory (export "memory") 1)
      (func (export "entrypoint") (param i32 i32) (result i32) (memory.grow (i32.const 100))))
    """
    assert run(wat(module), limits=WasmLimits(memory_bytes=4 << 20)).return_value == b"-1"


def test_initial_memory_above_the_cap_is_refused() -> None:
    """A module declaring more initial memory than the cap never starts."""
    module = '(module (memory (export "memory") 128) (func (export "entrypoint") (param i32 i32) (result i32) (i32.const 0)))'
    _fails("memory limit exceeded", wat(module), limits=WasmLimits(memory_bytes=1 << 20))


def test_arguments_beyond_the_memory_cap_are_refused() -> None:
    """Arguments that do not fit under the cap fail the task instead of growing past it."""
    module = '(module (memory (export "memory") 1) (func (export "entrypoint") (param i32 i32) (result i32) (i32.const 0)))'
    _fails("memory limit exceeded", wat(module), limits=WasmLimits(memory_bytes=1 << 16),
           arguments={"k": "v"})


def test_unknown_import_is_named() -> None:
    """A module importing a function the host does not offer fails before instantiation."""
    module = '(module (import "env" "system" (func (param i32) (result i32))) (func (export "entrypoint") (param i32 i32) (result i32) (i32.const 0)))'
    _fails("module imports unknown host function env.system", wat(module))


def test_host_function_with_a_wrong_signature_is_refused() -> None:
    """Importing a Teaclave function under a different signature is a clear failure."""
    module = '(module (import "env" "teaclave_read_file" (func (param i64) (result i32))) (func (export "entrypoint") (param i32 i32) (result i32) (i32.const 0)))'
    _fails("module imports env.teaclave_read_file with the wrong signature", wat(module))


def test_oversized_module_is_refused_before_compiling() -> None:
    """A payload larger than module_bytes is rejected with its size and the limit."""
    module = wat('(module (memory 1) (data (i32.const 0) "' + "x" * 8192 + '") (func (export "entrypoint") (param i32 i32) (result i32) (i32.const 0)))')
    _fails(f"wasm module too large: {len(module)} bytes, the limit is 4096", module,
           limits=WasmLimits(module_bytes=4096))


def test_invalid_module_is_refused() -> None:
    """Bytes that are not WebAssembly fail the task with an invalid-module reason."""
    with pytest.raises(FunctionError, match="^invalid wasm module: "):
        run(b"\0asm\x01\0\0\0garbage")


@pytest.mark.parametrize(("body", "kind"), [
    ("unreachable", "unreachable"),
    ("(drop (i32.div_s (i32.const 1) (local.get 0)))", "integer division by zero"),
    ("(drop (i32.load (i32.const -4)))", "memory out of bounds"),
    ("(drop (call 0 (local.get 0) (local.get 1)))", "stack overflow"),
])
def test_traps_are_reported_by_kind(body: str, kind: str) -> None:
    """Each trap ends the task with "wasm trap: <kind>"."""
    module = f'(module (memory 1) (func (export "entrypoint") (param i32 i32) (result i32) {body} (i32.const 0)))'
    _fails(f"wasm trap: {kind}", wat(module))


def test_executor_survives_a_trap_and_runs_the_next_task() -> None:
    """After a hostile task the shared runtime still runs a well-behaved one."""
    executor = WasmExecutor(runtime=WasmRuntime(WasmLimits(fuel=100_000, time_limit=None)))
    with pytest.raises(FunctionError):
        run(wat(LOOP), executor=executor)
    ok = '(module (func (export "entrypoint") (param i32 i32) (result i32) (i32.const 9)))'
    assert run(wat(ok), executor=executor).return_value == b"9"
