"""Compiled modules, shared by every task of a node.

Compiling with Cranelift costs milliseconds to seconds; running a module costs microseconds. So
one Engine is shared by all tasks and compiled modules are kept in a bounded LRU keyed by the
SHA-256 of the payload (not by function id: the same payload registered twice compiles once,
and a re-registered function with new bytes can never hit a stale entry). Modules are only ever
compiled from the payload bytes, never deserialized from a precompiled artifact, which wasmtime
documents as unsafe for untrusted input.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import NamedTuple

import wasmtime

from .._base import FunctionError
from ._errors import first_line


class CacheInfo(NamedTuple):
    hits: int
    misses: int
    size: int


class ModuleCache:
    """Compiles payloads for `engine`, at most `max_bytes` each, keeping `capacity` modules."""

    def __init__(self, engine: wasmtime.Engine, capacity: int, max_bytes: int) -> None:
        self._engine = engine
        self._capacity = capacity
        self._max_bytes = max_bytes
        self._modules: OrderedDict[bytes, wasmtime.Module] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    def get(self, payload: bytes) -> wasmtime.Module:
        """The compiled module for `payload`; FunctionError when it is too large or not wasm."""
        if len(payload) > self._max_bytes:
            raise FunctionError(
                f"wasm module too large: {len(payload)} bytes, the limit is {self._max_bytes}")
        key = hashlib.sha256(payload).digest()
        with self._lock:
            module = self._modules.get(key)
            if module is not None:
                self._modules.move_to_end(key)
                self._hits += 1
                return module
            self._misses += 1
        # Compiled outside the lock: a large module must not stall every other task's lookup.
        # Two tasks racing on the same new payload both compile; the second result is dropped.
        try:
            module = wasmtime.Module(self._engine, payload)
        except wasmtime.WasmtimeError as exc:
            raise FunctionError(f"invalid wasm module: {first_line(str(exc))}") from None
        with self._lock:
            module = self._modules.setdefault(key, module)
            self._modules.move_to_end(key)
            while len(self._modules) > self._capacity:
                self._modules.popitem(last=False)
        return module

    def info(self) -> CacheInfo:
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._modules))
