"""Wake-ups on commit: how watch and dequeue long-poll without polling.

A waiter names a topic (a key, or a queue) and a check that reads the store. Each topic has a
generation counter bumped by every commit that touches it; a waiter reads the generation *before*
running its check, so a commit landing between the check and the wait still wakes it (the
generation has moved). Conditions share one lock and exist only while someone waits on them, so
idle keys cost nothing. Rejected: one global condition (every commit wakes every waiter, who all
re-read the store) and sleep loops (latency or wasted reads, ARCH §8).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

from ..errors import Unavailable

T = TypeVar("T")


class _Topic:
    __slots__ = ("cond", "generation", "waiters")

    def __init__(self, lock: threading.Lock) -> None:
        self.cond = threading.Condition(lock)
        self.generation = 0
        self.waiters = 0


class Signals:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._topics: dict[Hashable, _Topic] = {}
        self._closed = False

    def notify(self, topics: Iterable[Hashable]) -> None:
        with self._lock:
            for name in topics:
                topic = self._topics.get(name)
                if topic is not None:
                    topic.generation += 1
                    topic.cond.notify_all()

    def wait(self, name: Hashable, check: Callable[[], T | None], timeout_s: float) -> T | None:
        """Runs check until it returns non-None, waiting for a notification between runs;
        None once timeout_s has passed. Raises Unavailable when the store closes meanwhile."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            self._raise_if_closed()
            topic = self._topics.get(name)
            if topic is None:
                topic = self._topics[name] = _Topic(self._lock)
            topic.waiters += 1
        try:
            while True:
                with self._lock:
                    self._raise_if_closed()
                    seen = topic.generation
                result = check()
                if result is not None:
                    return result
                with self._lock:
                    while topic.generation == seen:
                        self._raise_if_closed()
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            return None
                        topic.cond.wait(remaining)
        finally:
            with self._lock:
                topic.waiters -= 1
                if topic.waiters == 0:
                    del self._topics[name]

    def close(self) -> None:
        """Wakes every waiter with Unavailable; later waits fail at once."""
        with self._lock:
            self._closed = True
            for topic in self._topics.values():
                topic.cond.notify_all()

    def _raise_if_closed(self) -> None:
        if self._closed:
            raise Unavailable("storage is shutting down")
