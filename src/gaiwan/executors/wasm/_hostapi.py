"""Teaclave's `env` file API (spec §8) over one task's plaintext files.

The module sees only names: the function's input and output names, mapped by the task to files
in its private directory. Handles are per task (a module cannot reach another task's files by
guessing numbers). Every pointer the module passes is checked against its exported `memory`
before a byte is read or written, and every failure is -1, as in Teaclave: a host function
never raises, because an exception escaping into wasmtime would end the task with an opaque
trap (and wasmtime-py keeps the pending exception in a process-wide slot other threads share).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import wasmtime

ERROR = -1
MAX_NAME = 4096
MAX_OPEN = 64  # per task: a module opening in a loop must not exhaust the node's descriptors
_I32 = wasmtime.ValType.i32()
SIGNATURES: Mapping[str, tuple[int, int]] = {  # name -> (i32 params, i32 results)
    "teaclave_open_input": (1, 1),
    "teaclave_create_output": (1, 1),
    "teaclave_read_file": (3, 1),
    "teaclave_write_file": (3, 1),
    "teaclave_close_file": (1, 1),
}


class _Memory:
    """Bounds-checked access to the calling module's exported memory."""

    def __init__(self, caller: wasmtime.Caller) -> None:
        memory = caller.get("memory")
        if not isinstance(memory, wasmtime.Memory):
            raise LookupError("module exports no memory")
        self._caller = caller
        self._memory = memory
        self._size = memory.data_len(caller)

    def span(self, ptr: int, size: int) -> tuple[int, int]:
        """(start, stop) of `size` bytes at the i32 `ptr`, or ValueError when outside memory."""
        start = ptr & 0xFFFFFFFF
        if size < 0 or start + size > self._size:
            raise ValueError("buffer outside module memory")
        return start, start + size

    def read(self, ptr: int, size: int) -> bytearray:
        start, stop = self.span(ptr, size)
        return self._memory.read(self._caller, start, stop)

    def write(self, ptr: int, data: bytes) -> None:
        start, _ = self.span(ptr, len(data))
        if data:
            self._memory.write(self._caller, data, start)

    def c_string(self, ptr: int) -> str:
        start = ptr & 0xFFFFFFFF
        chunk = self.read(start, max(0, min(MAX_NAME, self._size - start)))
        end = chunk.find(0)
        if end < 0:
            raise ValueError("name is not NUL-terminated")
        return chunk[:end].decode("utf-8")


class FileTable:
    """The open files of one task, and the bytes it may still write to its outputs (a bound so
    that a module cannot fill the node's task storage). `close_all` must run when the task
    ends, whatever happened."""

    def __init__(self, inputs: Mapping[str, Path], outputs: Mapping[str, Path], max_written: int) -> None:
        self._inputs = inputs
        self._outputs = outputs
        self._unwritten = max_written
        self._files: dict[int, tuple[BinaryIO, bool]] = {}  # fd -> (file, writable)
        self._fds = itertools.count(1)

    def _open(self, caller: wasmtime.Caller, name_ptr: int, writable: bool) -> int:
        name = _Memory(caller).c_string(name_ptr)
        paths = self._outputs if writable else self._inputs
        if name not in paths or len(self._files) >= MAX_OPEN:
            return ERROR
        file = open(paths[name], "wb" if writable else "rb")  # noqa: SIM115 - closed by close/close_all
        fd = next(self._fds)
        self._files[fd] = (file, writable)
        return fd

    def open_input(self, caller: wasmtime.Caller, name_ptr: int) -> int:
        return self._open(caller, name_ptr, writable=False)

    def create_output(self, caller: wasmtime.Caller, name_ptr: int) -> int:
        return self._open(caller, name_ptr, writable=True)

    def read_file(self, caller: wasmtime.Caller, fd: int, buf: int, size: int) -> int:
        file, writable = self._files[fd]
        if writable:
            return ERROR
        memory = _Memory(caller)
        memory.span(buf, size)
        data = file.read(size)
        memory.write(buf, data)
        return len(data)

    def write_file(self, caller: wasmtime.Caller, fd: int, buf: int, size: int) -> int:
        file, writable = self._files[fd]
        if not writable or size > self._unwritten:
            return ERROR
        written = file.write(_Memory(caller).read(buf, size))
        self._unwritten -= written
        return written

    def close_file(self, _caller: wasmtime.Caller, fd: int) -> int:
        file, _ = self._files.pop(fd)
        file.close()
        return 0

    def close_all(self) -> None:
        for file, _ in self._files.values():
            file.close()
        self._files.clear()


class HostApi:
    """The five `env` functions, defined once on the runtime's shared linker (defining them per
    task cost more than the rest of a run). A call acts on the FileTable of the task the calling
    thread is running: wasmtime runs host functions on the thread that called into the module,
    and a worker thread runs one task at a time."""

    def __init__(self) -> None:
        self._local = threading.local()

    def define(self, linker: wasmtime.Linker) -> None:
        for name, (params, results) in SIGNATURES.items():
            func_type = wasmtime.FuncType([_I32] * params, [_I32] * results)
            linker.define_func("env", name, func_type, self._bound(name[len("teaclave_"):]), access_caller=True)

    @contextmanager
    def serving(self, files: FileTable) -> Iterator[None]:
        """Routes this thread's host calls to `files` for the duration; closes them afterwards."""
        self._local.files = files
        try:
            yield
        finally:
            self._local.files = None
            files.close_all()

    def _bound(self, method: str) -> Callable[..., int]:
        def call(caller: wasmtime.Caller, *args: int) -> int:
            try:
                return int(getattr(self._local.files, method)(caller, *args))
            except Exception:  # noqa: BLE001 - every failure is -1; see the module docstring
                return ERROR

        return call


def matches(import_type: object, name: str) -> bool:
    """Whether an `env.<name>` import has the signature the host API defines for it."""
    if name not in SIGNATURES or not isinstance(import_type, wasmtime.FuncType):
        return False
    params, results = SIGNATURES[name]
    i32 = [str(_I32)]
    return ([str(t) for t in import_type.params] == i32 * params
            and [str(t) for t in import_type.results] == i32 * results)
