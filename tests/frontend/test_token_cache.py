"""The frontend's memory of accepted tokens, and the stream that makes it safe."""

from __future__ import annotations

import grpc
import pytest

from gaiwan.errors import Unauthenticated
from gaiwan.roles import Role
from gaiwan.services.announcements import Announcements
from gaiwan.services.frontend.gate import Caller
from gaiwan.services.frontend.token_cache import TokenCache
from tests.support.announcements import following, wait_for

EXP = 2_000_000_000


class Checks:
    """Stands in for the authentication service: counts checks, refuses unknown tokens."""

    def __init__(self) -> None:
        self.calls = 0
        self.valid = {("alice", "t-alice"), ("bob", "t-bob")}
        self.during: list[object] = []

    def __call__(self, user_id: str, token: str) -> tuple[Caller, int]:
        self.calls += 1
        for hook in self.during:
            hook()  # type: ignore[operator]
        if (user_id, token) not in self.valid:
            raise Unauthenticated("authentication failed")
        return Caller(user_id, Role.parse("DataOwner-x")), EXP


def _cache(checks: Checks, ttl_s: float = 10, now: list[float] | None = None) -> TokenCache:
    clock = now or [1000.0]
    cache = TokenCache(checks, ttl_s, clock=lambda: clock[0])
    cache.open("")
    return cache


def test_remembers_accepted_tokens_only_while_open() -> None:
    checks = Checks()
    cache = _cache(checks)
    assert cache("alice", "t-alice").user_id == "alice"
    cache("alice", "t-alice")
    assert checks.calls == 1
    cache.close()  # the announcement stream is gone: forget, and check every call
    cache("alice", "t-alice")
    cache("alice", "t-alice")
    assert checks.calls == 3 and len(cache) == 0


def test_refusals_are_never_remembered() -> None:
    checks = Checks()
    cache = _cache(checks)
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            cache("alice", "forged")
    assert checks.calls == 2


def test_an_announced_user_is_forgotten_and_nobody_else() -> None:
    checks = Checks()
    cache = _cache(checks)
    cache("alice", "t-alice")
    cache("bob", "t-bob")
    cache.forget("alice")
    checks.valid.discard(("alice", "t-alice"))  # deleted: the service now refuses
    with pytest.raises(Unauthenticated):
        cache("alice", "t-alice")
    cache("bob", "t-bob")
    assert checks.calls == 3


def test_a_check_that_raced_an_announcement_is_not_remembered() -> None:
    """Accepted before the change, answered after the frontend forgot: used once, not kept."""
    checks = Checks()
    cache = _cache(checks)
    checks.during.append(lambda: cache.forget("alice"))
    cache("alice", "t-alice")
    checks.during.clear()
    cache("alice", "t-alice")
    assert checks.calls == 2


def test_entries_end_with_the_token_and_after_the_ttl() -> None:
    checks = Checks()
    now = [float(EXP - 5)]
    cache = _cache(checks, ttl_s=60, now=now)
    cache("alice", "t-alice")
    now[0] = EXP + 1.0  # past the token's own expiry
    cache("alice", "t-alice")
    assert checks.calls == 2
    short = _cache(checks, ttl_s=2, now=[1000.0])
    short("bob", "t-bob")
    assert checks.calls == 3
    assert not any("t-bob" in str(key) for key in short._memory._entries)  # keyed by digest


def test_follower_forgets_before_the_change_is_confirmed(
        served: tuple[Announcements, grpc.Channel]) -> None:
    """Over gRPC: once the change is announced, the frontend has already forgotten the user; when the
    stream ends the frontend stops remembering."""
    hub, channel = served
    checks = Checks()
    cache = TokenCache(checks, 10)
    with following(hub, channel, cache):
        assert wait_for(lambda: (cache("alice", "t-alice"), len(cache))[1] == 1)
        assert hub.announce("alice") == 0
        assert len(cache) == 0
    cache("bob", "t-bob")
    assert len(cache) == 0  # closed: nothing remembered
