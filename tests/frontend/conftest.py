"""Fakes for the frontend's unit tests: an in-memory audit store and a servicer context."""

from __future__ import annotations

import threading
from collections.abc import Mapping

import grpc
import pytest

from gaiwan.errors import Unavailable
from gaiwan.storage.client import Versioned
from tests.support.announcements import served  # noqa: F401 - the memories' tests use this fixture


class MemoryStorage:
    """The slice of StorageClient the frontend uses (transact writes, scan), in memory."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.transactions = 0
        self.fail_next = 0
        self._lock = threading.Lock()

    def transact(self, conditions: Mapping[bytes, int] | None = None,
                 writes: Mapping[bytes, bytes | None] | None = None) -> list[int] | None:
        with self._lock:
            if self.fail_next:
                self.fail_next -= 1
                raise Unavailable("storage down")
            self.transactions += 1
            for k, v in (writes or {}).items():
                if v is None:
                    self.data.pop(k, None)
                else:
                    self.data[k] = v
            return [1] * len(writes or {})

    def scan(self, prefix: bytes, limit: int = 0, reverse: bool = False,
             start_after: bytes = b"") -> list[Versioned]:
        with self._lock:
            keys = sorted((k for k in self.data if k.startswith(prefix)), reverse=reverse)
            if start_after:
                keys = [k for k in keys if (k < start_after if reverse else k > start_after)]
            if limit:
                keys = keys[:limit]
            return [Versioned(k, self.data[k], 1) for k in keys]


class FakeContext:
    """A grpc.ServicerContext stand-in with metadata, a peer and no deadline."""

    def __init__(self, metadata: tuple[tuple[str, str], ...] = (),
                 peer: str = "ipv4:10.1.2.3:5555") -> None:
        self._metadata = metadata
        self._peer = peer

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    def peer(self) -> str:
        return self._peer

    def time_remaining(self) -> float | None:
        return None


class FakeRpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()

