"""The typed client of the access control service, for the services that ask it (frontend,
management, scheduler). One stub per channel; entities travel as JSON, built by the caller."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import grpc

from ...errors import from_rpc_error
from ...roles import Role
from ...rpc.pb import gaiwan_access_control_pb2 as pb
from ...rpc.pb import gaiwan_access_control_pb2_grpc as pb_grpc
from .engine import Decision, EntityUid, Query
from .entities import FRONTEND_API, user_entity, user_uid


def _compact(value: Any) -> str:
    """JSON without spaces: fewer bytes on the wire and for Cedar to scan."""
    return json.dumps(value, separators=(",", ":"))


def _ref(uid: EntityUid) -> dict[str, str]:
    """A message field given as a dict: half the cost of constructing the EntityRef."""
    return {"type": uid.type, "id": uid.id}


def _decision(resp: pb.AuthorizeResponse, policy_set: str) -> Decision:
    return Decision(resp.allowed, tuple(resp.policy_ids), tuple(resp.errors), resp.decision_id,
                    policy_set)


class AccessControlClient:
    def __init__(self, channel: grpc.Channel, timeout_s: float = 5.0) -> None:
        self._stub = pb_grpc.GaiwanAccessControlStub(channel)
        self._timeout = timeout_s

    def authorize(
        self,
        principal: EntityUid,
        action: str,
        resource: EntityUid,
        entities: list[dict[str, Any]],
        context: Mapping[str, Any] | None = None,
    ) -> Decision:
        """Asks for one decision; a failed call raises the service's typed error (fail closed)."""
        request = pb.AuthorizeRequest(
            principal=_ref(principal),
            action=action,
            resource=_ref(resource),
            entities_json=_compact(entities),
            context_json=json.dumps(dict(context)) if context else "",
        )
        try:
            resp = self._stub.Authorize(request, timeout=self._timeout)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc) from None
        return _decision(resp, resp.policy_set)

    def authorize_all(self, queries: Sequence[Query], entities: list[dict[str, Any]]) -> list[Decision]:
        """All of one call's questions in one round trip, over one set of entities (fail closed)."""
        request = pb.AuthorizeBatchRequest(
            questions=[pb.Question(principal=_ref(q.principal), action=q.action,
                                   resource=_ref(q.resource),
                                   context_json=json.dumps(dict(q.context)) if q.context else "")
                       for q in queries],
            entities_json=_compact(entities),
        )
        try:
            resp = self._stub.AuthorizeBatch(request, timeout=self._timeout)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc) from None
        return [_decision(d, resp.policy_set) for d in resp.decisions]

    def denied_by(self, decision_id: str) -> tuple[str, ...] | None:
        """The policies that decided a recent denial (none for the default deny); None when the
        service no longer remembers it. For audit entries only: never show them to the caller."""
        try:
            resp = self._stub.DeniedBy(pb.DeniedByRequest(decision_id=decision_id), timeout=self._timeout)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc) from None
        return tuple(resp.policy_ids) if resp.known else None

    def check_api(self, user_id: str, role: Role, action: str) -> Decision:
        """The frontend's coarse check (spec §5): may this user make this public call at all?"""
        return self.authorize(user_uid(user_id), action, FRONTEND_API, [user_entity(user_id, role)])


class PolicySetWatch:
    """The fingerprint of the policy set in force, as the service's announcements tell it (a
    `services.announcements.Listener`); None while they do not arrive. For a caller that reuses
    a decision only while the set that made it is still in force."""

    def __init__(self) -> None:
        self.current: str | None = None

    def open(self, current: str) -> None:
        self.current = current or None

    def forget(self, subject: str) -> None:
        self.current = subject or None

    def close(self) -> None:
        self.current = None
