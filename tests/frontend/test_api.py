"""Tests of the public call table: every Teaclave method served, named and checked as spec §5."""

from __future__ import annotations

import pytest

from gaiwan.roles import Role
from gaiwan.rpc.pb import teaclave_frontend_service_pb2
from gaiwan.services.access_control import FRONTEND_API, PolicyEngine, user_entity, user_uid
from gaiwan.services.access_control.service import packaged_policy_dir
from gaiwan.services.frontend.api import PUBLIC_CALLS, snake_case

SPEC_NAMES = {
    "register_input_file", "register_output_file", "update_input_file", "update_output_file",
    "register_fusion_output", "register_input_from_output", "get_output_file", "get_input_file",
    "register_function", "get_function", "get_function_usage_stats", "update_function",
    "list_functions", "delete_function", "disable_function", "create_task", "get_task",
    "assign_data", "approve_task", "invoke_task", "cancel_task", "query_audit_logs",
}


def test_all_22_teaclave_methods_and_gaiwan_extensions_are_served() -> None:
    """The table holds every TeaclaveFrontend method plus GaiwanTasks/WaitTask and SetDataTags."""
    teaclave = teaclave_frontend_service_pb2.DESCRIPTOR.services_by_name["TeaclaveFrontend"]
    served = {(c.service, c.method) for c in PUBLIC_CALLS}
    assert {(teaclave.full_name, m.name) for m in teaclave.methods} <= served
    assert ("gaiwan_api_proto.GaiwanTasks", "WaitTask") in served
    assert ("gaiwan_api_proto.GaiwanTasks", "SetDataTags") in served
    assert len(PUBLIC_CALLS) == 24


def test_names_are_the_spec_api_names() -> None:
    """Audit messages and permissions use the snake_case names of spec §5/§9."""
    assert {c.name for c in PUBLIC_CALLS} == SPEC_NAMES | {"wait_task", "set_data_tags"}
    assert snake_case("GetFunctionUsageStats") == "get_function_usage_stats"


def test_wait_task_needs_get_task_permission() -> None:
    """WaitTask is checked as get_task; every other call as itself."""
    for call in PUBLIC_CALLS:
        assert call.permission == ("get_task" if call.name == "wait_task" else call.name)


def test_only_query_audit_logs_is_answered_locally() -> None:
    """The frontend answers QueryAuditLogs itself and forwards everything else."""
    assert [c.name for c in PUBLIC_CALLS if c.local] == ["query_audit_logs"]


@pytest.mark.parametrize("call", PUBLIC_CALLS, ids=lambda c: c.name)
def test_every_permission_is_a_schema_action(call) -> None:  # type: ignore[no-untyped-def]
    """Each call's permission is an action the Cedar schema declares (no unknown-action errors)."""
    policies = packaged_policy_dir()
    engine = PolicyEngine.load(policies / "schema.cedarschema", sorted(policies.glob("*.cedar")))
    admin = Role.parse("PlatformAdmin")
    assert engine.authorize(user_uid("a"), call.permission, FRONTEND_API, [user_entity("a", admin)]).allowed
