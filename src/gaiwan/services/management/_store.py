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

from ...errors import Conflict, NotFound
from ...records import dumps, loads

T = TypeVar("T")
MAX_ATTEMPTS = 16


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
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def find(self, cls: type[T], key: bytes) -> Stored[T] | None:
        item = self.storage.get(key)
        return None if item is None else Stored(key, loads(cls, item.value), item.version)

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
        if self.storage.transact(conditions={key: 0}, writes={key: dumps(record)}) is None:
            raise Conflict("id collision, try again")

    def delete(self, stored: Stored[Any]) -> bool:
        return self.storage.transact(conditions={stored.key: stored.version},
                                     writes={stored.key: None}) is not None

    def update(self, cls: type[T], key: bytes, label: str,
               step: Callable[[T], T | None]) -> T:
        """Applies step to the current record and writes the result if the version still holds.

        step returns the new record, or None to leave it as it is; it raises to refuse.
        """
        for _ in range(MAX_ATTEMPTS):
            current = self.load(cls, key, label)
            new = step(current.record)
            if new is None or new == current.record:
                return current.record
            if self.storage.transact(conditions={key: current.version},
                                     writes={key: dumps(new)}) is not None:
                return new
        raise Conflict(f"{label} is changing too fast, try again")
