"""End to end: a whole-platform restart keeps users, functions, tasks and issued tokens."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gaiwan.client import FunctionArgument
from tests.support.platform import FRESH, Platform, client_classes, frontend, login, status_of


@pytest.mark.platform
@pytest.mark.xdist_group(FRESH)
def test_restart_keeps_state_and_tokens(fresh_platform: Callable[..., Platform]) -> None:
    """Users, functions and finished tasks survive a restart; a token from before still works."""
    p = fresh_platform()
    auth_cls, _ = client_classes()
    with auth_cls(p.endpoints["authentication_api"], p.home.as_root_ca_cert,
                  p.home.enclave_info) as auth:
        auth.user_login("admin", p.admin_password)
        auth.user_register("alice", "alice-password-1", "FunctionOwner", "")
    token = login(p, "alice", "alice-password-1")
    client = frontend(p, "alice", token=token)
    function_id = client.register_function(
        name="builtin-echo", description="echo", executor_type="builtin",
        arguments=[FunctionArgument("message")])
    admin = frontend(p)
    task_id = admin.create_task(function_id=function_id, function_arguments={"message": "kept"},
                                executor="builtin")
    admin.invoke_task(task_id)
    assert admin.get_task_result(task_id) == b"kept"

    p.restart()

    after = frontend(p, "alice", token=token)
    assert after.get_function(function_id)["name"] == "builtin-echo"
    assert function_id in after.list_functions("alice")["registered_functions"]
    admin = frontend(p)
    assert status_of(admin.get_task(task_id)) == "Finished"
    assert admin.get_task_result(task_id) == b"kept"
    assert login(p, "alice", "alice-password-1")
