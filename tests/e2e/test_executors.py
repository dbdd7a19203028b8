"""End to end through the SDK: Python and WebAssembly payloads on the platform's execution node."""

from __future__ import annotations

import io
import os
import time

import pytest

from gaiwan import crypto
from gaiwan.client import DataMap, FunctionArgument, FunctionInput, FunctionOutput, OwnerList
from tests.executors.wasm.conftest import build_c  # noqa: F401 - fixture
from tests.support.files import ServedDir, served  # noqa: F401 - fixture
from tests.support.platform import SHARED, Platform, frontend, status_of
from tests.support.tasks import (ECHO, SLEEP, SPIN, alive, children, eventually, failure, invoke,
                                 python_function, template_of, wait_status)

pytestmark = [pytest.mark.platform, pytest.mark.xdist_group(SHARED)]

UPPER = """
def entrypoint(argv):
    with teaclave_open("data", "rb") as f:
        lines = f.read().splitlines()
    with teaclave_open("result", "wb") as f:
        f.write(b"\\n".join(line.upper() for line in lines))
    return "%d lines" % len(lines)
"""


def test_python_echo(platform: Platform) -> None:
    """A mesapy payload's entrypoint(argv) return value is the task's result."""
    client = frontend(platform)
    function_id = python_function(client, ECHO, arguments=("message",))
    assert client.get_task_result(invoke(client, function_id, message="Hello, sandbox!")) \
        == b"Hello, sandbox!"


def test_python_reads_input_and_writes_output(platform: Platform, served: ServedDir) -> None:
    """teaclave_open over the real data path: aes-gcm input in, teaclave-file-128 output out."""
    client = frontend(platform)
    secret = b"alice,42\nbob,17\n"
    in_key, in_iv, out_key = os.urandom(16), os.urandom(12), os.urandom(16)
    sealed = io.BytesIO()
    in_cmac = crypto.encrypt(crypto.AES_GCM_128, in_key, in_iv, io.BytesIO(secret), sealed)
    name = f"in-{os.urandom(4).hex()}.enc"
    served.path(name).write_bytes(sealed.getvalue())
    out_name = f"out-{os.urandom(4).hex()}.enc"

    function_id = client.register_function(
        name="upper", description="upper", executor_type="python", payload=UPPER.encode(),
        inputs=[FunctionInput("data", "lines")], outputs=[FunctionOutput("result", "upper")])
    task_id = client.create_task(function_id=function_id, function_arguments={}, executor="mesapy",
                                 inputs_ownership=[OwnerList("data", ["admin"])],
                                 outputs_ownership=[OwnerList("result", ["admin"])])
    in_id = client.register_input_file(served.url(name), crypto.AES_GCM_128, in_key, in_iv, in_cmac)
    out_id = client.register_output_file(served.url(out_name), crypto.TEACLAVE_FILE_128, out_key, b"")
    client.assign_data_to_task(task_id, inputs=[DataMap("data", in_id)],
                               outputs=[DataMap("result", out_id)])
    client.approve_task(task_id)
    client.invoke_task(task_id)

    assert client.get_task_result(task_id) == b"2 lines"
    cmac = client.get_output_cmac_by_tag(task_id, "result")
    plain = io.BytesIO()
    crypto.decrypt(crypto.TEACLAVE_FILE_128, out_key, b"", io.BytesIO(served.path(out_name).read_bytes()),
                   plain, cmac, out_name)
    assert plain.getvalue() == b"ALICE,42\nBOB,17"


def test_wasm_add(platform: Platform, build_c) -> None:  # noqa: F811
    """The C `add` module runs on executor wamr; its i32 result is the return value."""
    client = frontend(platform)
    function_id = client.register_function(
        name="add", description="add", executor_type="wamr", payload=build_c("add"),
        arguments=[FunctionArgument("a"), FunctionArgument("b")])
    assert client.get_task_result(invoke(client, function_id, "wamr", a="40", b="2")) == b"42"


def test_two_slots_cancel_one_other_finishes(platform: Platform) -> None:
    """Two tasks Running at once; canceling the spinning one kills only its sandbox."""
    client = frontend(platform)
    spin = invoke(client, python_function(client, SPIN))
    sleeper = invoke(client, python_function(client, SLEEP, arguments=("seconds",)), seconds="4")
    wait_status(client, [spin, sleeper], "Running")
    template = template_of(platform.pid("execution"))
    # Running is written just before the node forks the sandbox: wait for the fork.
    assert eventually(lambda: len(children(template)) == 2, 5), "two sandboxes never ran at once"
    sandboxes = children(template)

    started = time.monotonic()
    client.cancel_task(spin)
    assert status_of(client.wait_task(spin, timeout=10)) == "Canceled"
    assert eventually(lambda: len(children(template)) == 1, 3), "the canceled sandbox still runs"
    assert time.monotonic() - started < 2.0
    # The freed slot serves a new task while the other one still sleeps.
    echo = invoke(client, python_function(client, ECHO, arguments=("message",)), message="next")
    assert client.get_task_result(echo) == b"next"
    assert status_of(client.get_task(sleeper)) == "Running"
    assert client.get_task_result(sleeper) == b"slept"
    assert not any(alive(pid) for pid in sandboxes)


BOMB = "def entrypoint(argv):\n    hog = []\n    while True:\n        hog.append(bytearray(64 << 20))\n"
NETWORK = """
import socket
def entrypoint(argv):
    socket.create_connection(("127.0.0.1", %d), timeout=2)
    return "connected"
"""
HOME = """
import os
def entrypoint(argv):
    found = os.listdir(%r)
    return "listed " + ",".join(found)
"""
KEYS = """
def entrypoint(argv):
    return open(%r, "rb").read().hex()
"""


def test_hostile_payloads_fail_node_keeps_serving(platform: Platform) -> None:
    """Memory bomb, network, the data dir and its keys: each Failed with a reason; node serves."""
    client = frontend(platform)
    port = int(platform.endpoints["frontend_api"].rsplit(":", 1)[1])
    key_file = next(p for p in platform.home.keys.rglob("*") if p.is_file())
    cases = {
        BOMB: "memory limit exceeded",
        NETWORK % port: "Address family not supported",
        HOME % str(platform.home.root): "FileNotFoundError",
        KEYS % str(key_file): "FileNotFoundError",
    }
    tasks = {invoke(client, python_function(client, source)): reason
             for source, reason in cases.items()}
    for task_id, reason in tasks.items():
        got = failure(client, task_id)
        assert reason in got, got
        assert str(platform.home.root) not in got  # host paths never reach the reason
    echo = invoke(client, python_function(client, ECHO, arguments=("message",)), message="alive")
    assert client.get_task_result(echo) == b"alive"
