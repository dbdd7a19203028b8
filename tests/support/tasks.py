"""Running user functions through a real platform's public API, as a Teaclave client would."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gaiwan.client import FunctionArgument, TaskFailed
from tests.support.platform import status_of

ECHO = "def entrypoint(argv):\n    return dict(zip(argv[::2], argv[1::2]))['message']\n"
SLEEP = ("import time\n"
         "def entrypoint(argv):\n"
         "    time.sleep(float(dict(zip(argv[::2], argv[1::2]))['seconds']))\n"
         "    return 'slept'\n")
SPIN = "def entrypoint(argv):\n    while True:\n        pass\n"


def python_function(client: Any, source: str, arguments: tuple[str, ...] = (), **kwargs: Any) -> str:
    """Registers a Python payload (Teaclave's executor type `python`)."""
    return str(client.register_function(
        name="payload", description="test payload", executor_type="python",
        payload=source.encode(), arguments=[FunctionArgument(a) for a in arguments], **kwargs))


def invoke(client: Any, function_id: str, executor: str = "mesapy", **arguments: str) -> str:
    """Creates and invokes a task without data; returns its id."""
    task_id = str(client.create_task(function_id=function_id, function_arguments=arguments,
                                     executor=executor))
    client.invoke_task(task_id)
    return task_id


def failure(client: Any, task_id: str) -> str:
    """The reason a task failed; fails the test if it finished instead."""
    try:
        value = client.get_task_result(task_id)
    except TaskFailed as exc:
        assert exc.status.name == "FAILED", exc
        return exc.reason
    raise AssertionError(f"task finished with {value!r}")


def wait_status(client: Any, task_ids: list[str], status: str, timeout: float = 30) -> None:
    """Polls until every task has `status` at the same moment (WaitTask waits only for ends)."""
    deadline = time.monotonic() + timeout
    while True:
        seen = [status_of(client.get_task(t)) for t in task_ids]
        if all(s == status for s in seen):
            return
        assert time.monotonic() < deadline, f"wanted all {status}, saw {seen}"
        time.sleep(0.05)


def eventually(condition: Callable[[], bool], timeout: float) -> bool:
    """Whether `condition` holds at some check within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def children(pid: int) -> set[int]:
    """Live (not zombie) child processes of `pid`, read from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.add(int(entry.name))
    return found


def template_of(execution_pid: int) -> int:
    """The Python executor's template process, a child of the execution service."""
    for pid in children(execution_pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"gaiwan.executors.python._template" in cmdline:
            return pid
    raise AssertionError("the execution node has no Python template process")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
