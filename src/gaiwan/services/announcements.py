"""Telling the services that remember another's answers what changed, before the change is
confirmed.

The frontend remembers which tokens the authentication service accepted and which calls the
access control service allowed, and skips asking again on its clients' next calls; the scheduler
dispatches on InvokeTask's run decision while the policy set that made it is in force. That is
only sound if they forget what a change affects the moment the change is made, before whoever
made it hears it is done (who deletes a user, or reloads a policy that forbids a call, and then
sees the token or the call still work would rightly call it broken). So each change is announced
to every subscriber, and `announce` returns only once each has acknowledged forgetting, or after
`ack_timeout_s`, when those that did not are dropped: their streams end, and a subscriber whose
stream ends forgets everything and remembers nothing until it subscribes again. One that is stuck
yet still answers calls is covered by its memory's own time limit.

Three parts: the hub a service announces on (`Announcements`), its gRPC face
(`AnnouncementsServicer`, GaiwanAnnouncements), and the subscriber's side (`Follower`), which holds
the stream open and tells a `Listener` what to forget.
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import grpc
from google.protobuf import empty_pb2

from ..logs import Logger
from ..rpc.pb import gaiwan_announcements_pb2 as pb
from ..rpc.pb import gaiwan_announcements_pb2_grpc as pb_grpc

DEFAULT_ACK_TIMEOUT_S = 2.0
_IDLE_CHECK_S = 1.0
# Retried often: a Watch against a service that is down costs nothing, and while the stream is
# down every call asks.
RECONNECT_S = (0.1, 0.2, 0.5, 1.0)
_EMPTY = empty_pb2.Empty()


@dataclass
class _Subscriber:
    pending: deque[tuple[int, str]] = field(default_factory=deque)
    acked: int = 0
    dropped: bool = False


class Announcements:
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
        """(seq, subject) for the subscriber, in order, until it is dropped or `active()` says
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

    def announce(self, subject: str) -> int:
        """Announces a change to `subject` and waits until every subscriber has acknowledged it
        (or was dropped for not doing so in time); returns how many were dropped."""
        with self._cond:
            self._seq += 1
            seq = self._seq
            waiting = dict(self._subscribers)
            for subscriber in waiting.values():
                subscriber.pending.append((seq, subject))
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


class AnnouncementsServicer(pb_grpc.GaiwanAnnouncementsServicer):
    def __init__(self, hub: Announcements, current: Callable[[], str] = lambda: "") -> None:
        """current: the subject as it stands, sent as the stream opens (access control: the
        policy set in force)."""
        self._hub = hub
        self._current = current

    def Watch(self, request: pb.WatchRequest, context: grpc.ServicerContext
              ) -> Iterator[pb.Announcement]:
        subscription = self._hub.subscribe()
        context.add_callback(lambda: self._hub.drop(subscription))
        # Read after subscribing: a change from now on is announced on this stream as well.
        yield pb.Announcement(subscription=subscription, subject=self._current())
        for seq, subject in self._hub.events(subscription, context.is_active):
            yield pb.Announcement(subscription=subscription, seq=seq, subject=subject)

    def Ack(self, request: pb.AckRequest, context: grpc.ServicerContext) -> empty_pb2.Empty:
        self._hub.ack(request.subscription, request.seq)
        return _EMPTY


def register(hub: Announcements, current: Callable[[], str] = lambda: ""
             ) -> Callable[[grpc.Server], None]:
    servicer = AnnouncementsServicer(hub, current)
    return lambda server: pb_grpc.add_GaiwanAnnouncementsServicer_to_server(servicer, server)


class Listener(Protocol):
    """What a `Follower` drives: a memory of another service's answers."""

    def open(self, current: str) -> None:
        """The stream is open (remembering may start); `current`: the subject as it stands."""

    def forget(self, subject: str) -> None:
        """Forget what a change to `subject` affects."""

    def close(self) -> None:
        """The stream ended: forget everything, remember nothing until it opens again."""


class Follower:
    """Holds a service's announcement stream open, reconnecting with backoff, and has the
    listener forget each announced change before acknowledging it. `run` is for
    `runtime.spawn`, `close` for `runtime.on_stop`; `what` names the stream in the log."""

    def __init__(self, channel: grpc.Channel, listener: Listener, log: Logger, what: str) -> None:
        self._stub = pb_grpc.GaiwanAnnouncementsStub(channel)
        self._listener = listener
        self._log = log
        self._what = what
        self._lock = threading.Lock()
        self._call: grpc.Future | None = None
        self._closed = False

    def run(self, stop: threading.Event) -> None:
        attempt = 0
        while not stop.is_set():
            with self._lock:
                if self._closed:
                    return
                self._call = call = self._stub.Watch(pb.WatchRequest())
            opened = False
            try:
                for event in call:
                    if event.seq == 0:
                        self._listener.open(event.subject)
                        opened, attempt = True, 0
                        self._log.info(f"{self._what} stream open")
                        continue
                    self._listener.forget(event.subject)
                    self._stub.Ack(pb.AckRequest(subscription=event.subscription, seq=event.seq),
                                   timeout=5)
            except grpc.RpcError as exc:
                # Not yet open is the service still starting; only losing an open stream is news.
                if opened and not stop.is_set():
                    self._log.warning(f"{self._what} stream lost, every call asks until it is back",
                                      code=exc.code().name)
            finally:
                self._listener.close()
                call.cancel()  # left on an error of ours (a failed Ack): end it on both sides
            stop.wait(RECONNECT_S[min(attempt, len(RECONNECT_S) - 1)])
            attempt += 1

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._call is not None:
                self._call.cancel()
