"""Stopping one running module from another thread, within milliseconds, without polling.

Wasmtime offers two ways to interrupt running code: fuel (the store's own counter, which must
not be touched from another thread while the store runs) and epochs (an engine-wide counter any
thread may bump). Epochs are engine-wide, so a bare deadline would interrupt every task of the
node at once. Each store therefore registers an epoch-deadline callback (wasmtime's C API;
wasmtime-py does not wrap it yet): on every epoch bump the callback asks whether *its* task was
stopped; if not, it re-arms the deadline one tick ahead and the module continues unharmed. The
epoch only moves when a task is cancelled or reaches its time limit, so running code pays
nothing for this.
"""

from __future__ import annotations

import ctypes
import itertools
import threading

import wasmtime
from wasmtime import _bindings as ffi

# The binding checks argument types by identity, so the callback types are taken from it.
_CALLBACK, _FINALIZER = (ffi._wasmtime_store_epoch_deadline_callback.argtypes[i] for i in (1, 3))
_NO_FINALIZER = _FINALIZER()
_CONTINUE = 0  # wasmtime_update_deadline_kind_t: WASMTIME_UPDATE_DEADLINE_CONTINUE

_guards: dict[int, "StopGuard"] = {}
_guards_lock = threading.Lock()
_ids = itertools.count(1)


@_CALLBACK
def _on_deadline(_context: int, data: int | None, delta: "ctypes._Pointer[ctypes.c_uint64]",
                 kind: "ctypes._Pointer[ctypes.c_uint8]") -> int:
    guard = _guards.get(data or 0)
    if guard is None or guard.reason is None:
        delta[0] = 1
        kind[0] = _CONTINUE
        return 0
    error = ffi.wasmtime_error_new(guard.reason.encode())
    return ctypes.cast(error, ctypes.c_void_p).value or 0


class StopGuard:
    """Lets `stop(reason)` end the module running in `store`; use as a context manager around
    the run so the store is forgotten afterwards. `reason` is the first stop's reason."""

    def __init__(self, engine: wasmtime.Engine, store: wasmtime.Store) -> None:
        self._engine = engine
        self._id = next(_ids)
        self.reason: str | None = None
        self._lock = threading.Lock()
        store.set_epoch_deadline(1)
        ffi.wasmtime_store_epoch_deadline_callback(
            store.ptr(), _on_deadline, ctypes.c_void_p(self._id), _NO_FINALIZER)

    def __enter__(self) -> "StopGuard":
        with _guards_lock:
            _guards[self._id] = self
        return self

    def __exit__(self, *_exc: object) -> None:
        with _guards_lock:
            _guards.pop(self._id, None)

    def stop(self, reason: str) -> None:
        """Safe from any thread; a no-op once the run is over or after the first stop."""
        with self._lock:
            if self.reason is None:
                self.reason = reason
        self._engine.increment_epoch()
