"""The frontend's call pipeline: every public call is authenticated, authorized, forwarded and
audited by the same code, whatever its method.

One handler per method is built from the call table (`api.PUBLIC_CALLS`) instead of a servicer
class with 23 near-identical methods: the methods differ only in their names and types, and a
table cannot forget a check in one of them. Dependencies (authentication, the access check,
management, the audit writer) come in as objects, so the pipeline is tested without servers.

Denials: the audit entry of every denied call names the policies that decided it
(`get_task:permission denied: get task (decision d-…) [policies: a,b]`), the caller's message
never does (an operator policy's id may name another party). The API check's decision carries
them; for management's denials the frontend asks the access control service, by the decision id
quoted in management's message, which policies it logged (`DeniedBy`). That lookup was preferred
to management returning the ids in trailing metadata because management's message and status
then stay exactly what any caller of it sees, and nothing has to be stripped on the way out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import Message

from ...errors import GaiwanError, PermissionDenied, Unauthenticated, Unavailable, from_rpc_error
from ...logs import Logger
from ...roles import Role
from ...rpc.pb import teaclave_authentication_service_pb2 as auth_pb
from ...rpc.pb import teaclave_authentication_service_pb2_grpc as auth_grpc
from ...rpc.pb import teaclave_common_pb2 as common_pb
from ...rpc.pb import teaclave_frontend_service_pb2 as frontend_pb
from ..access_control import Decision
from . import audit
from .api import PUBLIC_CALLS, PublicCall
from .audit_writer import AuditWriter
from .request_info import credentials, peer_ip

# Without a client deadline, a forwarded call still may not hold a worker forever. WaitTask is
# bounded by management's own maximum wait instead.
DEFAULT_FORWARD_TIMEOUT_S = 60.0
_MAX_AUDITED_ERROR = 500
_NO_DEADLINE_S = 365 * 24 * 3600.0
_OUTAGE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
# How management quotes the access control service's reference to a denial (`_rules.require`).
_DECISION_REF = re.compile(r"\(decision (d-[0-9a-f]{1,64})\)")


@dataclass(frozen=True)
class Caller:
    user_id: str
    role: Role


Authenticate = Callable[[str, str], Caller]
CheckApi = Callable[[str, Role, str], Decision]
DeniedBy = Callable[[str], tuple[str, ...] | None]


class _Denial(PermissionDenied):
    """A denial as the caller sees it, with the deciding policies for the audit entry only
    (None: not known)."""

    def __init__(self, message: str, policy_ids: tuple[str, ...] | None) -> None:
        super().__init__(message)
        self.policy_ids = policy_ids

    def audited(self) -> str:
        if self.policy_ids is None:
            policies = "unknown"
        else:
            policies = ",".join(self.policy_ids) or "(none permits)"
        return f"{self.message} [policies: {policies}]"


class Authenticator:
    """Validates (id, token) with the authentication service; any refusal is Unauthenticated,
    with one message, so a caller learns nothing about why a token was refused. An outage of the
    authentication service is Unavailable: the token may be good, and the caller should retry
    rather than log in again."""

    def __init__(self, channel: grpc.Channel, log: Logger, timeout_s: float = 5.0) -> None:
        self._stub = auth_grpc.TeaclaveAuthenticationInternalStub(channel)
        self._log = log
        self._timeout = timeout_s

    def __call__(self, user_id: str, token: str) -> Caller:
        return self.check(user_id, token)[0]

    def check(self, user_id: str, token: str) -> tuple[Caller, int]:
        """The caller and the token's expiry (seconds since the epoch)."""
        request = auth_pb.UserAuthenticateRequest(
            credential=common_pb.UserCredential(id=user_id, token=token))
        try:
            claims = self._stub.UserAuthenticate(request, timeout=self._timeout).claims
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
            if code != grpc.StatusCode.UNAUTHENTICATED:
                self._log.warning("authentication service failed", status=code.name)
            if code in _OUTAGE:
                raise Unavailable("authentication is unavailable; try again") from None
            raise Unauthenticated("authentication failed") from None
        if claims.sub != user_id:
            raise Unauthenticated("authentication failed")
        try:
            return Caller(user_id, Role.parse(claims.role)), int(claims.exp)
        except GaiwanError:
            raise Unauthenticated("authentication failed") from None


def forward_timeout(remaining: float | None, default: float | None) -> float | None:
    """The client's remaining time, passed on; without a client deadline grpc reports None or
    an infinite/huge value, which must not reach the outgoing call (it would expire at once)."""
    if remaining is None or remaining > _NO_DEADLINE_S:
        return default
    return remaining


