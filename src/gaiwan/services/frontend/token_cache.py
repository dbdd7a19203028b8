"""A memory of the tokens the authentication service accepted, so that a client's calls after
its first do not each cost a round trip to it (on the echo path: two of some twenty hops, and a
tenth of the platform's CPU per task).

Sound only because the authentication service announces every change to a user and waits for
this frontend to acknowledge having forgotten that user's tokens before it confirms the change
(`services.announcements`): after a user is deleted or changed, the frontend refuses the
old tokens exactly as before. The memory works only while the announcement stream is open: when
it closes, everything is forgotten and nothing is remembered until it is open again. A check that
was on its way while a change was announced is used for its call but not remembered. Entries
also end with the token (`exp`) and after `ttl_s`, which bounds how long a frontend that stopped
hearing announcements without noticing could serve a stale answer.

Tokens are secrets: the memory is keyed by their SHA-256, never holds them.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from .gate import Caller
from .memory import Remembering

DEFAULT_TOKEN_CACHE_S = 10.0

Check = Callable[[str, str], tuple[Caller, int]]
"""Validates (id, token) with the authentication service: the caller and the token's expiry
(seconds since the epoch); raises on refusal."""


class TokenCache(Remembering):
    def __init__(self, check: Check, ttl_s: float, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self._check = check
        self._ttl = ttl_s
        self._clock = clock

    def __call__(self, user_id: str, token: str) -> Caller:
        key = (user_id, hashlib.sha256(token.encode()).digest())
        now = self._clock()
        caller, generation = self._memory.get(key, now)
        if caller is not None:
            return caller
        caller, expires = self._check(user_id, token)
        if self._ttl > 0:
            self._memory.put(key, caller, min(float(expires), now + self._ttl), generation)
        return caller

    def forget(self, user_id: str) -> None:
        self._memory.forget(lambda key: key[0] == user_id)
