"""End to end on a platform of our own: node settings, capability matching, loss of the node."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from gaiwan.config import Config
from tests.support.platform import FRESH, Platform, frontend, status_of
from tests.support.tasks import (SPIN, SLEEP, alive, failure, invoke, python_function, template_of,
                                 wait_status)

pytestmark = [pytest.mark.platform, pytest.mark.xdist_group(FRESH)]
TIME_S = 2.5


@pytest.fixture(scope="module")
def node_without_wasm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A platform whose node offers no WebAssembly executor, with short leases and time limits."""
    p = Platform(tmp_path_factory.mktemp("node") / "home").init()
    config = Config.load(p.home)
    config.doc["execution"].update(executors=["builtin", "python"], lease_ms=3000)
    config.doc["execution"]["python"]["time_s"] = TIME_S
    config.save()
    p.start()
    yield p
    p.close()


def test_task_no_node_can_run_stays_staged(node_without_wasm: Platform) -> None:
    """A wamr task waits Staged, the scheduler logs why, and it can still be canceled."""
    p = node_without_wasm
    client = frontend(p)
    function_id = client.register_function(name="add", description="add", executor_type="wamr",
                                           payload=b"\0asm\1\0\0\0")
    task_id = invoke(client, function_id, "wamr")
    time.sleep(1.0)  # the dispatcher parks it at once; give it time to (wrongly) place it
    assert status_of(client.get_task(task_id)) == "Staged"
    log = (p.home.logs / "scheduler.log").read_text()
    parked = [line for line in log.splitlines() if "task parked" in line and task_id in line]
    assert parked and "wamr" in parked[0]
    client.cancel_task(task_id)
    assert status_of(client.wait_task(task_id, timeout=10)) == "Canceled"


def test_configured_time_limit_applies(node_without_wasm: Platform) -> None:
    """execution.python.time_s from the platform's config ends a spinning payload."""
    client = frontend(node_without_wasm)
    started = time.monotonic()
    reason = failure(client, invoke(client, python_function(client, SPIN)))
    assert reason == f"time limit exceeded ({TIME_S:g} s)"
    assert time.monotonic() - started < TIME_S + 3


def test_node_killed_during_task_retried_on_restarted_node(node_without_wasm: Platform) -> None:
    """SIGKILL of the execution service: its sandboxes die, the task reruns and finishes."""
    p = node_without_wasm
    client = frontend(p)
    task_id = invoke(client, python_function(client, SLEEP, arguments=("seconds",)), seconds="1.5")
    wait_status(client, [task_id], "Running")
    node = p.pid("execution")
    template = template_of(node)
    mark = p.mark()
    os.kill(node, signal.SIGKILL)
    p.wait_state("execution", "ready", since=mark, timeout=60)
    assert not alive(template), "the dead node's template outlived it"
    done = client.wait_task(task_id, timeout=60)
    assert status_of(done) == "Finished", done
    assert client.get_task_result(task_id) == b"slept"
    log = (p.home.logs / "scheduler.log").read_text()
    assert any("lost task" in line and task_id in line for line in log.splitlines())
