"""Typed records over the storage API: read with version, write with compare-and-set.

`Storage` is the slice of StorageClient management uses, so the core runs unchanged over the
gRPC client in production and over LocalStorage in tests. `update` is the one retry loop for
read-modify-write: a lost race re-reads the record and re-applies the step (which re-checks its
preconditions on the fresh state), a bounded number of times.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from ...errors import Conflict, GaiwanError, NotFound
from ...records import dumps, loads

T = TypeVar("T")
MAX_ATTEMPTS = 16
_KNOWN_MAX = 10_000


class Storage(Protocol):
    def get(self, key: bytes) -> Any: ...

    def scan(self, prefix: bytes, limit: int = 0, reverse: bool = False,
             start_after: bytes = b"") -> list[Any]: ...

    def transact(self, conditions: Mapping[bytes, int] | None = None,
                 writes: Mapping[bytes, bytes | None] | None = None,
                 enqueue: Iterable[tuple[str, bytes]] = (), ack: Iterable[Any] = ()) -> list[int] | None: ...

    def watch(self, key: bytes, version: int, timeout_s: float) -> int: ...

    def watch_value(self, key: bytes, version: int, timeout_s: float) -> Any: ...


@dataclass(frozen=True)
class Stored(Generic[T]):
    key: bytes
    record: T
    version: int


class Records:
    """Typed records over storage, and a memory of the version each was last seen at.

    Reads that answer a caller are always fresh. Writes (every change is a compare-and-set)
    may start from the remembered record instead: if it is stale, the condition fails and the
    write retries on a fresh read, so the memory saves a round trip without ever deciding
    anything on old data. A refusal decided on a remembered record is re-checked on a fresh one.
    """

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._known: dict[bytes, Stored[Any]] = {}

    def find(self, cls: type[T], key: bytes) -> Stored[T] | None:
        item = self.storage.get(key)
        if item is None:
            self._known.pop(key, None)
            return None
        return self.remember(Stored(key, loads(cls, item.value), item.version))

    def remember(self, stored: Stored[T]) -> Stored[T]:
        if len(self._known) >= _KNOWN_MAX:
            self._known.clear()
        self._known[stored.key] = stored
        return stored

    def for_write(self, cls: type[T], key: bytes, label: str, fresh: bool) -> Stored[T]:
        """The record to base a compare-and-set on: the remembered one unless `fresh`."""
        found = self.find_for_write(cls, key, fresh)
        if found is None:
            raise NotFound(f"no such {label}")
        return found

    def find_for_write(self, cls: type[T], key: bytes, fresh: bool) -> Stored[T] | None:
        """As for_write, with None for a record that does not exist."""
        known = self._known.get(key)
        if not fresh and known is not None and isinstance(known.record, cls):
            return known
        return self.find(cls, key)

    def load(self, cls: type[T], key: bytes, label: str) -> Stored[T]:
        """label names the id for the error (ids are not secret; payloads are)."""
        found = self.find(cls, key)
        if found is None:
            raise NotFound(f"no such {label}")
        return found

    def watch(self, cls: type[T], stored: Stored[T], label: str, timeout_s: float) -> Stored[T]:
        """The record once its version differs from `stored`'s (or as it is after the timeout)."""
        item = self.storage.watch_value(stored.key, stored.version, timeout_s)
        if item is None:
            raise NotFound(f"no such {label}")
        return Stored(stored.key, loads(cls, item.value), item.version)

    def scan(self, cls: type[T], prefix: bytes) -> list[T]:
        return [loads(cls, item.value) for item in self.storage.scan(prefix)]

    def create(self, key: bytes, record: Any) -> None:
        """Writes a record under a fresh key (condition: it does not exist yet)."""
        versions = self.storage.transact(conditions={key: 0}, writes={key: dumps(record)})
        if versions is None:
            raise Conflict("id collision, try again")
        self.remember(Stored(key, record, versions[0]))

    def delete(self, stored: Stored[Any]) -> bool:
        self._known.pop(stored.key, None)
        return self.storage.transact(conditions={stored.key: stored.version},
                                     writes={stored.key: None}) is not None

    def update(self, cls: type[T], key: bytes, label: str,
               step: Callable[[T], T | None]) -> T:
        """Applies step to the current record and writes the result if the version still holds.

        step returns the new record, or None to leave it as it is; it raises to refuse.
        """
        for attempt in range(MAX_ATTEMPTS):
            current = self.for_write(cls, key, label, fresh=attempt > 0)
            try:
                new = step(current.record)
            except GaiwanError:
                if attempt == 0:
                    continue  # perhaps decided on a stale record: decide again on a fresh one
                raise
            if new is None or new == current.record:
                if attempt == 0:
                    continue  # "nothing to do" must hold for the current record too
                return current.record
            versions = self.storage.transact(conditions={key: current.version},
                                             writes={key: dumps(new)})
            if versions is not None:
                self.remember(Stored(key, new, versions[0]))
                return new
        raise Conflict(f"{label} is changing too fast, try again")
