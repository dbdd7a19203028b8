"""Tests of the frontend's call pipeline with the real Cedar policies and fake neighbours."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from gaiwan.errors import GaiwanError, InvalidArgument, PermissionDenied, Unauthenticated, Unavailable
from gaiwan.logs import get_logger
from gaiwan.roles import Role
from gaiwan.rpc.pb import gaiwan_api_pb2
from gaiwan.rpc.pb import teaclave_common_pb2 as common_pb
from gaiwan.rpc.pb import teaclave_frontend_service_pb2 as pb
from gaiwan.services.access_control import FRONTEND_API, Decision, PolicyEngine, user_entity, user_uid
from gaiwan.services.access_control.service import packaged_policy_dir
from gaiwan.services.frontend import audit
from gaiwan.services.frontend.api import PUBLIC_CALLS
from gaiwan.services.frontend.audit_writer import AuditWriter
from gaiwan.services.frontend.gate import Caller, Gate

from .conftest import FakeContext, FakeRpcError, MemoryStorage

USERS = {
    ("admin", "tok-admin"): "PlatformAdmin",
    ("fo", "tok-fo"): "FunctionOwner",
    ("alice", "tok-alice"): "DataOwner-bank_a",
}
CALLS = {c.name: c for c in PUBLIC_CALLS}


def _authenticate(user_id: str, token: str) -> Caller:
    role = USERS.get((user_id, token))
    if role is None:
        raise Unauthenticated("authentication failed")
    return Caller(user_id, Role.parse(role))


class FakeManagement:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, dict[str, str], float | None]] = []
        self.error: grpc.RpcError | None = None

    def __getattr__(self, method: str) -> Any:
        def call(request: Any, metadata: tuple[tuple[str, str], ...], timeout: float | None) -> Any:
            self.calls.append((method, request, dict(metadata), timeout))
            if self.error is not None:
                raise self.error
            return pb.GetTaskResponse(task_id="task-1")

        return call


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    policies = packaged_policy_dir()
    return PolicyEngine.load(policies / "schema.cedarschema", sorted(policies.glob("*.cedar")))


@pytest.fixture
def management() -> FakeManagement:
    return FakeManagement()


@pytest.fixture
def gate(engine: PolicyEngine, management: FakeManagement, storage: MemoryStorage) -> Gate:
    def check(user_id: str, role: Role, action: str) -> Decision:
        return engine.authorize(user_uid(user_id), action, FRONTEND_API, [user_entity(user_id, role)])

    return Gate(_authenticate, check, management, AuditWriter(storage, get_logger("test")),
                storage, get_logger("test"))


def _audit(gate: Gate, storage: MemoryStorage) -> list[common_pb.Entry]:
    gate._audit.flush()
    return audit.query(storage, "", 100)


def _ctx(user: str = "", token: str = "") -> FakeContext:
    md = tuple((k, v) for k, v in (("id", user), ("token", token)) if v)
    return FakeContext(md)


def test_forwards_with_identity_and_audits_success(gate: Gate, management: FakeManagement,
                                                   storage: MemoryStorage) -> None:
    """An allowed call reaches management with the caller's id and role, and is audited ok."""
    request = pb.GetTaskRequest(task_id="task-1")
    response = gate.handler(CALLS["get_task"])(request, _ctx("alice", "tok-alice"))
    assert response.task_id == "task-1"
    method, sent, metadata, timeout = management.calls[0]
    assert (method, sent) == ("GetTask", request)
    assert metadata == {"gaiwan-user-id": "alice", "gaiwan-user-role": "DataOwner-bank_a"}
    assert timeout is not None
    [e] = _audit(gate, storage)
    assert (e.message, e.result, e.user) == ("get_task", True, "{ user: alice, role: DataOwner-bank_a }")
    assert e.ip == bytes([10, 1, 2, 3]) and e.microsecond > 0


def test_missing_credentials_are_unauthenticated_and_audited(gate: Gate, management: FakeManagement,
                                                            storage: MemoryStorage) -> None:
    """No metadata: UNAUTHENTICATED, nothing forwarded, audited with an empty user."""
    with pytest.raises(Unauthenticated):
        gate.handler(CALLS["get_task"])(pb.GetTaskRequest(), _ctx())
    assert management.calls == []
    [e] = _audit(gate, storage)
    assert e.user == "" and not e.result and e.message.startswith("get_task:missing credentials")


def test_bad_token_is_unauthenticated_and_not_logged(gate: Gate, management: FakeManagement,
                                                    storage: MemoryStorage) -> None:
    """A refused token: UNAUTHENTICATED; the token appears in no audit entry."""
    with pytest.raises(Unauthenticated):
        gate.handler(CALLS["get_task"])(pb.GetTaskRequest(), _ctx("alice", "stolen-token"))
    assert management.calls == []
    [e] = _audit(gate, storage)
    assert e.message == "get_task:authentication failed" and "stolen" not in str(e)


@pytest.mark.parametrize("user,token,call", [
    ("fo", "tok-fo", "create_task"),
    ("alice", "tok-alice", "register_function"),
    ("alice", "tok-alice", "delete_function"),
])
def test_denied_call_is_permission_denied_and_not_forwarded(
        gate: Gate, management: FakeManagement, storage: MemoryStorage,
        user: str, token: str, call: str) -> None:
    """A call the role may not make: PERMISSION_DENIED before management sees it."""
    with pytest.raises(PermissionDenied):
        gate.handler(CALLS[call])(CALLS[call].request_type(), _ctx(user, token))
    assert management.calls == []
    [e] = _audit(gate, storage)
    assert e.message == f"{call}:permission denied [policies: (none permits)]"
    assert e.user.startswith(f"{{ user: {user},")


