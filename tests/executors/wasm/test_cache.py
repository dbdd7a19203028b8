"""The compiled-module cache: keyed by payload hash, bounded, shared across tasks."""

from __future__ import annotations

from gaiwan.executors.wasm import CacheInfo, WasmExecutor, WasmLimits, WasmRuntime

from .conftest import run, wat


def _module(value: int) -> bytes:
    return wat(f'(module (func (export "entrypoint") (param i32 i32) (result i32) (i32.const {value})))')


def test_second_run_of_a_payload_does_not_recompile() -> None:
    """The second task with the same bytes is a cache hit; the result is unchanged."""
    executor = WasmExecutor(runtime=WasmRuntime())
    assert run(_module(1), executor=executor).return_value == b"1"
    assert run(_module(1), executor=executor).return_value == b"1"
    assert executor.runtime.cache_info() == CacheInfo(hits=1, misses=1, size=1)


def test_cache_is_bounded_and_evicts_the_least_recently_used() -> None:
    """With room for two modules, a third evicts the oldest, which then compiles again."""
    executor = WasmExecutor(runtime=WasmRuntime(WasmLimits(cached_modules=2)))
    for value in (1, 2, 1, 3, 2):
        assert run(_module(value), executor=executor).return_value == str(value).encode()
    # 1 miss, 2 miss, 1 hit, 3 miss (evicts 2), 2 miss (evicts 1)
    assert executor.runtime.cache_info() == CacheInfo(hits=1, misses=4, size=2)
