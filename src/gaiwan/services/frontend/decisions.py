"""A short-lived memory of API permission decisions.

Every public call needs one; asking the access control service each time costs a round trip
and, more to the point on a small machine, CPU in two processes for an answer that only
changes when the policy set does. Decisions are kept per (user, role, call) for `ttl_s`, so a
policy change reaches the API gate within that time. Only the coarse API check is cached:
decisions about resources (functions, data, tasks) are never taken from here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ...roles import Role
from ..access_control import Decision

CheckApi = Callable[[str, Role, str], Decision]
_MAX_ENTRIES = 10_000


class CachedApiCheck:
    def __init__(self, check: CheckApi, ttl_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._check = check
        self._ttl = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str, str], tuple[float, Decision]] = {}

    def __call__(self, user_id: str, role: Role, action: str) -> Decision:
        key = (user_id, str(role), action)
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        decision = self._check(user_id, role, action)
        with self._lock:
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (now + self._ttl, decision)
        return decision
