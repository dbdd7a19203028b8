"""Helpers for the sandboxed Python executor's tests."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from gaiwan.executors import CancelEvent, ExecutionOutput, FunctionError, TaskContext
from gaiwan.executors.python import Limits, PythonExecutor

MiB = 1 << 20
LIMITS = Limits(time=10.0, memory=256 * MiB, processes=8, file_size=1 * MiB)
NOBODY = 65534
_AS_NOBODY = str(Path(__file__).with_name("as_nobody.py"))
# Every namespace the non-root sandbox unshares, asked for by an unprivileged process.
_USERNS_PROBE = ("import ctypes, sys\n"
                 "sys.exit(ctypes.CDLL(None).unshare(0x10000000 | 0x20000000 | 0x40000000"
                 " | 0x08000000 | 0x04000000 | 0x00020000) != 0)")


@dataclass(frozen=True)
class Identity:
    """Who the executor's template (and so the execution side of every task) runs as: `node`
    is the test process's own user, which takes the root path when the tests run as root;
    `nobody` is uid 65534, which takes the non-root path (a user namespace per task)."""

    name: str
    uid: int
    wrapper: tuple[str, ...] = ()

    def executor(self, limits: Limits = LIMITS, tmpdir: Path | None = None) -> PythonExecutor:
        """A started executor whose template runs as this identity; the caller closes it.
        `tmpdir`: where the template makes its mount point (left behind if it is killed)."""
        env = (shutil.which("env") or "/usr/bin/env", f"TMPDIR={tmpdir}") if tmpdir else ()
        ex = PythonExecutor(limits, wrapper=(*env, *self.wrapper))
        ex.start()
        return ex

    def tmpdir(self) -> Path:
        """A fresh directory in the system's temporary directory that this identity owns."""
        path = Path(tempfile.mkdtemp(prefix="gaiwan-test-"))
        os.chown(path, self.uid, self.uid)
        return path

    def spawn(self, argv: Sequence[str]) -> subprocess.Popen[bytes]:
        """A process of this identity outside any sandbox, in a session of its own."""
        switch = {} if self.uid == os.geteuid() else {
            "user": self.uid, "group": self.uid, "extra_groups": []}
        return subprocess.Popen(argv, start_new_session=True, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, **switch)  # type: ignore[call-overload]


def identity(name: str) -> Identity:
    """The identity called `name`; skips the test with the reason if this host cannot have it."""
    if name == "node":
        return Identity("node", os.geteuid())
    reason = _nobody_unavailable()
    if reason:
        pytest.skip(reason)
    return Identity("nobody", NOBODY, (sys.executable, _AS_NOBODY))


@functools.cache
def _nobody_unavailable() -> str:
    if os.geteuid() != 0:
        return (f"the tests run as uid {os.geteuid()}, so the `node` runs already take the "
                "non-root path; starting the executor as nobody needs root")
    probe = subprocess.run([sys.executable, _AS_NOBODY, sys.executable, "-c", _USERNS_PROBE],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    if probe.returncode != 0:
        return ("unprivileged user namespaces are not available here (e.g. "
                "kernel.unprivileged_userns_clone=0 or an AppArmor restriction)")
    return ""


def task(source: str, arguments: Mapping[str, str] | None = None,
         inputs: Mapping[str, Path] | None = None,
         outputs: Mapping[str, Path] | None = None) -> TaskContext:
    return TaskContext(task_id="task-1", function_name="f", executor_type="python",
                       payload=source.encode(), arguments=dict(arguments or {}),
                       input_paths=dict(inputs or {}), output_paths=dict(outputs or {}))


def run(ex: PythonExecutor, source: str, **kwargs: Mapping[str, object]) -> ExecutionOutput:
    return ex.run(task(source, **kwargs), CancelEvent())  # type: ignore[arg-type]


def failure(ex: PythonExecutor, source: str, **kwargs: Mapping[str, object]) -> str:
    """The reason the task fails with; fails the test if it succeeds."""
    with pytest.raises(FunctionError) as caught:
        run(ex, source, **kwargs)
    return caught.value.reason


def assert_still_works(ex: PythonExecutor) -> None:
    """The executor keeps running tasks after whatever the previous payload did."""
    assert run(ex, "def entrypoint(argv):\n    return 'ok'\n").return_value == b"ok"
