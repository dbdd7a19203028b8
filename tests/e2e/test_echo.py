"""End to end through the SDK: the echo built-in over attested public endpoints."""

from __future__ import annotations

import json

import pytest

from gaiwan.client import FunctionArgument
from tests.support.announcements import wait_for
from tests.support.platform import SHARED, Platform, frontend, status_of

ORDER = ["Created", "DataAssigned", "Approved", "Staged", "Running", "Finished"]


@pytest.mark.platform
@pytest.mark.xdist_group(SHARED)
def test_echo_task_runs_to_finished_with_message(platform: Platform) -> None:
    """create -> invoke -> Finished with the message; statuses seen only move forward; with the
    scheduler following access control's policy set, it dispatched on InvokeTask's decision."""
    scheduler_log = platform.home.log_file("scheduler")
    assert wait_for(lambda: "access_control changes stream open" in scheduler_log.read_text(), 10)
    client = frontend(platform)
    function_id = client.register_function(
        name="builtin-echo", description="echo", executor_type="builtin",
        arguments=[FunctionArgument("message")])
    task_id = client.create_task(function_id=function_id,
                                 function_arguments={"message": "Hello, Gaiwan!"},
                                 executor="builtin")
    seen = [status_of(client.get_task(task_id))]
    assert seen[0] in ("Created", "DataAssigned", "Approved")
    client.invoke_task(task_id)
    seen.append(status_of(client.get_task(task_id)))
    assert seen[-1] in ("Staged", "Running", "Finished")
    assert client.get_task_result(task_id) == b"Hello, Gaiwan!"
    seen.append(status_of(client.get_task(task_id)))
    assert seen[-1] == "Finished"
    positions = [ORDER.index(s) for s in seen]
    assert positions == sorted(positions), seen
    [dispatched] = [json.loads(line) for line in scheduler_log.read_text().splitlines()
                    if task_id in line and "task dispatched" in line]
    assert dispatched["run_decision"] == "invoke's"

