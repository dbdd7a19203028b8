"""End to end: the API permission matrix of spec §5, every TeaclaveFrontend method for every role.

The expected matrix is written out here from the spec text, not read from the policy files, so
a policy change that drifts from the spec fails this test. Requests are minimal and name ids that
do not exist: a permitted call then fails (or succeeds) in management, never at the API gate.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.message import Message

from gaiwan.client import FrontendService
from gaiwan.rpc.pb import teaclave_frontend_service_pb2 as fe_pb
from gaiwan.rpc.pb import teaclave_frontend_service_pb2_grpc as fe_grpc
from tests.support.platform import SHARED, Platform, login
from tests.support.spec_permissions import ALL_APIS, DATA_OWNER, FUNCTION_OWNER
from tests.support.users import as_admin, frontend_with, register, unique

pytestmark = [pytest.mark.platform, pytest.mark.xdist_group(SHARED)]

# Spec §2: the 22 methods of TeaclaveFrontend.
METHODS = (
    "RegisterInputFile", "RegisterOutputFile", "UpdateInputFile", "UpdateOutputFile",
    "RegisterFusionOutput", "RegisterInputFromOutput", "GetOutputFile", "GetInputFile",
    "RegisterFunction", "GetFunction", "GetFunctionUsageStats", "UpdateFunction", "ListFunctions",
    "DeleteFunction", "DisableFunction", "CreateTask", "GetTask", "AssignData", "ApproveTask",
    "InvokeTask", "CancelTask", "QueryAuditLogs",
)
SNAKE = {m: "".join(f"_{c.lower()}" if c.isupper() else c for c in m).lstrip("_") for m in METHODS}
ALLOWED = {
    "PlatformAdmin": set(SNAKE.values()),
    "FunctionOwner": FUNCTION_OWNER,
    "DataOwnerManager": DATA_OWNER,
    "DataOwner": DATA_OWNER,
}
AUDIT_POLICY = "audit-log-admin-only"

_SERVICE = fe_pb.DESCRIPTOR.services_by_name["TeaclaveFrontend"]
_MISSING = {
    "function_id": f"function-{uuid.uuid4()}",
    "task_id": f"task-{uuid.uuid4()}",
    "data_id": f"input-{uuid.uuid4()}",
}


def _request(method: str, caller: str) -> Message:
    """The method's request with every id field naming something that does not exist."""
    request = message_factory.GetMessageClass(_SERVICE.methods_by_name[method].input_type)()
    for name, value in _MISSING.items():
        if name in request.DESCRIPTOR.fields_by_name:
            setattr(request, name, value)
    if method == "ListFunctions":
        request.user_id = caller
    if method == "QueryAuditLogs":
        request.limit = 1
    return request


def _outcome(client: FrontendService, method: str, caller: str) -> tuple[grpc.StatusCode, str]:
    """The status (OK or the error's) and message of one raw call through the attested channel."""
    try:
        client.channel.call(fe_grpc.TeaclaveFrontendStub, method, _request(method, caller),
                            metadata=list(client.metadata.items()), timeout=30)
    except grpc.RpcError as err:
        return err.code(), err.details() or ""
    return grpc.StatusCode.OK, ""


def _gate_denial(code: grpc.StatusCode, message: str) -> bool:
    """The frontend's API check said no: exactly "permission denied" (the deciding policies go
    to the audit log only). Management's resource denials ("permission denied: <what>") come
    only after the gate let a call through."""
    return code == grpc.StatusCode.PERMISSION_DENIED and message == "permission denied"


@pytest.fixture(scope="module")
def callers(platform: Platform) -> Iterator[dict[str, FrontendService]]:
    """One frontend client per role of spec §5, the data roles in one fresh group."""
    group = unique("grp")
    with as_admin(platform) as admin:
        users = {
            "FunctionOwner": register(admin, "FunctionOwner", prefix="fo"),
            "DataOwnerManager": register(admin, "DataOwnerManager", group, prefix="dom"),
            "DataOwner": register(admin, "DataOwner", group, prefix="do"),
        }
    clients = {"PlatformAdmin": frontend_with(platform, {"id": "admin", "token": login(platform)})}
    for role, user in users.items():
        token = login(platform, user.id, user.password)
        clients[role] = frontend_with(platform, {"id": user.id, "token": token})
    yield clients
    for client in clients.values():
        client.close()


def test_frontend_serves_exactly_the_spec_methods() -> None:
    """The proto's TeaclaveFrontend has the 22 methods of spec §2, so the matrix covers all."""
    assert sorted(m.name for m in _SERVICE.methods) == sorted(METHODS)
    assert sorted(SNAKE.values()) == ALL_APIS


@pytest.mark.parametrize("role", list(ALLOWED))
def test_api_permission_matrix(callers: dict[str, FrontendService], role: str) -> None:
    """Denied cells are the gate's PERMISSION_DENIED; allowed cells reach management."""
    client = callers[role]
    caller = client.metadata["id"]
    wrong: dict[str, tuple[str, str]] = {}
    for method in METHODS:
        api = SNAKE[method]
        code, message = _outcome(client, method, caller)
        if api in ALLOWED[role]:
            ok = code in (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT) or (
                code == grpc.StatusCode.PERMISSION_DENIED and not _gate_denial(code, message))
        else:
            ok = _gate_denial(code, message) and AUDIT_POLICY not in message
        if not ok:
            wrong[api] = (code.name, message)
    assert not wrong, f"{role}: cells against spec §5: {wrong}"
    if role != "PlatformAdmin":
        # The forbid that keeps the audit log to admins is named in the audit entry, not to
        # the caller.
        entries = callers["PlatformAdmin"].query_audit_logs("query_audit_logs:permission denied", 1000)
        assert any(f"user: {caller}," in e.get("user", "") and AUDIT_POLICY in e["message"]
                   for e in entries), entries[:3]