def test_api_denial_audits_the_policy_and_tells_the_caller_nothing(gate: Gate,
                                                                    storage: MemoryStorage) -> None:
    """A denied API call's audit entry names the forbidding policy; the caller's message does not."""
    with pytest.raises(PermissionDenied) as info:
        gate.handler(CALLS["query_audit_logs"])(pb.QueryAuditLogsRequest(), _ctx("alice", "tok-alice"))
    assert info.value.message == "permission denied"
    [e] = _audit(gate, storage)
    assert e.message == "query_audit_logs:permission denied [policies: audit-log-admin-only]"


def test_resource_denial_audits_the_policies_the_decision_names(
        gate: Gate, management: FakeManagement, storage: MemoryStorage) -> None:
    """Management's denial is audited with the policies of its decision id; the caller sees none."""
    asked: list[str] = []
    gate._denied_by = lambda decision_id: asked.append(decision_id) or ("eu-only-data", "x-forbid")
    denial = "permission denied: run task with its function and data (decision d-0123456789ab)"
    management.error = FakeRpcError(grpc.StatusCode.PERMISSION_DENIED, denial)
    with pytest.raises(PermissionDenied) as info:
        gate.handler(CALLS["invoke_task"])(pb.InvokeTaskRequest(task_id="t"), _ctx("alice", "tok-alice"))
    assert info.value.message == denial and "eu-only" not in str(info.value)
    assert asked == ["d-0123456789ab"]
    [e] = _audit(gate, storage)
    assert e.message == f"invoke_task:{denial} [policies: eu-only-data,x-forbid]" and not e.result


@pytest.mark.parametrize("lookup", [lambda _: None, lambda _: (_ for _ in ()).throw(Unavailable("down"))])
def test_resource_denial_without_known_policies_is_audited_as_unknown(
        gate: Gate, management: FakeManagement, storage: MemoryStorage, lookup: Any) -> None:
    """A forgotten decision or a failed lookup still audits the denial, policies unknown."""
    gate._denied_by = lookup
    denial = "permission denied: get task (decision d-0123456789ab)"
    management.error = FakeRpcError(grpc.StatusCode.PERMISSION_DENIED, denial)
    with pytest.raises(PermissionDenied, match="get task"):
        gate.handler(CALLS["get_task"])(pb.GetTaskRequest(), _ctx("alice", "tok-alice"))
    [e] = _audit(gate, storage)
    assert e.message == f"get_task:{denial} [policies: unknown]"


def test_wait_task_is_checked_as_get_task(gate: Gate, management: FakeManagement) -> None:
    """A data owner may wait for a task; a function owner (no get_task) may not."""
    handle = gate.handler(CALLS["wait_task"])
    handle(gaiwan_api_pb2.WaitTaskRequest(task_id="task-1"), _ctx("alice", "tok-alice"))
    assert management.calls[0][0] == "WaitTask" and management.calls[0][3] is None
    with pytest.raises(PermissionDenied):
        handle(gaiwan_api_pb2.WaitTaskRequest(task_id="task-1"), _ctx("fo", "tok-fo"))


def test_management_error_passes_unchanged_and_is_audited(
        gate: Gate, management: FakeManagement, storage: MemoryStorage) -> None:
    """management's status and message reach the caller as they are; the audit gets the suffix."""
    management.error = FakeRpcError(grpc.StatusCode.INVALID_ARGUMENT, "invalid task id")
    with pytest.raises(InvalidArgument, match="invalid task id"):
        gate.handler(CALLS["get_task"])(pb.GetTaskRequest(task_id="x"), _ctx("alice", "tok-alice"))
    [e] = _audit(gate, storage)
    assert (e.message, e.result) == ("get_task:invalid task id", False)


def test_unmapped_management_status_is_kept(gate: Gate, management: FakeManagement) -> None:
    """A status without its own error class (e.g. NOT_FOUND) still keeps its code."""
    management.error = FakeRpcError(grpc.StatusCode.NOT_FOUND, "gone")
    with pytest.raises(GaiwanError) as info:
        gate.handler(CALLS["get_task"])(pb.GetTaskRequest(), _ctx("alice", "tok-alice"))
    assert info.value.code == grpc.StatusCode.NOT_FOUND


def test_unexpected_error_is_audited_generically(gate: Gate, management: FakeManagement,
                                                 storage: MemoryStorage) -> None:
    """A bug in a dependency is audited as an internal error, with no exception text."""
    management.error = None
    gate._management = type("Broken", (), {"GetTask": lambda *a, **k: 1 / 0})()  # type: ignore[attr-defined]
    broken = gate.handler(CALLS["get_task"])
    with pytest.raises(ZeroDivisionError):
        broken(pb.GetTaskRequest(), _ctx("alice", "tok-alice"))
    [e] = _audit(gate, storage)
    assert e.message == "get_task:internal error"


def test_admin_queries_audit_log_including_own_earlier_calls(gate: Gate, storage: MemoryStorage) -> None:
    """QueryAuditLogs sees every earlier call at once (pending entries are flushed first)."""
    gate.handler(CALLS["get_task"])(pb.GetTaskRequest(), _ctx("alice", "tok-alice"))
    with pytest.raises(Unauthenticated):
        gate.handler(CALLS["get_task"])(pb.GetTaskRequest(), _ctx())
    reply = gate.handler(CALLS["query_audit_logs"])(
        pb.QueryAuditLogsRequest(query="get_task", limit=0), _ctx("admin", "tok-admin"))
    assert [e.result for e in reply.logs] == [False, True]
    assert [e.message for e in audit.query(storage, "query_audit_logs", 5)] == []  # not flushed yet
    gate._audit.flush()
    assert [e.message for e in audit.query(storage, "query_audit_logs", 5)] == ["query_audit_logs"]
