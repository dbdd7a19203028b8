"""The frontend's short-lived memory of API permission decisions."""

from __future__ import annotations

from gaiwan.roles import Role
from gaiwan.services.access_control import Decision
from gaiwan.services.frontend.decisions import CachedApiCheck


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_decisions_are_reused_until_they_expire() -> None:
    """A decision is asked once per (user, role, call) within the TTL, and again after it."""
    asked: list[tuple[str, str, str]] = []
    answers = {"get_task": True, "query_audit_logs": False}

    def check(user_id: str, role: Role, action: str) -> Decision:
        asked.append((user_id, str(role), action))
        return Decision(answers[action], ("p",))

    clock = _Clock()
    cached = CachedApiCheck(check, ttl_s=1.0, clock=clock)
    owner = Role.parse("DataOwner-a")
    assert cached("alice", owner, "get_task").allowed
    assert cached("alice", owner, "get_task").allowed
    assert not cached("alice", owner, "query_audit_logs").allowed
    assert len(asked) == 2
    answers["get_task"] = False  # the policy changed
    clock.now = 1.5
    assert not cached("alice", owner, "get_task").allowed
    assert len(asked) == 3


def test_role_and_user_are_part_of_the_key() -> None:
    """Another user, or the same user with another role, is never answered from the cache."""
    asked: list[tuple[str, str]] = []

    def check(user_id: str, role: Role, action: str) -> Decision:
        asked.append((user_id, str(role)))
        return Decision(str(role) == "PlatformAdmin")

    cached = CachedApiCheck(check, clock=_Clock())
    assert cached("root", Role.parse("PlatformAdmin"), "query_audit_logs").allowed
    assert not cached("root", Role.parse("DataOwner-a"), "query_audit_logs").allowed
    assert not cached("bob", Role.parse("DataOwner-a"), "query_audit_logs").allowed
    assert len(asked) == 3
