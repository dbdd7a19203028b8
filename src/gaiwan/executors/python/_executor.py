"""The `python` executor (Teaclave's `mesapy`): runs a payload's `entrypoint(argv)` in a sandbox.

Each task gets a process of its own, forked from a template that has already imported the
runtime and numpy (`_template`), locked into namespaces, rlimits and a seccomp filter
(`_sandbox`, `_seccomp`) and never reused. This module turns a task into a request, waits
for the sandbox and turns what happened into a return value or a reason safe to show.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager

from .._base import CancelEvent, ExecutionOutput, Executor, FunctionError, TaskContext
from ._child import EXIT_MEMORY
from ._launcher import Finished, Launcher, LauncherError
from ._limits import Limits
from ._protocol import Request, Result, unframe

_PATH = re.compile(r"(?:[A-Za-z]:)?(?:/[^\s/'\"():,]+){2,}/?")
_FRAME_SLACK = 64 * 1024  # JSON and base64 around the value and the log


class PythonExecutor(Executor):
    executor_type = "python"

    def __init__(self, limits: Limits = Limits(), wrapper: Sequence[str] = ()) -> None:
        """`wrapper`: a command to start the template process through (see `Launcher`)."""
        self.limits = limits
        self._launcher = Launcher(wrapper)

    def task_memory_bytes(self) -> int:
        return self.limits.memory

    def start(self) -> None:
        """Starts the template process ahead of the first task (it starts on demand otherwise)."""
        self._launcher.start()

    def close(self) -> None:
        """Stops the template process and every task still running in it."""
        self._launcher.close()

    def run(self, task: TaskContext, cancel: CancelEvent) -> ExecutionOutput:
        limits = self.limits.for_task(task.arguments)
        argv = tuple(s for pair in task.arguments.items() for s in pair)
        request = Request(
            payload=task.payload, argv=argv, inputs=tuple(task.input_paths),
            outputs=tuple(task.output_paths), memory=limits.memory, processes=limits.processes,
            open_files=limits.open_files, file_size=limits.file_size,
            cpu_seconds=limits.cpu_seconds, result_size=limits.result_size,
            log_size=limits.log_size)
        max_output = 4 * (limits.result_size + limits.log_size) // 3 + _FRAME_SLACK
        with _task_files(task) as files:
            try:
                sandbox = self._launcher.launch(request, files)
            except (LauncherError, OSError):
                raise FunctionError("the Python sandbox is not available on this node") from None
        try:
            cancel.on_set(sandbox.kill)
            finished = sandbox.wait(limits.time, max_output)
        finally:
            sandbox.close()
        if cancel.is_set():
            raise FunctionError("stopped")
        return _outcome(finished, limits, task)


@contextmanager
def _task_files(task: TaskContext) -> Iterator[list[int]]:
    """Descriptors of the task's files in request order: inputs read-only, outputs created
    empty and write-only. Opened here, by the node, so the sandbox needs no path to them."""
    with ExitStack() as stack:
        fds = []
        for path in task.input_paths.values():
            fds.append(os.open(path, os.O_RDONLY | os.O_CLOEXEC))
            stack.callback(os.close, fds[-1])
        for path in task.output_paths.values():
            fds.append(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600))
            stack.callback(os.close, fds[-1])
        yield fds


def _outcome(finished: Finished, limits: Limits, task: TaskContext) -> ExecutionOutput:
    if finished.timed_out:
        raise FunctionError(f"time limit exceeded ({limits.time:g} s)")
    if finished.overflowed:
        raise FunctionError("result too large")
    result = _result(finished.output)
    if result is not None:
        if not result.error_kind:
            return ExecutionOutput(result.value, result.log)
        if result.error_kind == "setup":
            raise FunctionError("the Python sandbox could not be set up: " + _scrub(result.reason, task))
        if result.error_kind == "exception":
            raise FunctionError(_scrub("\n".join((result.reason, *result.trace)), task))
        raise FunctionError(result.reason)
    raise FunctionError(_exit_reason(finished, limits))


def _result(output: bytes) -> Result | None:
    try:
        body, end = unframe(output)
        return Result.decode(body) if end else None
    except (ValueError, KeyError, TypeError):
        return None


def _exit_reason(finished: Finished, limits: Limits) -> str:
    """Why a sandbox ended without a result, from its wait status."""
    status = finished.wait_status
    if status is None:
        return "the Python sandbox failed"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU or (finished.cpu_ms or 0) >= limits.cpu_seconds * 1000:
            return f"CPU time limit exceeded ({limits.cpu_seconds} s)"
        return f"killed by signal {signal.Signals(sig).name}"
    code = os.WEXITSTATUS(status)
    if code == EXIT_MEMORY:
        return "memory limit exceeded"
    return f"the function exited with status {code} without a result"


def _scrub(text: str, task: TaskContext) -> str:
    """Blanks argument values and host paths: the reason is shown to every participant."""
    for value in sorted(task.arguments.values(), key=len, reverse=True):
        if len(value) >= 3:
            text = text.replace(value, "<argument>")
    return _PATH.sub("<path>", text)
