"""The frontend's memory of API permission decisions, and the policy announcements that keep it
exact."""

from __future__ import annotations

from collections.abc import Callable

import grpc

from gaiwan.roles import Role
from gaiwan.services.access_control import Decision
from gaiwan.services.announcements import Announcements
from gaiwan.services.frontend.decisions import CachedApiCheck
from tests.support.announcements import following, wait_for

OWNER = Role.parse("DataOwner-a")


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Policies:
    """Stands in for the access control service: answers from a table, counts the questions."""

    def __init__(self) -> None:
        self.answers = {"get_task": True, "query_audit_logs": False}
        self.asked: list[tuple[str, str, str]] = []
        self.during: list[Callable[[], object]] = []

    def __call__(self, user_id: str, role: Role, action: str) -> Decision:
        self.asked.append((user_id, str(role), action))
        for hook in self.during:
            hook()
        return Decision(self.answers[action] or str(role) == "PlatformAdmin", ("p",))


def _open(policies: _Policies, ttl_s: float = 10.0, clock: _Clock | None = None) -> CachedApiCheck:
    cached = CachedApiCheck(policies, ttl_s=ttl_s, clock=clock or _Clock())
    cached.open("")
    return cached


def test_decisions_are_reused_while_the_policy_set_is_unchanged() -> None:
    """Allowed and denied alike, asked once per (user, role, call)."""
    policies = _Policies()
    cached = _open(policies)
    assert cached("alice", OWNER, "get_task").allowed
    assert cached("alice", OWNER, "get_task").allowed
    assert not cached("alice", OWNER, "query_audit_logs").allowed
    assert not cached("alice", OWNER, "query_audit_logs").allowed
    assert len(policies.asked) == 2


def test_a_new_policy_set_is_asked_about_at_once() -> None:
    """The announcement of a reload forgets every decision: the next call gets the new answer."""
    policies = _Policies()
    cached = _open(policies)
    assert cached("alice", OWNER, "get_task").allowed
    policies.answers["get_task"] = False
    cached.forget("1")
    assert not cached("alice", OWNER, "get_task").allowed
    assert len(policies.asked) == 2


def test_nothing_is_remembered_without_the_announcements() -> None:
    """Before the stream opens, and after it closed, every call asks."""
    policies = _Policies()
    cached = CachedApiCheck(policies, clock=_Clock())
    cached("alice", OWNER, "get_task")
    cached("alice", OWNER, "get_task")
    assert len(policies.asked) == 2 and len(cached) == 0
    cached.open("")
    cached("alice", OWNER, "get_task")
    cached.close()
    cached("alice", OWNER, "get_task")
    assert len(policies.asked) == 4


def test_a_decision_that_raced_a_reload_is_not_remembered() -> None:
    """Decided under the old set, answered after the frontend forgot: used once, not kept."""
    policies = _Policies()
    cached = _open(policies)
    policies.during.append(lambda: cached.forget("1"))
    cached("alice", OWNER, "get_task")
    policies.during.clear()
    cached("alice", OWNER, "get_task")
    assert len(policies.asked) == 2


def test_decisions_end_after_the_ttl() -> None:
    policies = _Policies()
    clock = _Clock()
    cached = _open(policies, ttl_s=1.0, clock=clock)
    cached("alice", OWNER, "get_task")
    clock.now = 0.5
    cached("alice", OWNER, "get_task")
    clock.now = 1.5
    cached("alice", OWNER, "get_task")
    assert len(policies.asked) == 2
    never = _open(policies, ttl_s=0)
    never("alice", OWNER, "get_task")
    assert len(never) == 0


def test_role_and_user_are_part_of_the_key() -> None:
    """Another user, or the same user with another role, is never answered from memory."""
    policies = _Policies()
    cached = _open(policies)
    assert cached("root", Role.parse("PlatformAdmin"), "query_audit_logs").allowed
    assert not cached("root", OWNER, "query_audit_logs").allowed
    assert not cached("bob", OWNER, "query_audit_logs").allowed
    assert len(policies.asked) == 3


def test_a_reload_is_confirmed_only_after_the_frontend_forgot(
        served: tuple[Announcements, grpc.Channel]) -> None:
    """Over gRPC: once the access control service's announcement returns, the decisions are
    gone; when the stream ends nothing is remembered."""
    hub, channel = served
    policies = _Policies()
    cached = CachedApiCheck(policies)
    with following(hub, channel, cached):
        assert wait_for(lambda: (cached("alice", OWNER, "get_task"), len(cached))[1] == 1)
        assert hub.announce("1") == 0
        assert len(cached) == 0
        cached("alice", OWNER, "get_task")
        assert len(cached) == 1
    cached("alice", OWNER, "get_task")
    assert len(cached) == 0
