"""What the frontend's memories of other services' answers (accepted tokens, allowed calls) have
in common: they remember only while the answering service's announcement stream is open
(`services.announcements`), forget on its announcements, and never keep an answer that was on its
way while one arrived (it may predate the change), nor any past its own deadline."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

MAX_ENTRIES = 10_000

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memory(Generic[K, V]):
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._entries: dict[K, tuple[float, V]] = {}
        self._max = max_entries
        self._open = False
        self._generation = 0  # bumped by every forget: an answer that raced one is not kept

    def get(self, key: K, now: float) -> tuple[V | None, int]:
        """The remembered answer (None if there is none in force), and the generation to give
        `put` with the answer asked for instead."""
        with self._lock:
            hit = self._entries.get(key) if self._open else None
            generation = self._generation
        return (hit[1] if hit is not None and hit[0] > now else None), generation

    def put(self, key: K, value: V, until: float, generation: int) -> None:
        """Remembers an answer until `until`, unless the memory closed or forgot something since
        `get` handed out `generation`."""
        with self._lock:
            if self._open and self._generation == generation:
                if len(self._entries) >= self._max:
                    self._entries.pop(next(iter(self._entries)))
                self._entries[key] = (until, value)

    def forget(self, which: Callable[[K], bool] | None = None) -> None:
        """Forgets the entries whose key `which` accepts; everything when None."""
        with self._lock:
            self._generation += 1
            if which is None:
                self._entries.clear()
            else:
                for key in [k for k in self._entries if which(k)]:
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


class Remembering:
    """The side of a frontend memory an announcement `Follower` drives (its `Listener`): what it
    remembers is kept only while the stream is open. Subclasses add `forget(subject)`."""

    def __init__(self) -> None:
        self._memory: Memory[Any, Any] = Memory()

    def open(self, current: str) -> None:
        self._memory.set_open(True)

    def close(self) -> None:
        self._memory.set_open(False)

    def __len__(self) -> int:
        return len(self._memory)
