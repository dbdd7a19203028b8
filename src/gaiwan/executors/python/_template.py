"""The template process: pre-imports the runtime and numpy once, then forks one sandbox per task.

Started by the executor as `python -m gaiwan.executors.python._template FD` (a fresh
interpreter, not a fork of the node: it holds none of the node's keys, sockets or threads, and a
single-threaded process is the only kind that forks safely). FD is its end of the control
socket; when the node goes away the socket reaches EOF and the template kills every task it
still runs and exits.

It is a child subreaper, so anything a payload forks stays its descendant. When a task's first
process exits, the template (still holding it as a zombie, so its process group id cannot be
reused) kills the task's whole process group, reaps it and reports the wait status and the CPU
time used. Forked sandboxes are never reused: a task cannot leave state for the next one.
"""

from __future__ import annotations

import ctypes
import os
import selectors
import signal
import socket
import sys
import tempfile
from dataclasses import dataclass

import numpy  # noqa: F401 - pre-imported so that tasks do not pay for it

from . import _child, _sandbox
from ._protocol import KILL, READY, RUN, exit_message, pid_message

_PR_SET_CHILD_SUBREAPER = 36
_MAX_FDS = 253  # SCM_MAX_FD
_UID_BASE, _UID_SPAN = 1_000_000_000, 1_000_000


@dataclass
class _Task:
    pid: int
    status: socket.socket
    uid: int


class Template:
    def __init__(self, control: socket.socket) -> None:
        self._control = control
        self._pid = os.getpid()
        self._mount_point = tempfile.mkdtemp(prefix="gaiwan-sandbox-")
        self._view = _sandbox.python_view(self._mount_point)
        self._baseline_memory = _vm_size()
        self._tasks: dict[int, _Task] = {}
        self._next_uid = 0
        self._selector = selectors.DefaultSelector()
        self._wakeup_r, wakeup_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        os.set_blocking(wakeup_w, False)
        signal.set_wakeup_fd(wakeup_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        ctypes.CDLL(None).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)

    def serve(self) -> None:
        self._selector.register(self._control, selectors.EVENT_READ, self._on_control)
        self._selector.register(self._wakeup_r, selectors.EVENT_READ, self._on_sigchld)
        self._control.send(READY)
        try:
            while self._control is not None:
                for key, _ in self._selector.select():
                    key.data(key.fileobj)
        finally:
            for task in self._tasks.values():
                _kill_group(task.pid)
            os.rmdir(self._mount_point)

    def _on_control(self, control: socket.socket) -> None:
        try:
            message, fds, _, _ = socket.recv_fds(control, 16, _MAX_FDS)
        except OSError:
            message, fds = b"", []
        if message != RUN or len(fds) < 3:
            for fd in fds:
                os.close(fd)
            if not message:  # the node is gone
                self._selector.unregister(control)
                self._control = None  # type: ignore[assignment]
            return
        status = socket.socket(fileno=fds[0])
        uid = self._allocate_uid()
        pid = os.fork()
        if pid == 0:
            _child.run(fds[1:], self._view, uid, self._baseline_memory, self._pid)
        try:
            os.setpgid(pid, pid)  # also done by the child: whichever runs first, no gap
        except OSError:
            pass
        for fd in fds[1:]:
            os.close(fd)
        self._tasks[pid] = _Task(pid, status, uid)
        self._selector.register(status, selectors.EVENT_READ, self._on_status)
        _send(status, pid_message(pid))

    def _on_status(self, status: socket.socket) -> None:
        """KILL from the executor, or EOF because it gave up on the task: kill the group."""
        try:
            message = status.recv(16)
        except OSError:
            message = b""
        if message and message != KILL:
            return
        _unregister(self._selector, status)
        for task in self._tasks.values():
            if task.status is status:
                _kill_group(task.pid)

    def _on_sigchld(self, wakeup: int) -> None:
        try:
            while os.read(wakeup, 512):
                pass
        except BlockingIOError:
            pass
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None:
                return
            task = self._tasks.pop(info.si_pid, None)
            if task is not None:
                _kill_group(task.pid)  # the leader is a zombie still: the group id is ours
            _, wait_status, usage = os.wait4(info.si_pid, 0)
            if task is not None:
                cpu_ms = int((usage.ru_utime + usage.ru_stime) * 1000)
                _send(task.status, exit_message(wait_status, cpu_ms))
                _unregister(self._selector, task.status)
                task.status.close()

    def _allocate_uid(self) -> int:
        in_use = {t.uid for t in self._tasks.values()}
        while True:
            uid = _UID_BASE + self._next_uid % _UID_SPAN
            self._next_uid += 1
            if uid not in in_use:
                return uid


def _unregister(selector: selectors.BaseSelector, sock: socket.socket) -> None:
    try:
        selector.unregister(sock)
    except KeyError:
        pass


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass


def _send(sock: socket.socket, message: bytes) -> None:
    try:
        sock.send(message)
    except OSError:
        pass  # the executor gave up on this task


def _vm_size() -> int:
    """This process's address space in bytes: the sandbox's RLIMIT_AS is this plus the limit."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("VmSize not found")


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    os.environ.pop("PYTHONPATH", None)
    Template(control).serve()


if __name__ == "__main__":
    main()
