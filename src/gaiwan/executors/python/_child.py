"""The life of one task's process, forked from the template: sandbox, run the payload, report.

Runs in the child only and never returns: it ends with `os._exit`, so nothing of the template
(atexit handlers, buffered files, the control socket) runs or is touched again in the child.
"""

from __future__ import annotations

import builtins
import io
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from types import TracebackType
from typing import Any, NoReturn

from . import _sandbox
from ._protocol import Request, Result
from ._teaclave import Files

PAYLOAD_FILE = "<payload>"
EXIT_MEMORY = 3  # the payload ran out of memory so badly that no result could be written
_MAX_FRAMES = 8
_CLEAN_ENV = {"LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
              "MKL_NUM_THREADS": "1"}


def run(fds: Sequence[int], view: _sandbox.View, uid: int, baseline_memory: int,
        parent: int) -> NoReturn:
    """`fds`: result pipe, request memfd, then the task's files in request order; `parent`:
    the template's pid."""
    result_fd, request_fd, *files = fds
    os.setpgid(0, 0)
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    try:
        _isolate_descriptors(keep={result_fd, request_fd, *files})
        try:
            request = Request.decode(_read_all(request_fd))
            os.close(request_fd)
            _sandbox.enter(view, uid, request, baseline_memory, parent)  # may go on in a child
        except (OSError, ValueError, KeyError, TypeError) as exc:
            result = Result(error_kind="setup", reason=f"{type(exc).__name__}: {exc}")
        else:
            leader = os.getpid()
            result = _run(request, files)
            if os.getpid() != leader:  # a process the payload forked does not speak for the task
                os._exit(0)
        _write(result_fd, result.encode())
    except MemoryError:
        os._exit(EXIT_MEMORY)
    except BaseException:  # noqa: BLE001 - never return into the template's code
        os._exit(1)
    os._exit(0)


def _run(request: Request, files: list[int]) -> Result:
    os.environ.clear()
    os.environ.update(_CLEAN_ENV)
    names = request.inputs + request.outputs
    fd_of = dict(zip(names, files))
    task_files = Files({n: fd_of[n] for n in request.inputs}, {n: fd_of[n] for n in request.outputs})
    task_files.install()
    builtins.teaclave_open = task_files.open  # type: ignore[attr-defined]
    log = _BoundedLog(request.log_size)
    sys.stdout = sys.stderr = log
    try:
        value = _call(request)
    except MemoryError:
        return Result(error_kind="memory", reason="memory limit exceeded", log=log.lines())
    except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt end the task too
        return Result(error_kind="exception", reason=_describe(exc),
                      trace=_payload_frames(exc.__traceback__, request.payload), log=log.lines())
    if len(value) > request.result_size:
        return Result(error_kind="result", reason="result too large", log=log.lines())
    return Result(value=value, log=log.lines())


def _call(request: Request) -> bytes:
    code = compile(request.payload, PAYLOAD_FILE, "exec", dont_inherit=True)
    namespace: dict[str, Any] = {"__name__": "__payload__", "__builtins__": builtins}
    exec(code, namespace)  # noqa: S102 - running the payload is the point, inside the sandbox
    entrypoint = namespace.get("entrypoint")
    if not callable(entrypoint):
        raise NameError("the payload defines no entrypoint(argv)")
    value = entrypoint(list(request.argv))
    if value is None:
        return b""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return str(value).encode()


def _describe(exc: BaseException) -> str:
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _payload_frames(tb: TracebackType | None, payload: bytes) -> tuple[str, ...]:
    """`line N, in f: source` for the payload's own frames only: library and runtime frames
    would show host paths and say nothing about the user's code."""
    source = payload.decode(errors="replace").splitlines()
    frames = [f for f in traceback.walk_tb(tb) if f[0].f_code.co_filename == PAYLOAD_FILE]
    lines = []
    for frame, lineno in frames[-_MAX_FRAMES:]:
        text = source[lineno - 1].strip() if 0 < lineno <= len(source) else ""
        lines.append(f"line {lineno}, in {frame.f_code.co_name}: {text}")
    return tuple(lines)


class _BoundedLog(io.TextIOBase):
    """What the payload prints, kept up to `limit` characters (the task's log, spec `save_log`)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self._parts: list[str] = []
        self._room = limit

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self._room > 0:
            self._parts.append(text[:self._room])
            self._room -= len(self._parts[-1])
        return len(text)

    def lines(self) -> tuple[str, ...]:
        return tuple("".join(self._parts).splitlines())


def _isolate_descriptors(keep: set[int]) -> None:
    """Points 0-2 at /dev/null and closes every other descriptor the template had (its control
    socket, other tasks' status sockets): a payload must reach nothing but its own files."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    keep = keep | {0, 1, 2}
    start = 3
    for fd in sorted(keep | {os.sysconf("SC_OPEN_MAX")}):
        if fd >= start:
            os.closerange(start, fd)
            start = fd + 1


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.pread(fd, 1 << 20, sum(len(c) for c in chunks)):
        chunks.append(chunk)
    return b"".join(chunks)


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
