"""WebAssembly functions: Teaclave `wamr` payloads run on wasmtime (see docs/wasm-functions.md)."""

from ._cache import CacheInfo
from ._executor import WasmExecutor, WasmRuntime, wasm_executors
from ._limits import WasmLimits

__all__ = ["CacheInfo", "WasmExecutor", "WasmLimits", "WasmRuntime", "wasm_executors"]
