"""Two execution nodes, as on two hosts: a frozen node's task is run again on the other node,
and the frozen node's late result, when it wakes, is not taken; a fusion output one node wrote
is read by a task on the other.

The second node is `gaiwan service execution` with a copy of the data directory whose only
change is the node's own listen port, as a second host would have it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gaiwan.client import DataMap
from gaiwan.config import Config
from gaiwan.home import Home
from tests.fixtures import teaclave_fixture
from tests.support.parties import add_user, approve_all, close_all, finished, fusion_model_task
from tests.support.platform import FRESH, Platform, frontend, status_of
from tests.support.tasks import SLEEP, eventually, invoke, python_function, wait_status

pytestmark = [pytest.mark.platform, pytest.mark.xdist_group(FRESH)]
LEASE_MS = 2000
_NODE = re.compile(r'"node_id": ?"(node-[0-9a-f-]+)"')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _node_id(log: Path) -> str | None:
    """The node id an execution service logged at start ("execution node")."""
    if not log.exists():
        return None
    for line in log.read_text().splitlines():
        if '"execution node"' in line:
            found = _NODE.search(line)
            if found:
                return found.group(1)
    return None


class SecondNode:
    def __init__(self, platform: Platform, root: Path) -> None:
        shutil.copytree(platform.home.root, root,
                        ignore=shutil.ignore_patterns("storage", "logs", "run"))
        self.home = Home.at(root)
        config = Config.load(self.home)
        config.doc["endpoints"]["execution"] = f"127.0.0.1:{_free_port()}"
        config.save()
        self.log = root / "node.log"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gaiwan", "service", "execution", "--home", str(root),
                 "--log-stderr"], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        assert eventually(lambda: _node_id(self.log) is not None, 60), self.log.read_text()[-2000:]
        self.node_id = _node_id(self.log)

    def close(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, SecondNode]]:
    root = tmp_path_factory.mktemp("two-nodes")
    p = Platform(root / "home").init()
    config = Config.load(p.home)
    config.doc["execution"].update(executors=["builtin", "python"], lease_ms=LEASE_MS, slots=1)
    config.save()
    p.start()
    second = SecondNode(p, root / "second")
    yield p, second
    second.close()
    p.close()


def _holder(p: Platform, task_id: str, after: int = 0) -> str:
    """The node the scheduler dispatched the task to (the latest dispatch, from `after` on)."""
    def found() -> str | None:
        lines = (p.home.logs / "scheduler.log").read_text().splitlines()[after:]
        hits = [line for line in lines if '"task dispatched"' in line and task_id in line]
        match = _NODE.search(hits[-1]) if hits else None
        return match.group(1) if match else None
    assert eventually(lambda: found() is not None, 30)
    return str(found())


def test_frozen_node_task_runs_on_the_other_node(two: tuple[Platform, SecondNode]) -> None:
    p, second = two
    client = frontend(p)
    function_id = python_function(client, SLEEP, arguments=("seconds",))
    # Keep the first node busy, so the task under test goes to the second one (slots = 1 each).
    busy = invoke(client, function_id, seconds="4")
    wait_status(client, [busy], "Running")
    lines = len((p.home.logs / "scheduler.log").read_text().splitlines())
    task_id = invoke(client, function_id, seconds="3")
    wait_status(client, [task_id], "Running")
    assert _holder(p, task_id) == second.node_id

    os.kill(second.proc.pid, signal.SIGSTOP)  # no heartbeats, no result: a hung host
    try:
        done = client.wait_task(task_id, timeout=60)
        assert status_of(done) == "Finished", done
        assert client.get_task_result(task_id) == b"slept"
        first_node = _node_id(p.home.logs / "execution.log")
        assert _holder(p, task_id, after=lines) == first_node
    finally:
        os.kill(second.proc.pid, signal.SIGCONT)
    # Awake again, the second node reports its stale run; the finished task stays as it was.
    def logged(message: str) -> bool:
        return any(f'"{message}"' in line and task_id in line
                   for line in (p.home.logs / "scheduler.log").read_text().splitlines())
    assert logged("lost task")
    assert eventually(lambda: logged("stale result ignored"), 30)
    after = client.get_task(task_id)
    assert status_of(after) == "Finished" and client.get_task_result(task_id) == b"slept"
    assert second.proc.poll() is None, "the second node died instead of going on"
    assert status_of(client.wait_task(busy, timeout=30)) == "Finished"


def test_fusion_output_is_read_on_the_other_node(two: tuple[Platform, SecondNode],
                                                 tmp_path: Path) -> None:
    """A model written to a fusion output by a task on one node feeds a prediction on the other:
    fusion files live in the platform's storage, not on the node that wrote them."""
    p, second = two
    admin = frontend(p)
    sleep_fn = python_function(admin, SLEEP, arguments=("seconds",))
    carol = add_user(p, "carol", "DataOwner", "lab_c")
    dave = add_user(p, "dave", "DataOwner", "lab_d")
    owner = add_user(p, "fn-owner", "FunctionOwner")
    try:
        lr = fusion_model_task(carol, dave, owner, tmp_path)
        both, writer = [carol.user_id, dave.user_id], lr.writer

        data = dave.data.upload_input(
            teaclave_fixture("functions/logistic_regression_prediction/predict_input.txt"),
            (tmp_path / "lr-predict.enc").as_uri())
        result = dave.data.register_output((tmp_path / "lr-result.enc").as_uri())

        # Slots = 1 on each node: a sleeping task on one node sends the next task to the other.
        lines = len((p.home.logs / "scheduler.log").read_text().splitlines())
        first_busy = invoke(admin, sleep_fn, seconds="8")
        wait_status(admin, [first_busy], "Running")
        busy_node = _holder(p, first_busy, after=lines)
        assert finished(carol, writer).startswith(b"Trained ")
        writer_node = _holder(p, writer, after=lines)
        assert writer_node != busy_node
        second_busy = invoke(admin, sleep_fn, seconds="12")  # holds the writer's node
        wait_status(admin, [second_busy], "Running")
        assert _holder(p, second_busy, after=lines) == writer_node

        model = dave.frontend.register_input_from_output(lr.fusion)
        reader = dave.create_task(lr.predict_fn, "builtin", {},
                                  {"model_file": both, "data_file": [dave.user_id]},
                                  {"result_file": [dave.user_id]})
        dave.frontend.assign_data_to_task(
            reader, [DataMap("model_file", model), DataMap("data_file", data.data_id)],
            [DataMap("result_file", result.data_id)])
        approve_all(reader, [carol, dave])
        assert status_of(admin.wait_task(first_busy, timeout=30)) == "Finished"
        assert finished(dave, reader) == b"Predicted 5 lines of data."
        assert _holder(p, reader, after=lines) == busy_node != writer_node
        assert {busy_node, writer_node} == {second.node_id, _node_id(p.home.logs / "execution.log")}
        assert not (p.home.root / "fusion").exists() and not (second.home.root / "fusion").exists()
        assert status_of(admin.wait_task(second_busy, timeout=30)) == "Finished"
    finally:
        close_all([carol, dave, owner])
