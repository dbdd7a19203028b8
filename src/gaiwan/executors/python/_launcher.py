"""The node's side of the template process: start it, hand it tasks, watch one task to its end.

Waiting is event-driven: a task's thread sleeps in `select` on its status socket and result
pipe until the sandbox reports, the deadline passes or a stop arrives (`kill`, from any thread,
which asks the template to kill the task's process group at once).
"""

from __future__ import annotations

import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ._protocol import KILL, READY, RUN, Request, parse_status

_START_TIMEOUT = 60.0
_REAP_TIMEOUT = 10.0  # after a kill: how long the template may take to report the exit
_TEMPLATE_ENV = {"LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                 "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}


class LauncherError(Exception):
    """The template process is not available (failed to start or died)."""


@dataclass(frozen=True)
class Finished:
    """How a sandbox ended. `wait_status`/`cpu_ms` are None if the template vanished."""

    wait_status: int | None
    cpu_ms: int | None
    output: bytes
    timed_out: bool
    overflowed: bool


class Sandbox:
    """One running task, seen from the node."""

    def __init__(self, status: socket.socket, results: int) -> None:
        self._status, self._results = status, results
        self._lock = threading.Lock()

    def kill(self) -> None:
        """Asks for the task's whole process group to be killed; safe from any thread, any time."""
        with self._lock:
            try:
                self._status.send(KILL)
            except OSError:
                pass  # already finished

    def wait(self, timeout: float, max_output: int) -> Finished:
        """Collects the result pipe (up to `max_output` bytes) until the sandbox has exited;
        kills it at `timeout` seconds or when the output overflows."""
        deadline = time.monotonic() + timeout
        output, wait_status, cpu_ms = bytearray(), None, None
        status_open = results_open = True
        timed_out = overflowed = False
        with selectors.DefaultSelector() as selector:
            selector.register(self._status, selectors.EVENT_READ)
            selector.register(self._results, selectors.EVENT_READ)
            while status_open or results_open:
                events = selector.select(max(0.0, deadline - time.monotonic()))
                if not events:
                    if timed_out or overflowed:
                        break  # the template did not report in time after a kill
                    timed_out = True
                    self.kill()
                    deadline = time.monotonic() + _REAP_TIMEOUT
                for key, _ in events:
                    if key.fileobj is self._status:
                        message = _recv(self._status)
                        if not message:
                            status_open = False
                            selector.unregister(self._status)
                            continue
                        kind, numbers = parse_status(message)
                        if kind == "exit":
                            wait_status, cpu_ms = numbers
                    else:
                        chunk = os.read(self._results, 1 << 16)
                        output += chunk
                        if not chunk or len(output) > max_output:
                            results_open = False
                            selector.unregister(self._results)
                        if len(output) > max_output and not overflowed:
                            overflowed = True
                            self.kill()
                            deadline = time.monotonic() + _REAP_TIMEOUT
        return Finished(wait_status, cpu_ms, bytes(output), timed_out, overflowed)

    def close(self) -> None:
        with self._lock:
            self._status.close()
        os.close(self._results)


class Launcher:
    """Owns the template process; starts it on first use and again if it has died.

    `wrapper` is a command the template is started through, e.g. one that switches to an
    unprivileged user first: it must exec the rest of its arguments, descriptors kept."""

    def __init__(self, wrapper: Sequence[str] = ()) -> None:
        self._wrapper = tuple(wrapper)
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None

    def start(self) -> None:
        """Starts the template now (otherwise the first task does) and waits until it is ready."""
        with self._lock:
            self._ensure()

    def launch(self, request: Request, files: Sequence[int]) -> Sandbox:
        """Hands one task to the template; `files` are the task's descriptors, in request order."""
        status, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        results_r, results_w = os.pipe2(os.O_CLOEXEC)
        memfd = os.memfd_create("gaiwan-request", os.MFD_CLOEXEC)
        try:
            os.write(memfd, request.encode())
            fds = [theirs.fileno(), results_w, memfd, *files]
            with self._lock:
                control = self._ensure()
                try:
                    socket.send_fds(control, [RUN], fds)
                except OSError:
                    self._stop()
                    socket.send_fds(self._ensure(), [RUN], fds)
        except BaseException:
            status.close()
            os.close(results_r)
            raise
        finally:
            theirs.close()
            os.close(results_w)
            os.close(memfd)
        return Sandbox(status, results_r)

    def close(self) -> None:
        """Stops the template (and with it every task it runs)."""
        with self._lock:
            self._stop()

    def _ensure(self) -> socket.socket:
        if self._control is not None and self._process is not None and self._process.poll() is None:
            return self._control
        self._stop()
        control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = dict(_TEMPLATE_ENV, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        with theirs:
            self._process = subprocess.Popen(
                [*self._wrapper, sys.executable, "-m", "gaiwan.executors.python._template",
                 str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, cwd="/")
        control.settimeout(_START_TIMEOUT)
        try:
            ready = control.recv(16)
        except OSError:
            ready = b""
        control.settimeout(None)
        self._control = control
        if ready != READY:
            self._stop()
            raise LauncherError("the Python sandbox template did not start")
        return control

    def _stop(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._process is not None:
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(64)
    except OSError:
        return b""
