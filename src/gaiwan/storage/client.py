"""The typed client every service uses to reach the storage service.

Thin on purpose: it converts between Python values and the storage protos and turns failed
calls into GaiwanError; all rules (sealing, versions, leases, namespaces) live in the service.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import grpc

from ..errors import from_rpc_error
from ..rpc.pb import gaiwan_storage_pb2 as pb
from ..rpc.pb import gaiwan_storage_pb2_grpc as pb_grpc


@dataclass(frozen=True)
class Versioned:
    key: bytes
    value: bytes
    version: int


@dataclass(frozen=True)
class Lease:
    queue: str
    item_id: int
    token: bytes
    item: bytes
    redeliveries: int
    deadline_ms: int
    # The records the item was enqueued to be read with (`QueueItem.read_with`), as of the
    # lease: key -> record, None for an absent key.
    rows: Mapping[bytes, Versioned | None] = field(default_factory=dict)

    def ref(self) -> pb.LeaseRef:
        return pb.LeaseRef(queue=self.queue, item_id=self.item_id, lease_token=self.token)


@dataclass(frozen=True)
class QueueItem:
    """An item to enqueue. read_with: keys whose records the consumer gets with the item when it
    dequeues it (`Lease.rows`), read in the same transaction as the lease."""

    queue: str
    item: bytes
    read_with: tuple[bytes, ...] = ()


Enqueue = Iterable[tuple[str, bytes] | QueueItem]
"""What transactions enqueue: (queue, item) pairs or QueueItems."""


def queue_items(enqueue: Enqueue) -> list[QueueItem]:
    return [i if isinstance(i, QueueItem) else QueueItem(*i) for i in enqueue]


class TransactShortcuts:
    """The single-key writes and the ack, each one `transact`: shared by StorageClient and
    LocalStorage, which differ only in how a transaction reaches the store."""

    def transact(self, conditions: Mapping[bytes, int] | None = None,
                 writes: Mapping[bytes, bytes | None] | None = None,
                 enqueue: Enqueue = (),
                 ack: Iterable[Lease] = ()) -> list[int] | None:
        raise NotImplementedError

    def put(self, key: bytes, value: bytes) -> int:
        versions = self.transact(writes={key: value})
        assert versions is not None  # no conditions: always commits
        return versions[0]

    def delete(self, key: bytes) -> None:
        self.transact(writes={key: None})

    def compare_and_set(self, key: bytes, expected_version: int, value: bytes | None) -> int | None:
        """Writes (or deletes, value None) only if the key is still at expected_version."""
        versions = self.transact(conditions={key: expected_version}, writes={key: value})
        return None if versions is None else versions[0]

    def ack(self, lease: Lease) -> None:
        self.transact(ack=[lease])


class StorageClient(TransactShortcuts):
    def __init__(self, channel: grpc.Channel, timeout_s: float = 10.0) -> None:
        self._stub = pb_grpc.GaiwanStorageStub(channel)
        self._timeout = timeout_s

    def _call(self, method, request, timeout: float | None = None):  # type: ignore[no-untyped-def]
        try:
            return method(request, timeout=timeout or self._timeout)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc) from None

    def get(self, key: bytes) -> Versioned | None:
        resp = self._call(self._stub.Get, pb.GetRequest(key=key))
        return Versioned(key, resp.value, resp.version) if resp.found else None

    def get_many(self, keys: Sequence[bytes]) -> list[Versioned | None]:
        """Several keys in one round trip, read at one moment; None for an absent key."""
        resp = self._call(self._stub.GetMany, pb.GetManyRequest(keys=list(keys)))
        return [Versioned(key, item.value, item.version) if item.found else None
                for key, item in zip(keys, resp.items)]

    def scan(self, prefix: bytes, limit: int = 0, reverse: bool = False,
             start_after: bytes = b"", keys_only: bool = False) -> list[Versioned]:
        resp = self._call(self._stub.Scan, pb.ScanRequest(
            prefix=prefix, limit=limit, reverse=reverse, start_after=start_after,
            keys_only=keys_only))
        return [Versioned(i.key, i.value, i.version) for i in resp.items]

    def transact(
        self,
        conditions: Mapping[bytes, int] | None = None,
        writes: Mapping[bytes, bytes | None] | None = None,
        enqueue: Enqueue = (),
        ack: Iterable[Lease] = (),
    ) -> list[int] | None:
        """Applies everything atomically; None when a condition failed (nothing was written).

        conditions: key -> expected version (0 = must not exist). writes: key -> value, or None
        to delete. Returns the new versions of the written keys, in the order given.
        """
        request = pb.TransactRequest(
            conditions=[pb.Condition(key=k, expected_version=v) for k, v in (conditions or {}).items()],
            writes=[pb.Write(key=k, value=v or b"", delete=v is None) for k, v in (writes or {}).items()],
            enqueue=[pb.QueueItem(queue=i.queue, item=i.item, read_with=i.read_with)
                     for i in queue_items(enqueue)],
            ack=[lease.ref() for lease in ack],
        )
        resp = self._call(self._stub.Transact, request)
        return list(resp.versions) if resp.committed else None

    def watch(self, key: bytes, version: int, timeout_s: float) -> int:
        """Blocks until the key's version differs from `version` or the timeout passes.
        Returns the key's current version (equal to `version` on timeout)."""
        resp = self._call(
            self._stub.Watch,
            pb.WatchRequest(key=key, version=version, timeout_ms=int(timeout_s * 1000)),
            timeout=timeout_s + self._timeout,
        )
        return resp.version

    def watch_value(self, key: bytes, version: int, timeout_s: float) -> Versioned | None:
        """Like watch, but returns the key's record as it is then (None if absent), in the same
        round trip: what a caller waiting for a record to change wants next."""
        resp = self._call(
            self._stub.Watch,
            pb.WatchRequest(key=key, version=version, timeout_ms=int(timeout_s * 1000),
                            include_value=True),
            timeout=timeout_s + self._timeout,
        )
        return Versioned(key, resp.value, resp.version) if resp.found else None

    def dequeue(self, queue: str, lease_ms: int, wait_s: float = 0.0) -> Lease | None:
        """Long-poll: waits up to wait_s for an item; None if none arrived."""
        resp = self._call(
            self._stub.Dequeue,
            pb.DequeueRequest(queue=queue, lease_ms=lease_ms, wait_ms=int(wait_s * 1000)),
            timeout=wait_s + self._timeout,
        )
        if not resp.found:
            return None
        return Lease(resp.lease.queue, resp.lease.item_id, resp.lease.lease_token, resp.item,
                     resp.redeliveries, resp.lease_deadline_ms,
                     {r.key: Versioned(r.key, r.value, r.version) if r.version else None
                      for r in resp.rows})

    def renew(self, lease: Lease, lease_ms: int) -> bool:
        resp = self._call(self._stub.RenewLease, pb.RenewLeaseRequest(lease=lease.ref(), lease_ms=lease_ms))
        return bool(resp.renewed)

    def release(self, lease: Lease) -> None:
        self._call(self._stub.ReleaseLease, lease.ref())

