"""Announcing changes to the services that remember answers, before confirming them."""

from __future__ import annotations

import threading
import time

from gaiwan.services.access_control.client import PolicySetWatch
from gaiwan.services.announcements import Announcements
from tests.support.announcements import CURRENT, following, served, wait_for  # noqa: F401 - served is a fixture


def _follow(hub: Announcements, subscription: str, seen: list[tuple[int, str]],
            ack_after_s: float = 0.0) -> threading.Thread:
    def body() -> None:
        for seq, user_id in hub.events(subscription, lambda: True):
            seen.append((seq, user_id))
            time.sleep(ack_after_s)
            hub.ack(subscription, seq)
    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread


def test_announce_returns_once_every_subscriber_acknowledged() -> None:
    """The change is confirmed only after each subscriber said it forgot what it affects."""
    hub = Announcements(ack_timeout_s=5)
    seen_a: list[tuple[int, str]] = []
    seen_b: list[tuple[int, str]] = []
    _follow(hub, hub.subscribe(), seen_a, ack_after_s=0.2)
    _follow(hub, hub.subscribe(), seen_b)
    started = time.monotonic()
    assert hub.announce("alice") == 0
    assert time.monotonic() - started >= 0.2
    assert seen_a == seen_b == [(1, "alice")]
    assert hub.announce("bob") == 0 and seen_a[-1] == (2, "bob")


def test_a_subscriber_that_does_not_acknowledge_is_dropped() -> None:
    """A stuck frontend delays the change by the timeout at most, then loses its stream (and
    with it what it remembers)."""
    hub = Announcements(ack_timeout_s=0.2)
    stuck = hub.subscribe()
    ended = threading.Event()
    threading.Thread(target=lambda: (list(hub.events(stuck, lambda: True)), ended.set()),
                     daemon=True).start()
    assert hub.announce("alice") == 1
    assert ended.wait(2) and hub.subscribers() == 0
    assert hub.announce("alice") == 0  # nobody left to wait for


def test_a_subscriber_that_went_away_stops_being_waited_for() -> None:
    """A stream whose caller is gone ends and unsubscribes; announce never waits on it."""
    hub = Announcements(ack_timeout_s=5)
    gone = hub.subscribe()
    assert list(hub.events(gone, lambda: False)) == []
    assert hub.subscribers() == 0
    started = time.monotonic()
    assert hub.announce("alice") == 0 and time.monotonic() - started < 1


def test_close_ends_every_stream() -> None:
    """On shutdown the streams end at once instead of holding the server's grace period."""
    hub = Announcements()
    ended = threading.Event()
    subscription = hub.subscribe()
    threading.Thread(target=lambda: (list(hub.events(subscription, lambda: True)), ended.set()),
                     daemon=True).start()
    hub.close()
    assert ended.wait(2) and hub.subscribers() == 0
    assert list(hub.events(hub.subscribe(), lambda: True)) == []


def test_the_stream_opens_with_the_subject_as_it_stands(served) -> None:  # type: ignore[no-untyped-def]
    """Over gRPC: a follower's listener learns the subject as it stands when the stream opens
    (access control: the policy set in force), then each announced one; none once it ends."""
    hub, channel = served
    policies = PolicySetWatch()
    with following(hub, channel, policies):
        assert wait_for(lambda: policies.current == CURRENT)
        assert hub.announce("new-set") == 0
        assert policies.current == "new-set"
    assert policies.current is None
