"""The executor interface: what an execution node hands a function and what it gets back.

An executor runs one task's function to completion in the calling worker thread. Stopping is
cooperative for in-process executors (they look at the cancel event between steps); executors
that run the function in a child process register a callback on the `CancelEvent` and kill the
child the moment a stop arrives, instead of polling the event.
"""

from __future__ import annotations

import abc
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path


class FunctionError(Exception):
    """The function failed; `reason` becomes the task's TaskResult.Err and is shown to the task's
    participants, so it must hold no host paths and no argument values."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CancelEvent(threading.Event):
    """An Event whose `set()` also runs registered callbacks (once, in the setting thread)."""

    def __init__(self) -> None:
        super().__init__()
        self._callbacks: list[Callable[[], None]] = []
        self._guard = threading.Lock()

    def on_set(self, callback: Callable[[], None]) -> None:
        """Runs `callback` when the event is set, or at once if it already is."""
        with self._guard:
            if not self.is_set():
                self._callbacks.append(callback)
                return
        callback()

    def set(self) -> None:
        with self._guard:
            if self.is_set():
                return
            super().set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()


@dataclass(frozen=True)
class FileRef:
    """One input or output of a task, as the scheduler described it: where its ciphertext lives
    and how it is sealed. Functions never see these; they get the plaintext paths below."""

    name: str
    data_id: str
    url: str
    schema: str = ""
    key: bytes = field(default=b"", repr=False)
    iv: bytes = field(default=b"", repr=False)
    cmac: bytes = b""


@dataclass(frozen=True)
class TaskContext:
    """One task as an executor runs it. `input_paths`/`output_paths` map the function's file
    names to plaintext files in the task's private directory (inputs already fetched, checked
    and decrypted; outputs to be created by the function), so an executor that runs the
    function in a sandbox can expose exactly these files to it."""

    task_id: str
    function_name: str
    executor_type: str
    payload: bytes = field(repr=False)
    arguments: Mapping[str, str] = field(repr=False)
    inputs: tuple[FileRef, ...] = ()
    outputs: tuple[FileRef, ...] = ()
    input_paths: Mapping[str, Path] = field(default_factory=dict, repr=False)
    output_paths: Mapping[str, Path] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class ExecutionOutput:
    return_value: bytes
    log: tuple[str, ...] = ()


class Executor(abc.ABC):
    """One kind of executor (builtin, python, wasm). Instances are shared by all worker threads."""

    executor_type: str

    @abc.abstractmethod
    def run(self, task: TaskContext, cancel: CancelEvent) -> ExecutionOutput:
        """Runs the task's function; raises FunctionError when it fails or is stopped."""

    def functions(self) -> tuple[str, ...]:
        """Function names this executor offers by name (built-ins); empty for payload executors."""
        return ()

    def task_memory_bytes(self) -> int:
        """The memory one task may take at most (its limit), which the scheduler reserves on
        the node for as long as the task runs; 0 when the executor sets no limit."""
        return 0

    def start(self) -> None:
        """Prepares what the first task would otherwise wait for (e.g. a process to fork from);
        raises if the executor cannot work on this host. Nothing to prepare by default."""

    def close(self) -> None:
        """Releases what `start` (or a task) acquired. Nothing by default."""


_PATH = re.compile(r"(?:[A-Za-z]:)?(?:/[^\s/'\"():,]+){2,}/?")


def failure_reason(exc: BaseException, task: TaskContext) -> str:
    """`Type: message` of an unexpected function exception, with host paths and argument values
    blanked: the message of an arbitrary exception may quote either, and the reason is shown to
    every participant of the task."""
    message = str(exc)
    for value in sorted(task.arguments.values(), key=len, reverse=True):
        if len(value) >= 3:
            message = message.replace(value, "<argument>")
    message = _PATH.sub("<path>", message)
    name = type(exc).__name__
    return f"{name}: {message}" if message else name
