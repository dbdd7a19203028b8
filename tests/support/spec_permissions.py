"""The API permissions of spec §5, written out from the spec text (not from the policy files),
so tests of the policies and of the running frontend check against the same independent table."""

from __future__ import annotations

FUNCTION_OWNER = frozenset({
    "register_function", "update_function", "delete_function", "disable_function",
    "get_function", "list_functions", "get_function_usage_stats",
})
DATA_OWNER = frozenset({
    "register_input_file", "register_output_file", "update_input_file", "update_output_file",
    "register_fusion_output", "register_input_from_output", "get_output_file", "get_input_file",
    "create_task", "get_task", "assign_data", "approve_task", "invoke_task", "cancel_task",
    "get_function", "list_functions", "get_function_usage_stats",
})
ADMIN_ONLY = frozenset({"query_audit_logs"})
ALL_APIS = sorted(FUNCTION_OWNER | DATA_OWNER | ADMIN_ONLY)
