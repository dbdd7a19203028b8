"""The gRPC face of the Store: namespaces per caller role, size and wait caps, proto conversion.

All storage semantics live in `gaiwan.storage.store.Store`; this adapter only decides who may ask
what, and how much. Long-polls hold a server thread while they wait (grpcio's sync server), so
they get at most `long_poll_slots` of the pool: short calls (get, transact, renew) always find a
thread, and a long-poll beyond the cap is refused with RESOURCE_EXHAUSTED rather than queued
behind others for up to a minute.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import grpc
from google.protobuf import empty_pb2

from ...config import Config
from ...errors import InvalidArgument, ResourceExhausted
from ...rpc.interceptors import peer_role
from ...rpc.pb import gaiwan_storage_pb2 as pb
from ...rpc.pb import gaiwan_storage_pb2_grpc as pb_grpc
from ...storage.client import QueueItem
from ...storage.namespaces import CONSUME, ENQUEUE, Namespace, check_read_with, namespace_for
from ...storage.store import MAX_WAIT_S, LeaseRef, Store

_ENTRY_OVERHEAD = 32  # protobuf framing per scanned item, generously
MAX_GET_MANY = 1024  # keys per GetMany: enough for any task's records, bounded for the server


@dataclass(frozen=True)
class Limits:
    max_message_bytes: int
    long_poll_slots: int
    max_wait_s: float = MAX_WAIT_S

    @classmethod
    def from_config(cls, config: Config) -> "Limits":
        """Keeps a quarter of the server's threads (at least two) free of long-polls."""
        workers = config.rpc_workers
        return cls(config.max_message_bytes, max(1, workers - max(2, workers // 4)))


def _ref(msg: pb.LeaseRef) -> LeaseRef:
    if not msg.queue:
        raise InvalidArgument("lease names no queue")
    return LeaseRef(msg.queue, msg.item_id, msg.lease_token)


class StorageServicer(pb_grpc.GaiwanStorageServicer):
    def __init__(self, store: Store, limits: Limits) -> None:
        self._store = store
        self._limits = limits
        self._slots = threading.BoundedSemaphore(limits.long_poll_slots)

    def register(self, server: grpc.Server) -> None:
        pb_grpc.add_GaiwanStorageServicer_to_server(self, server)

    @contextmanager
    def _long_poll(self, wait_ms: int) -> Iterator[float]:
        wait_s = min(wait_ms / 1000, self._limits.max_wait_s)
        if wait_s <= 0:
            yield 0.0
            return
        if not self._slots.acquire(blocking=False):
            raise ResourceExhausted("too many waiting storage calls; retry shortly")
        try:
            yield wait_s
        finally:
            self._slots.release()

    def Get(self, request: pb.GetRequest, context: grpc.ServicerContext) -> pb.GetResponse:
        _ns(context).check_key(request.key)
        got = self._store.get(request.key)
        if got is None:
            return pb.GetResponse(found=False)
        return pb.GetResponse(found=True, value=got.value, version=got.version)

    def GetMany(self, request: pb.GetManyRequest,
                context: grpc.ServicerContext) -> pb.GetManyResponse:
        if len(request.keys) > MAX_GET_MANY:
            raise InvalidArgument(f"GetMany takes at most {MAX_GET_MANY} keys")
        ns = _ns(context)
        for key in request.keys:
            ns.check_key(key)
        found = self._store.get_many(list(request.keys))
        self._check_size(sum(len(g.key) + len(g.value) + _ENTRY_OVERHEAD for g in found if g),
                         "GetMany result exceeds the message size limit; ask for fewer keys")
        return pb.GetManyResponse(items=[
            pb.GetResponse(found=True, value=g.value, version=g.version) if g is not None
            else pb.GetResponse(found=False) for g in found])

    def _check_size(self, size: int, message: str) -> None:
        if size > self._limits.max_message_bytes:
            raise ResourceExhausted(message)

    def Scan(self, request: pb.ScanRequest, context: grpc.ServicerContext) -> pb.ScanResponse:
        _ns(context).check_prefix(request.prefix)
        items = self._store.scan(request.prefix, request.limit, request.reverse,
                                 request.start_after, request.keys_only)
        self._check_size(sum(len(i.key) + len(i.value) + _ENTRY_OVERHEAD for i in items),
                         "scan result exceeds the message size limit; "
                         "page with limit and start_after")
        return pb.ScanResponse(items=[pb.KeyValue(key=i.key, value=i.value, version=i.version)
                                      for i in items])

    def Transact(self, request: pb.TransactRequest,
                 context: grpc.ServicerContext) -> pb.TransactResponse:
        ns = _ns(context)
        conditions: dict[bytes, int] = {}
        for cond in request.conditions:
            ns.check_key(cond.key)
            if cond.key in conditions:
                raise InvalidArgument(f"two conditions on key {cond.key[:64]!r}")
            conditions[cond.key] = cond.expected_version
        writes: dict[bytes, bytes | None] = {}
        for write in request.writes:
            ns.check_key(write.key)
            if write.key in writes:
                raise InvalidArgument(f"two writes to key {write.key[:64]!r}")
            writes[write.key] = None if write.delete else write.value
        for item in request.enqueue:
            ns.check_queue(item.queue, ENQUEUE)
            if len(item.read_with) > MAX_GET_MANY:
                raise InvalidArgument(f"an item is read with at most {MAX_GET_MANY} keys")
            check_read_with(ns, item.queue, item.read_with)
        acks = [_ref(ref) for ref in request.ack]
        for ack in acks:
            ns.check_queue(ack.queue, CONSUME)
        result = self._store.transact(
            conditions, writes,
            [QueueItem(i.queue, i.item, tuple(i.read_with)) for i in request.enqueue], acks)
        if result.versions is None:
            return pb.TransactResponse(committed=False, conflicts=result.conflicts)
        return pb.TransactResponse(committed=True, versions=result.versions)

    def Watch(self, request: pb.WatchRequest, context: grpc.ServicerContext) -> pb.WatchResponse:
        _ns(context).check_key(request.key)
        with self._long_poll(request.timeout_ms) as wait_s:
            version = self._store.watch(request.key, request.version, wait_s)
        if not request.include_value:
            return pb.WatchResponse(changed=version != request.version, version=version)
        current = self._store.get(request.key)
        if current is None:
            return pb.WatchResponse(changed=request.version != 0, version=0)
        return pb.WatchResponse(changed=current.version != request.version, version=current.version,
                                found=True, value=current.value)

    def Dequeue(self, request: pb.DequeueRequest,
                context: grpc.ServicerContext) -> pb.DequeueResponse:
        _ns(context).check_queue(request.queue, CONSUME)
        with self._long_poll(request.wait_ms) as wait_s:
            lease = self._store.dequeue(request.queue, request.lease_ms, wait_s)
        if lease is None:
            return pb.DequeueResponse(found=False)
        # The rows save the consumer a read; where they would not fit in one message beside the
        # item (a function's payload counts twice), they are left out and it reads them itself.
        size = len(lease.item) + sum(len(k) + (len(r.value) if r else 0) + _ENTRY_OVERHEAD
                                     for k, r in lease.rows.items())
        rows = [] if size > self._limits.max_message_bytes else [
            pb.KeyValue(key=k, value=r.value, version=r.version) if r is not None
            else pb.KeyValue(key=k) for k, r in lease.rows.items()]
        return pb.DequeueResponse(
            found=True, lease=lease.ref(), item=lease.item, redeliveries=lease.redeliveries,
            lease_deadline_ms=lease.deadline_ms, rows=rows)

    def RenewLease(self, request: pb.RenewLeaseRequest,
                   context: grpc.ServicerContext) -> pb.RenewLeaseResponse:
        ref = _ref(request.lease)
        _ns(context).check_queue(ref.queue, CONSUME)
        deadline = self._store.renew(ref, request.lease_ms)
        if deadline is None:
            return pb.RenewLeaseResponse(renewed=False)
        return pb.RenewLeaseResponse(renewed=True, lease_deadline_ms=deadline)

    def ReleaseLease(self, request: pb.LeaseRef, context: grpc.ServicerContext) -> empty_pb2.Empty:
        """Releasing a lease already lost is not an error: the item is back in the queue anyway."""
        ref = _ref(request)
        _ns(context).check_queue(ref.queue, CONSUME)
        self._store.release(ref)
        return empty_pb2.Empty()


def _ns(context: grpc.ServicerContext) -> Namespace:
    return namespace_for(peer_role(context))