class Gate:
    def __init__(self, authenticate: Authenticate, check_api: CheckApi, management: Any,
                 audit_writer: AuditWriter, audit_reader: audit.AuditReader, log: Logger,
                 denied_by: DeniedBy | None = None) -> None:
        """management: a GaiwanManagementStub (or anything with its methods); denied_by: the
        policies of a denial by its decision id (AccessControlClient.denied_by)."""
        self._authenticate = authenticate
        self._denied_by = denied_by
        self._check_api = check_api
        self._management = management
        self._audit = audit_writer
        self._audit_reader = audit_reader
        self._log = log

    def handler(self, call: PublicCall) -> Callable[[Message, grpc.ServicerContext], Message]:
        run = self._query_audit_logs if call.local else self._forwarder(call)

        def handle(request: Message, context: grpc.ServicerContext) -> Message:
            started = audit.now_us()
            user = ""
            try:
                caller = self._authenticate(*credentials(context.invocation_metadata()))
                user = audit.format_user(caller.user_id, str(caller.role))
                self._authorize(caller, call)
                response = run(request, context, caller)
            except GaiwanError as exc:
                self._record(started, context, user, call.name,
                             exc.audited() if isinstance(exc, _Denial) else exc.message)
                raise
            except Exception:
                self._record(started, context, user, call.name, "internal error")
                raise
            self._record(started, context, user, call.name, None)
            return response

        return handle

    def register(self, server: grpc.Server) -> None:
        """Adds every public call to `server`, one gRPC service per proto service."""
        by_service: dict[str, dict[str, grpc.RpcMethodHandler]] = {}
        for call in PUBLIC_CALLS:
            by_service.setdefault(call.service, {})[call.method] = grpc.unary_unary_rpc_method_handler(
                self.handler(call),
                request_deserializer=call.request_type.FromString,
                response_serializer=call.response_type.SerializeToString,
            )
        for service, handlers in by_service.items():
            server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
            server.add_registered_method_handlers(service, handlers)

    def _authorize(self, caller: Caller, call: PublicCall) -> None:
        decision = self._check_api(caller.user_id, caller.role, call.permission)
        if decision.allowed:
            return
        self._log.info("call denied", api=call.name, user=caller.user_id,
                       policies=",".join(decision.policy_ids))
        raise _Denial("permission denied", decision.policy_ids)

    def _forwarder(self, call: PublicCall) -> Callable[[Message, grpc.ServicerContext, Caller], Message]:
        method = getattr(self._management, call.method)
        default_timeout = None if call.name == "wait_task" else DEFAULT_FORWARD_TIMEOUT_S

        def forward(request: Message, context: grpc.ServicerContext, caller: Caller) -> Message:
            metadata = (("gaiwan-user-id", caller.user_id), ("gaiwan-user-role", str(caller.role)))
            timeout = forward_timeout(context.time_remaining(), default_timeout)
            try:
                return method(request, metadata=metadata, timeout=timeout)  # type: ignore[no-any-return]
            except grpc.RpcError as exc:
                err = from_rpc_error(exc)
            if isinstance(err, PermissionDenied):
                raise _Denial(err.message, self._policies_of(err.message)) from None
            raise err from None

        return forward

    def _policies_of(self, message: str) -> tuple[str, ...] | None:
        """The policies behind a management denial, from the access control service's memory of
        the decision its message quotes; None when unknown (the denial stands either way)."""
        found = _DECISION_REF.search(message)
        if found is None or self._denied_by is None:
            return None
        try:
            return self._denied_by(found.group(1))
        except GaiwanError as exc:
            self._log.warning("denial lookup failed", error=type(exc).__name__)
            return None

    def _query_audit_logs(self, request: Message, context: grpc.ServicerContext,
                          caller: Caller) -> Message:
        assert isinstance(request, frontend_pb.QueryAuditLogsRequest)
        self._audit.flush()
        logs = audit.query(self._audit_reader, request.query, request.limit)
        return frontend_pb.QueryAuditLogsResponse(logs=logs)

    def _record(self, started: int, context: grpc.ServicerContext, user: str, name: str,
                error: str | None) -> None:
        if error is not None:
            error = error[:_MAX_AUDITED_ERROR]
        entry = audit.entry(started, peer_ip(context.peer()), user, name, error)
        self._audit.record(audit.key(started), entry)
