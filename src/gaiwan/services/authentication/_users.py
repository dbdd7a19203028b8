"""The authentication service's state in storage: user records, the bootstrap marker and the
token secret, all under the `auth/` namespace that only this service may touch.

Keys:
    auth/user/<id>     UserRecord (JSON via gaiwan.records)
    auth/bootstrapped  present once the first admin was created; never removed
    auth/jwt_secret    the 64-byte token signing secret

Values are sealed by the storage service, so the secret and the password hashes never reach
disk in plaintext. Every change is a compare-and-set on the version that was read: two
concurrent updates of one user cannot silently overwrite each other, and two services starting
at once agree on a single secret and a single bootstrap.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from ... import records
from ...errors import AlreadyExists, Conflict, Internal, NotFound
from ...storage.client import Versioned
from ._tokens import SECRET_BYTES

USER_PREFIX = b"auth/user/"
BOOTSTRAPPED_KEY = b"auth/bootstrapped"
SECRET_KEY = b"auth/jwt_secret"
_PAGE = 500
_CACHE_MAX = 10_000


class Storage(Protocol):
    """The part of StorageClient (and LocalStorage) this service uses."""

    def get(self, key: bytes) -> Versioned | None: ...

    def scan(self, prefix: bytes, limit: int = 0, reverse: bool = False,
             start_after: bytes = b"") -> list[Versioned]: ...

    def transact(self, conditions: Mapping[bytes, int] | None = None,
                 writes: Mapping[bytes, bytes | None] | None = None) -> list[int] | None: ...

    def compare_and_set(self, key: bytes, expected_version: int,
                        value: bytes | None) -> int | None: ...


@dataclass(frozen=True)
class UserRecord:
    id: str
    role: str
    password_hash: str

    def __repr__(self) -> str:  # the hash stays out of logs and tracebacks
        return f"UserRecord(id={self.id!r}, role={self.role!r})"


@dataclass(frozen=True)
class StoredUser:
    """A record with the version it was read at, for the compare-and-set that changes it."""

    record: UserRecord
    version: int


def user_key(user_id: str) -> bytes:
    return USER_PREFIX + user_id.encode("utf-8")


class UserStore:
    """Users in storage, with a short-lived read cache for token checks.

    Every public call checks that its user still exists with the token's role; reading that
    from storage each time would add a round trip to every call. This service is the only
    writer of users, so its own writes invalidate the cache at once; `cache_s` bounds how long
    a change made through another authentication process can go unseen."""

    def __init__(self, storage: Storage, cache_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._storage = storage
        self._cache_s = cache_s
        self._clock = clock
        self._cache: dict[str, tuple[float, StoredUser | None]] = {}
        self._writes = 0  # bumped by every write: a read that raced a write is not cached
        self._lock = threading.Lock()

    def get(self, user_id: str) -> StoredUser | None:
        with self._lock:
            writes = self._writes
        item = self._storage.get(user_key(user_id))
        user = None if item is None else StoredUser(records.loads(UserRecord, item.value), item.version)
        with self._lock:
            if writes == self._writes:
                if len(self._cache) >= _CACHE_MAX:
                    self._cache.clear()
                self._cache[user_id] = (self._clock() + self._cache_s, user)
        return user

    def get_cached(self, user_id: str) -> StoredUser | None:
        """The user as read at most `cache_s` ago (or now)."""
        with self._lock:
            hit = self._cache.get(user_id)
        if hit is not None and hit[0] > self._clock():
            return hit[1]
        return self.get(user_id)

    def _forget(self, user_id: str) -> None:
        with self._lock:
            self._writes += 1
            self._cache.pop(user_id, None)

    def require(self, user_id: str) -> StoredUser:
        user = self.get(user_id)
        if user is None:
            raise NotFound(f"no user {user_id!r}")
        return user

    def create(self, record: UserRecord) -> None:
        self._forget(record.id)
        if self._storage.compare_and_set(user_key(record.id), 0, records.dumps(record)) is None:
            raise AlreadyExists("user id exist")  # Teaclave's exact message
        self._forget(record.id)

    def replace(self, current: StoredUser, record: UserRecord) -> None:
        key = user_key(current.record.id)
        self._forget(current.record.id)
        if self._storage.compare_and_set(key, current.version, records.dumps(record)) is None:
            raise Conflict("user changed concurrently; retry")
        self._forget(current.record.id)

    def delete(self, current: StoredUser) -> None:
        key = user_key(current.record.id)
        self._forget(current.record.id)
        if self._storage.compare_and_set(key, current.version, None) is None:
            raise Conflict("user changed concurrently; retry")
        self._forget(current.record.id)

    def all(self) -> list[UserRecord]:
        """Every user, in key order; pages through storage so a large table is never one reply."""
        users: list[UserRecord] = []
        after = b""
        while True:
            page = self._storage.scan(USER_PREFIX, limit=_PAGE, start_after=after)
            users.extend(records.loads(UserRecord, item.value) for item in page)
            if len(page) < _PAGE:
                return users
            after = page[-1].key

    def bootstrapped(self) -> bool:
        return self._storage.get(BOOTSTRAPPED_KEY) is not None

    def bootstrap(self, record: UserRecord) -> bool:
        """Creates the first admin unless a bootstrap ever happened; True if this call did it.

        The marker is written in the same transaction as the user and never deleted, so an
        operator who deletes the admin later does not see it come back on the next start.
        """
        committed = self._storage.transact(
            conditions={BOOTSTRAPPED_KEY: 0, user_key(record.id): 0},
            writes={BOOTSTRAPPED_KEY: b"1", user_key(record.id): records.dumps(record)},
        )
        return committed is not None

    def token_secret(self) -> bytes:
        """The signing secret, created on first use; concurrent first starts agree on one."""
        item = self._storage.get(SECRET_KEY)
        if item is None:
            self._storage.compare_and_set(SECRET_KEY, 0, secrets.token_bytes(SECRET_BYTES))
            item = self._storage.get(SECRET_KEY)  # ours, or the one that won the race
        if item is None or len(item.value) != SECRET_BYTES:
            raise Internal("token secret unreadable")
        return item.value
