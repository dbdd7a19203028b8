"""A memory of the tokens the authentication service accepted, so that a client's calls after
its first do not each cost a round trip to it (on the echo path: two of some twenty hops, and a
tenth of the platform's CPU per task).

Sound only because the authentication service announces every change to a user and waits for
this frontend to acknowledge having forgotten that user's tokens before it confirms the change
(`authentication._revocations`): after a user is deleted or changed, the frontend refuses the
old tokens exactly as before. The memory works only while the announcement stream is open: when
it closes, everything is forgotten and nothing is remembered until it is open again. A check that
was on its way while a change was announced is used for its call but not remembered. Entries
also end with the token (`exp`) and after `ttl_s`, which bounds how long a frontend that stopped
hearing announcements without noticing could serve a stale answer.

Tokens are secrets: the memory is keyed by their SHA-256, never holds them.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

import grpc

from ...logs import Logger
from ...rpc.pb import gaiwan_authentication_pb2 as rpb
from ...rpc.pb import gaiwan_authentication_pb2_grpc as rpb_grpc
from .gate import Caller

MAX_ENTRIES = 10_000
DEFAULT_TOKEN_CACHE_S = 10.0
RECONNECT_S = (0.1, 0.5, 1.0, 2.0, 5.0)

Check = Callable[[str, str], tuple[Caller, int]]
"""Validates (id, token) with the authentication service: the caller and the token's expiry
(seconds since the epoch); raises on refusal."""


class TokenCache:
    def __init__(self, check: Check, ttl_s: float, clock: Callable[[], float] = time.time) -> None:
        self._check = check
        self._ttl = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, bytes], tuple[float, Caller]] = {}
        self._open = False
        self._generation = 0  # bumped by every forget: a check that raced one is not remembered

    def __call__(self, user_id: str, token: str) -> Caller:
        key = (user_id, hashlib.sha256(token.encode()).digest())
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key) if self._open else None
            generation = self._generation
        if hit is not None and hit[0] > now:
            return hit[1]
        caller, expires = self._check(user_id, token)
        with self._lock:
            if self._open and self._generation == generation and self._ttl > 0:
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.pop(next(iter(self._entries)))
                self._entries[key] = (min(float(expires), now + self._ttl), caller)
        return caller

    def forget(self, user_id: str) -> None:
        with self._lock:
            self._generation += 1
            for key in [k for k in self._entries if k[0] == user_id]:
                del self._entries[key]

    def set_open(self, is_open: bool) -> None:
        """Remember only while announcements arrive; closing forgets everything."""
        with self._lock:
            self._open = is_open
            self._generation += 1
            if not is_open:
                self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class RevocationFollower:
    """Holds the announcement stream open, reconnecting with backoff, and forgets each announced
    user before acknowledging it. `run` is for `runtime.spawn`, `close` for `runtime.on_stop`."""

    def __init__(self, channel: grpc.Channel, cache: TokenCache, log: Logger) -> None:
        self._stub = rpb_grpc.GaiwanRevocationsStub(channel)
        self._cache = cache
        self._log = log
        self._lock = threading.Lock()
        self._call: grpc.Future | None = None
        self._closed = False

    def run(self, stop: threading.Event) -> None:
        attempt = 0
        while not stop.is_set():
            with self._lock:
                if self._closed:
                    return
                self._call = call = self._stub.Watch(rpb.WatchRevocationsRequest())
            try:
                for event in call:
                    if event.seq == 0:
                        self._cache.set_open(True)
                        attempt = 0
                        continue
                    self._cache.forget(event.user_id)
                    self._stub.Ack(rpb.AckRevocationRequest(subscription=event.subscription,
                                                            seq=event.seq), timeout=5)
            except grpc.RpcError as exc:
                if not stop.is_set():
                    self._log.warning("user change stream lost, every call's token is checked "
                                      "until it is back", code=exc.code().name)
            finally:
                self._cache.set_open(False)
                call.cancel()  # left on an error of ours (a failed Ack): end it on both sides
            stop.wait(RECONNECT_S[min(attempt, len(RECONNECT_S) - 1)])
            attempt += 1

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._call is not None:
                self._call.cancel()
