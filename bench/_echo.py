"""Echo tasks through the public API, timed the way a user experiences them.

Latency is InvokeTask until WaitTask returns the task Finished (the SDK's wait: no polling);
creating the task is outside the timed part. Throughput runs whole create-invoke-wait cycles
from several clients at once, each with its own attested connection.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

from gaiwan.client import FunctionArgument
from tests.support.platform import Platform, frontend, login

# A fresh platform is slower for its first few dozen tasks (cold caches, lazy imports, first
# connections); latency is measured after that, as a long-running platform sees it.
WARM_UP = 30


def register_echo(client: Any) -> str:
    return str(client.register_function(
        name="builtin-echo", description="bench echo", executor_type="builtin",
        arguments=[FunctionArgument("message")]))


def _run_one(client: Any, function_id: str, message: str, executor: str = "builtin") -> float:
    task_id = client.create_task(function_id=function_id, function_arguments={"message": message},
                                 executor=executor)
    start = time.perf_counter()
    client.invoke_task(task_id)
    result = client.get_task_result(task_id)
    elapsed = time.perf_counter() - start
    if result != message.encode():
        raise AssertionError(f"echo returned {result!r}")
    return elapsed


def echo_timer(platform: Platform) -> Callable[[], float]:
    """Times one echo task per call, on a client and function warmed up beforehand."""
    client = frontend(platform)
    function_id = register_echo(client)
    for i in range(WARM_UP):
        _run_one(client, function_id, f"warm-up {i}")
    count = itertools.count()
    return lambda: _run_one(client, function_id, f"bench {next(count)}")


def throughput(platform: Platform, clients: int, max_tasks: int, max_seconds: float,
               register: Callable[[Any], str] = register_echo, executor: str = "builtin") -> float:
    """Finished echo tasks per second with `clients` concurrent clients (bounded count and time).
    `register` makes the function (any that returns its `message` argument) run by `executor`."""
    token = login(platform)
    sessions = [frontend(platform, token=token) for _ in range(clients)]
    function_id = register(sessions[0])
    for session in sessions:
        _run_one(session, function_id, "warm-up", executor)
    done = 0
    lock = threading.Lock()
    deadline = time.monotonic() + max_seconds
    errors: list[BaseException] = []

    def work(session: Any) -> None:
        nonlocal done
        while time.monotonic() < deadline:
            with lock:
                if done >= max_tasks:
                    return
                done += 1
            try:
                _run_one(session, function_id, "tput", executor)
            except BaseException as exc:  # noqa: BLE001 - reported after the run
                errors.append(exc)
                return

    threads = [threading.Thread(target=work, args=(s,)) for s in sessions]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return done / elapsed
