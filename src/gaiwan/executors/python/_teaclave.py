"""The file API a payload sees: `teaclave_open(name, mode)` and the `teaclave` module.

Inside the sandbox a task's files are not paths but descriptors the template passed in (inputs
read-only, outputs write-only), so no file name of the host is ever visible to the payload.
Each `open` gets a file object with its own offset (pread/pwrite on the shared descriptor),
so opening an input twice reads it twice from the start, as in Teaclave.

Errors follow Teaclave's MesaPy runtime: RuntimeError whose `.message` is
"fileio_init: teaclave_ffi_error" for an unknown name and "Teaclave Not Supported" for any mode
but "rb"/"wb"; `str()` of the error adds which name or mode was refused.
"""

from __future__ import annotations

import io
import os
import sys
import types
from collections.abc import Mapping
from typing import Any

_UNKNOWN = "fileio_init: teaclave_ffi_error"
_UNSUPPORTED = "Teaclave Not Supported"


class TeaclaveError(RuntimeError):
    def __init__(self, message: str, detail: str) -> None:
        super().__init__(f"{message} ({detail})")
        self.message = message


class _Input(io.RawIOBase):
    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd, self._pos = fd, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = os.pread(self._fd, len(buffer), self._pos)
        buffer[:len(data)] = data
        self._pos += len(data)
        return len(data)


class _Output(io.RawIOBase):
    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd, self._pos = fd, 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        written = os.pwrite(self._fd, data, self._pos)
        self._pos += written
        return written


class _OutputFile(io.BufferedWriter):
    """Also takes `str` (written as UTF-8), as MesaPy payloads write text to "wb" files."""

    def write(self, data: Any) -> int:
        return super().write(data.encode() if isinstance(data, str) else data)


class Files:
    """The task's files by name: the implementation behind `teaclave_open`."""

    def __init__(self, inputs: Mapping[str, int], outputs: Mapping[str, int]) -> None:
        self._inputs, self._outputs = dict(inputs), dict(outputs)

    def open(self, name: str, mode: str) -> io.BufferedIOBase:
        if mode == "rb":
            if name not in self._inputs:
                raise TeaclaveError(_UNKNOWN, f"no input file named {name!r}")
            return io.BufferedReader(_Input(self._inputs[name]))
        if mode == "wb":
            if name not in self._outputs:
                raise TeaclaveError(_UNKNOWN, f"no output file named {name!r}")
            fd = self._outputs[name]
            os.ftruncate(fd, 0)
            return _OutputFile(_Output(fd))
        raise TeaclaveError(_UNSUPPORTED, f"mode {mode!r}; use 'rb' or 'wb'")

    def install(self) -> None:
        """Makes `import teaclave` / `from teaclave import open` resolve to these files."""
        module = types.ModuleType("teaclave", "Gaiwan's Teaclave file API for Python functions.")
        module.open = self.open  # type: ignore[attr-defined]
        module.TeaclaveError = TeaclaveError  # type: ignore[attr-defined]
        sys.modules["teaclave"] = module
