"""Telling the frontends which users changed, before the change is confirmed.

A frontend may remember that the authentication service accepted a token, and skip asking again
on its client's next calls. That is only sound if it forgets a user's tokens the moment the user
is deleted or changed, before whoever made the change hears it is done (who deletes a user and
then sees the user's token still work would rightly call it broken). So every change to a user
is announced to each subscribed frontend, and `revoke` returns only once each has acknowledged
forgetting, or after `ack_timeout_s`, when those that did not are dropped: their streams end,
and a frontend whose stream ends forgets everything and remembers nothing until it subscribes
again. A frontend that is stuck yet still answers calls is covered by its memory's own limit
(`[frontend] token_cache_s`).
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

DEFAULT_ACK_TIMEOUT_S = 2.0
_IDLE_CHECK_S = 1.0


@dataclass
class _Subscriber:
    pending: deque[tuple[int, str]] = field(default_factory=deque)
    acked: int = 0
    dropped: bool = False


class Revocations:
    def __init__(self, ack_timeout_s: float = DEFAULT_ACK_TIMEOUT_S) -> None:
        self._cond = threading.Condition()
        self._subscribers: dict[str, _Subscriber] = {}
        self._seq = 0
        self._ack_timeout = ack_timeout_s
        self._closed = False

    def subscribe(self) -> str:
        """A new subscription (after `close`, one that has already ended)."""
        subscription = secrets.token_hex(8)
        with self._cond:
            if not self._closed:
                self._subscribers[subscription] = _Subscriber(acked=self._seq)
        return subscription

    def close(self) -> None:
        """Ends every stream, so the service's shutdown need not wait for them."""
        with self._cond:
            self._closed = True
            for subscription in list(self._subscribers):
                self._drop_locked(subscription)

    def drop(self, subscription: str) -> None:
        """Ends a subscription (its stream closed, or it did not acknowledge in time)."""
        with self._cond:
            self._drop_locked(subscription)

    def events(self, subscription: str, active: Callable[[], bool]) -> Iterator[tuple[int, str]]:
        """(seq, user id) for the subscriber, in order, until it is dropped or `active()` says
        its caller went away."""
        with self._cond:
            subscriber = self._subscribers.get(subscription)
        if subscriber is None:
            return
        while True:
            with self._cond:
                while not subscriber.pending and not subscriber.dropped:
                    if not active():
                        self._drop_locked(subscription)
                        return
                    self._cond.wait(_IDLE_CHECK_S)
                if subscriber.dropped:
                    return
                event = subscriber.pending.popleft()
            yield event

    def ack(self, subscription: str, seq: int) -> None:
        with self._cond:
            subscriber = self._subscribers.get(subscription)
            if subscriber is not None and seq > subscriber.acked:
                subscriber.acked = seq
                self._cond.notify_all()

    def revoke(self, user_id: str) -> int:
        """Announces a change to `user_id` and waits until every subscriber has acknowledged it
        (or was dropped for not doing so in time); returns how many were dropped."""
        with self._cond:
            self._seq += 1
            seq = self._seq
            waiting = dict(self._subscribers)
            for subscriber in waiting.values():
                subscriber.pending.append((seq, user_id))
            self._cond.notify_all()
            self._cond.wait_for(
                lambda: all(s.dropped or s.acked >= seq for s in waiting.values()),
                timeout=self._ack_timeout)
            late = [name for name, s in waiting.items() if not s.dropped and s.acked < seq]
            for name in late:
                self._drop_locked(name)
        return len(late)

    def subscribers(self) -> int:
        with self._cond:
            return len(self._subscribers)

    def _drop_locked(self, subscription: str) -> None:
        subscriber = self._subscribers.pop(subscription, None)
        if subscriber is not None:
            subscriber.dropped = True
        self._cond.notify_all()
