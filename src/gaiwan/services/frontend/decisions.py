"""A memory of API permission decisions (spec §5: may this user make this call at all?).

Every public call needs one; asking the access control service each time costs a round trip
and, more to the point on a small machine, CPU in two processes for an answer that only changes
with the policy set or the user's role. The role is part of the key (a changed role reaches the
frontend through the token memory, which forgets the user). The policy set: the access control
service announces every reload and confirms it (`gaiwan policy reload`) only after this frontend
acknowledged forgetting every decision (`services.announcements`); while that stream is down
nothing is remembered. Entries also end after `ttl_s`, which bounds how long a frontend that
stopped hearing announcements without noticing could serve a stale answer. Only the coarse API
check is remembered: decisions about resources (functions, data, tasks) never are.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ...roles import Role
from ..access_control import Decision
from .memory import Remembering

CheckApi = Callable[[str, Role, str], Decision]
DEFAULT_DECISION_CACHE_S = 10.0


class CachedApiCheck(Remembering):
    def __init__(self, check: CheckApi, ttl_s: float = DEFAULT_DECISION_CACHE_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._check = check
        self._ttl = ttl_s
        self._clock = clock

    def __call__(self, user_id: str, role: Role, action: str) -> Decision:
        key = (user_id, str(role), action)
        now = self._clock()
        decision, generation = self._memory.get(key, now)
        if decision is not None:
            return decision
        decision = self._check(user_id, role, action)
        if self._ttl > 0:
            self._memory.put(key, decision, now + self._ttl, generation)
        return decision

    def forget(self, subject: str) -> None:
        """A new policy set (`subject` is its fingerprint): every decision may have changed."""
        self._memory.forget()
