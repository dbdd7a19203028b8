"""The wasm executor's own cost: one `add` task through WasmExecutor.run next to bare wasmtime.

Run with `python -m bench.wasm_executor [--runs N]`. Three figures, medians in µs:
- bare call: calling `entrypoint` of an already instantiated module (wasmtime-py's floor);
- bare instantiate + call: a fresh Store and Instance per call, what any isolated run needs;
- executor: WasmExecutor.run on a cached module (limits, interrupts, host API, argv copy).
The executor's overhead is the difference to "bare instantiate + call"; the target is < 1 ms.
"""

from __future__ import annotations

import argparse
import statistics
import struct
import time
from collections.abc import Callable

import wasmtime

from gaiwan.executors import CancelEvent
from gaiwan.executors._base import TaskContext
from gaiwan.executors.wasm import WasmExecutor, WasmRuntime

ADD = """
(module
  (memory (export "memory") 1)
  (func $digit (param $p i32) (result i32) (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
  ;; argv = ["a", "<digit>", "b", "<digit>"]: returns the sum of the two digits
  (func (export "entrypoint") (param $argc i32) (param $argv i32) (result i32)
    (i32.add (call $digit (i32.load offset=4 (local.get $argv)))
             (call $digit (i32.load offset=12 (local.get $argv))))))
"""
TARGET_OVERHEAD_US = 1000.0


def _median_us(fn: Callable[[], object], runs: int) -> float:
    for _ in range(min(50, runs)):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.wasm_executor")
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    payload = wasmtime.wat2wasm(ADD)

    engine = wasmtime.Engine()
    module = wasmtime.Module(engine, payload)
    argv = struct.pack("<4I", 16, 18, 20, 22) + b"a\x003\x00b\x004\x00"

    def instantiate() -> tuple[wasmtime.Store, wasmtime.Func]:
        store = wasmtime.Store(engine)
        exports = wasmtime.Instance(store, module, []).exports(store)
        exports["memory"].write(store, argv, 0)
        return store, exports["entrypoint"]

    def bare_fresh() -> object:
        store, entrypoint = instantiate()
        return entrypoint(store, 4, 0)

    store, entrypoint = instantiate()
    assert entrypoint(store, 4, 0) == 7

    executor = WasmExecutor(runtime=WasmRuntime())
    task = TaskContext("bench", "add", "wamr", payload, {"a": "3", "b": "4"})
    assert executor.run(task, CancelEvent()).return_value == b"7"

    bare_call = _median_us(lambda: entrypoint(store, 4, 0), args.runs)
    bare = _median_us(bare_fresh, args.runs)
    through = _median_us(lambda: executor.run(task, CancelEvent()), args.runs)
    overhead = through - bare
    print(f"{'bare call':28s} {bare_call:9.1f} µs")
    print(f"{'bare instantiate + call':28s} {bare:9.1f} µs")
    print(f"{'executor run (cached)':28s} {through:9.1f} µs")
    verdict = "within" if overhead < TARGET_OVERHEAD_US else "ABOVE"
    print(f"{'executor overhead':28s} {overhead:9.1f} µs ({verdict} the {TARGET_OVERHEAD_US:.0f} µs target)")


if __name__ == "__main__":
    main()
