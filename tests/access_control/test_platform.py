"""On a real platform: data tags set through GaiwanTasks/SetDataTags, an operator policy loaded by
`gaiwan policy reload` deciding InvokeTask, an invalid reload refused with the set kept, and the
denial audited under one decision id with the deciding policy, in the service's log and in the frontend's
audit entry but not in the caller's message."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from gaiwan.client import FunctionArgument, FunctionInput
from gaiwan.client._messages import DataMap, OwnerList
from gaiwan.errors import PermissionDenied
from tests.support.announcements import wait_for
from tests.support.platform import Platform, gaiwan, login
from tests.support.users import as_admin, frontend_with, register

pytestmark = [pytest.mark.platform]

EU_ONLY = ('@id("eu-only-data")\nforbid (principal, action == Gaiwan::Action::"task_access_data", resource)\n'
           'when { resource.tags.contains("eu-only") && principal.function.owner_attribute != "eu" };\n')


def _reload(platform: Platform, check: bool = True) -> str:
    result = gaiwan("policy", "reload", "--home", str(platform.home.root), check=check)
    return result.stdout + result.stderr


def test_operator_policy_reload_decides_invoke(fresh_platform: Callable[..., Platform]) -> None:
    """Tagged data is refused once the policy is loaded; a bad reload keeps it; removing it allows."""
    platform = fresh_platform()
    owner = register(as_admin(platform), "DataOwner", "bank_a")
    alice = frontend_with(platform, {"id": owner.id, "token": login(platform, owner.id, owner.password)})
    admin = frontend_with(platform, {"id": "admin", "token": login(platform)})
    function_id = admin.register_function(
        name="builtin-echo", description="echo", executor_type="builtin",
        arguments=[FunctionArgument("message")], inputs=[FunctionInput("in", "")])
    data_id = alice.register_input_file("https://127.0.0.1:1/in", "aes-gcm-128", bytes(16), bytes(12),
                                        bytes(16))
    alice.set_data_tags(data_id, ["eu-only"])

    def task() -> str:
        task_id = alice.create_task(function_id, {"message": "x"}, "builtin",
                                    inputs_ownership=[OwnerList("in", [owner.id])])
        alice.assign_data_to_task(task_id, inputs=[DataMap("in", data_id)])
        return task_id

    policy_dir = platform.home.root / "policies"
    policy_dir.mkdir(exist_ok=True)
    (policy_dir / "eu.cedar").write_text(EU_ONLY)
    assert "reloaded" in _reload(platform)
    refused = task()
    with pytest.raises(PermissionDenied, match="run task") as info:
        alice.invoke_task(refused)
    decision = re.search(r"decision (d-[0-9a-f]+)", info.value.message)
    assert decision and "eu-only" not in info.value.message
    [entry] = admin.query_audit_logs(decision.group(1), 5)
    assert entry["message"].endswith(f"(decision {decision.group(1)}) [policies: eu-only-data]")
    with pytest.raises(PermissionDenied) as api_denial:
        alice.query_audit_logs("", 1)
    assert api_denial.value.message == "permission denied"
    [entry] = admin.query_audit_logs("query_audit_logs:permission denied", 5)
    assert entry["message"].endswith("[policies: audit-log-admin-only]")

    (policy_dir / "zz-bad.cedar").write_text('@id("bad")\npermit (principal, action, resource)\n'
                                             'when { resource.nope };\n')
    out = _reload(platform, check=False)
    assert "zz-bad.cedar:1" in out
    with pytest.raises(PermissionDenied):
        alice.invoke_task(refused)  # the set in force is unchanged

    (policy_dir / "zz-bad.cedar").unlink()
    (policy_dir / "eu.cedar").unlink()
    assert "reloaded" in _reload(platform)
    alice.invoke_task(task())

    log = platform.home.log_file("access_control").read_text()
    audited = [line for line in log.splitlines() if decision.group(1) in line]
    assert audited and "eu-only-data" in audited[0]


def test_a_reload_reaches_the_api_gate_before_it_is_reported(fresh_platform: Callable[..., Platform]) -> None:
    """The frontend remembers API decisions (a second identical denial is not asked again), yet
    the call right after `gaiwan policy reload` is decided by the new set, both ways; a set is
    named by its files, so going back to the first files gives back the first set's name."""
    platform = fresh_platform()
    frontend_log = platform.home.log_file("frontend")
    assert wait_for(lambda: "access_control changes stream open" in frontend_log.read_text(), 10)
    owner = register(as_admin(platform), "DataOwner", "bank_a")
    alice = frontend_with(platform, {"id": owner.id, "token": login(platform, owner.id, owner.password)})
    data_id = alice.register_input_file("https://127.0.0.1:1/in", "aes-gcm-128", bytes(16), bytes(12),
                                        bytes(16))
    alice.get_input_file(data_id)
    first_set = json.loads((platform.home.run / "policies.json").read_text())["policy_set"]
    policy = platform.home.root / "policies" / "no-reads.cedar"
    policy.parent.mkdir(exist_ok=True)
    policy.write_text(f'@id("no-reads")\nforbid (principal == Gaiwan::User::"{owner.id}", '
                      'action == Gaiwan::Action::"get_input_file", resource);\n')
    out = _reload(platform)
    assert "reloaded" in out and first_set not in out
    for _ in range(2):
        with pytest.raises(PermissionDenied):
            alice.get_input_file(data_id)
    log = platform.home.log_file("access_control").read_text()
    asked = [line for line in log.splitlines() if "authorization denied" in line and "get_input_file" in line]
    assert len(asked) == 1, "the second denial came from the frontend's memory"
    policy.unlink()
    assert f"set {first_set}" in _reload(platform)
    assert alice.get_input_file(data_id)["owner"] == [owner.id]
