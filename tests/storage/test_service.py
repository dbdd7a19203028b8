"""The storage service through real gRPC with mutual TLS: namespaces, statuses, the client."""

from __future__ import annotations

import io
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest

from gaiwan.config import DEFAULT_INBOUND
from gaiwan.errors import InvalidArgument, PermissionDenied, ResourceExhausted
from gaiwan.logs import get_logger
from gaiwan.rpc.channels import mesh_channel
from gaiwan.rpc.pb import gaiwan_storage_pb2 as pb
from gaiwan.rpc.pb import gaiwan_storage_pb2_grpc as pb_grpc
from gaiwan.rpc.server import internal_server
from gaiwan.services.storage._servicer import MAX_GET_MANY, Limits, StorageServicer
from gaiwan.storage import StorageClient
from gaiwan.storage.client import QueueItem
from gaiwan.storage.namespaces import CONSUME, ENQUEUE, Namespace, check_read_with
from gaiwan.storage._lmdb import LmdbEngine
from gaiwan.storage.store import Store
from gaiwan.transport import FusionStore, Transport, TransportError

from .conftest import SEAL_KEY
from .mesh import MeshCA

MAX_MESSAGE = 64 * 1024


@pytest.fixture(scope="module")
def ca() -> MeshCA:
    return MeshCA()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(ca: MeshCA, tmp_path: Path) -> Iterator[tuple[str, Store]]:
    """A storage server on a free local port, with the platform's inbound rules for storage."""
    store = Store(LmdbEngine(tmp_path / "db", 8), SEAL_KEY)
    servicer = StorageServicer(store, Limits(MAX_MESSAGE, long_poll_slots=2))
    address = f"127.0.0.1:{_free_port()}"
    server, _ = internal_server(ca.identity("storage"), address, DEFAULT_INBOUND["storage"],
                                [servicer.register], get_logger("storage"), workers=8,
                                max_message_bytes=MAX_MESSAGE)
    server.start()
    yield address, store
    server.stop(None)
    store.close()


@pytest.fixture
def client(ca: MeshCA, served: tuple[str, Store]) -> Iterator[Callable[[str], StorageClient]]:
    """Makes a StorageClient speaking mutual TLS as the given mesh role."""
    channels: list[grpc.Channel] = []

    def make(role: str) -> StorageClient:
        channels.append(mesh_channel(ca.identity(role), served[0], "storage", MAX_MESSAGE))
        return StorageClient(channels[-1], timeout_s=5)

    yield make
    for ch in channels:
        ch.close()


def test_client_roundtrip_through_the_service(client: Callable[[str], StorageClient]) -> None:
    """put/get/compare_and_set/scan/delete behave over the wire as in-process."""
    mgmt = client("management")
    v = mgmt.put(b"task/1", b"created")
    got = mgmt.get(b"task/1")
    assert got is not None and (got.value, got.version) == (b"created", v)
    assert mgmt.compare_and_set(b"task/1", v + 1, b"x") is None
    v2 = mgmt.compare_and_set(b"task/1", v, b"approved")
    assert v2 is not None and v2 > v
    mgmt.put(b"task/2", b"")
    assert [i.key for i in mgmt.scan(b"task/", reverse=True)] == [b"task/2", b"task/1"]
    mgmt.delete(b"task/2")
    assert mgmt.get(b"task/2") is None


def test_get_many_and_watch_value_over_the_wire(client: Callable[[str], StorageClient]) -> None:
    """get_many answers several keys in order (None for absent ones); watch_value returns the
    record as changed, and None once it is deleted."""
    mgmt = client("management")
    v1 = mgmt.put(b"task/m1", b"one")
    mgmt.put(b"fn/m2", b"two")
    got = mgmt.get_many([b"task/m1", b"task/absent", b"fn/m2"])
    assert [g.value if g else None for g in got] == [b"one", None, b"two"]
    assert got[0] is not None and got[0].version == v1
    threading.Timer(0.2, lambda: mgmt.put(b"task/m1", b"uno")).start()
    changed = mgmt.watch_value(b"task/m1", v1, 10)
    assert changed is not None and changed.value == b"uno" and changed.version > v1
    mgmt.delete(b"task/m1")
    assert mgmt.watch_value(b"task/m1", changed.version, 10) is None
    with pytest.raises(PermissionDenied):
        mgmt.get_many([b"task/m1", b"auth/user/alice"])


def test_task_queue_path_over_the_wire(client: Callable[[str], StorageClient]) -> None:
    """management stages and enqueues at once; the scheduler long-polls, gets the task's records
    with the item, renews, acks."""
    mgmt, sched = client("management"), client("scheduler")
    v = mgmt.put(b"task/9", b"approved")
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(sched.dequeue("tasks", 5000, wait_s=10)))
    waiter.start()
    time.sleep(0.2)
    assert mgmt.transact({b"task/9": v}, {b"task/9": b"staged"},
                         enqueue=[QueueItem("tasks", b"9", (b"task/9", b"data/gone"))])
    waiter.join(5)
    lease = got[0]
    assert lease is not None and lease.item == b"9" and lease.redeliveries == 0  # type: ignore[attr-defined]
    assert lease.rows[b"data/gone"] is None  # type: ignore[attr-defined]
    staged = lease.rows[b"task/9"]  # type: ignore[attr-defined]
    assert staged is not None and staged.value == b"staged"
    assert sched.renew(lease, 5000)  # type: ignore[arg-type]
    assert sched.transact({b"task/9": staged.version}, {b"task/9": b"finished"}, ack=[lease])  # type: ignore[list-item]
    assert not sched.renew(lease, 5000)  # type: ignore[arg-type]
    sched.release(lease)  # type: ignore[arg-type]  # a lost lease: no error
    assert sched.dequeue("tasks", 1000) is None


def test_watch_over_the_wire(client: Callable[[str], StorageClient]) -> None:
    """A watch through the service returns on the commit, not at its timeout."""
    mgmt = client("management")
    v = mgmt.put(b"task/w", b"running")
    threading.Timer(0.2, lambda: mgmt.put(b"task/w", b"finished")).start()
    started = time.monotonic()
    assert mgmt.watch(b"task/w", v, 10) > v
    assert time.monotonic() - started < 2
    assert mgmt.watch(b"task/w", mgmt.get(b"task/w").version, 0.1) > 0  # type: ignore[union-attr]


@pytest.mark.parametrize("role, call", [
    ("management", lambda c: c.get(b"auth/user/alice")),
    ("management", lambda c: c.put(b"audit/1", b"forged")),
    ("management", lambda c: c.scan(b"")),
    ("management", lambda c: c.scan(b"ta")),
    ("management", lambda c: c.dequeue("tasks", 1000)),
    ("management", lambda c: c.transact(conditions={b"auth/x": 0}, writes={b"task/1": b"x"})),
    ("management", lambda c: c.watch(b"auth/user/alice", 0, 0.1)),
    ("frontend", lambda c: c.get(b"task/1")),
    ("frontend", lambda c: c.transact(writes={b"audit/1": b"x"}, enqueue=[("tasks", b"1")])),
    ("authentication", lambda c: c.put(b"fn/1", b"x")),
    ("scheduler", lambda c: c.transact(enqueue=[("other", b"1")])),
    ("execution", lambda c: c.get(b"task/1")),
    ("execution", lambda c: c.scan(b"")),
    ("execution", lambda c: c.transact(conditions={b"fusion/x/manifest": 0},
                                       writes={b"audit/1": b"x"})),
    ("execution", lambda c: c.transact(enqueue=[("tasks", b"1")])),
    ("scheduler", lambda c: c.get(b"fusion/x/manifest")),
    ("management", lambda c: c.transact(writes={b"fusion/x/manifest": b"x"})),
    ("frontend", lambda c: c.scan(b"fusion/")),
    ("authentication", lambda c: c.get(b"fusion/x/manifest")),
    ("operator", lambda c: c.get(b"task/1")),
])
def test_namespace_violations_are_permission_denied(
        client: Callable[[str], StorageClient], served: tuple[str, Store], role: str,
        call: Callable[[StorageClient], object]) -> None:
    """A role reaching outside its table (or not a storage caller at all) is refused, writing nothing."""
    with pytest.raises(PermissionDenied):
        call(client(role))
    assert served[1].get(b"audit/1") is None and served[1].get(b"task/1") is None


def test_read_with_outside_the_namespaces_is_refused(client: Callable[[str], StorageClient],
                                                     served: tuple[str, Store]) -> None:
    """An item may name only records its enqueuer and every consumer of its queue may read:
    management cannot have the scheduler handed a password hash, and nothing is enqueued."""
    with pytest.raises(PermissionDenied):
        client("management").transact(enqueue=[QueueItem("tasks", b"x", (b"auth/user/alice",))])
    assert client("scheduler").dequeue("tasks", 1000) is None


def test_consumers_must_read_what_an_item_names() -> None:
    """The rule looks at every role that may consume the queue, not only at the enqueuer."""
    producer = Namespace("producer", (b"a/", b"b/"), {"q": frozenset({ENQUEUE})})
    consumer = Namespace("consumer", (b"a/",), {"q": frozenset({CONSUME})})
    table = {"producer": producer, "consumer": consumer}
    check_read_with(producer, "q", [b"a/1"], table)
    with pytest.raises(PermissionDenied, match="consumer"):
        check_read_with(producer, "q", [b"a/1", b"b/1"], table)


def test_rows_too_large_for_one_answer_are_left_out(client: Callable[[str], StorageClient]) -> None:
    """Rows that would not fit beside the item in one message are dropped, not the item: the
    consumer reads them itself."""
    mgmt, sched = client("management"), client("scheduler")
    mgmt.put(b"fn/big", b"p" * (MAX_MESSAGE // 2))
    mgmt.transact(enqueue=[QueueItem("tasks", b"i" * (MAX_MESSAGE // 2), (b"fn/big",))])
    lease = sched.dequeue("tasks", 5000)
    assert lease is not None and lease.item == b"i" * (MAX_MESSAGE // 2) and lease.rows == {}


def test_each_role_reaches_its_own_prefix(client: Callable[[str], StorageClient]) -> None:
    """The positive side of the table: every storage caller can use its own keys."""
    for role, key in (("authentication", b"auth/u"), ("frontend", b"audit/1"),
                      ("management", b"fn/1"), ("scheduler", b"data/1"),
                      ("execution", b"fusion/x.fusion/manifest")):
        c = client(role)
        c.put(key, b"v")
        assert c.get(key).value == b"v"  # type: ignore[union-attr]


@pytest.mark.parametrize("call", [
    lambda c: c.get(b"task/" + b"x" * 1000),
    lambda c: c.dequeue("tasks", 0),
    lambda c: c.renew(_lease("tasks", 1), 10**8),
])
def test_bad_arguments_are_invalid_argument(client: Callable[[str], StorageClient],
                                            call: Callable[[StorageClient], object]) -> None:
    """Oversized keys and out-of-range lease durations come back as INVALID_ARGUMENT."""
    with pytest.raises(InvalidArgument):
        call(client("scheduler"))


def _lease(queue: str, item_id: int):  # type: ignore[no-untyped-def]
    from gaiwan.storage import Lease

    return Lease(queue, item_id, b"t" * 16, b"", 0, 0)


def test_duplicate_writes_and_malformed_bytes(ca: MeshCA, served: tuple[str, Store]) -> None:
    """Two writes to one key, and undecodable request bytes, are INVALID_ARGUMENT, not a crash."""
    with mesh_channel(ca.identity("management"), served[0], "storage") as ch:
        stub = pb_grpc.GaiwanStorageStub(ch)
        twice = pb.TransactRequest(writes=[pb.Write(key=b"task/1", value=b"a"),
                                           pb.Write(key=b"task/1", value=b"b")])
        with pytest.raises(grpc.RpcError) as info:
            stub.Transact(twice, timeout=5)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        raw = ch.unary_unary("/gaiwan_storage_proto.GaiwanStorage/Get")
        with pytest.raises(grpc.RpcError) as info:
            raw(b"\xff\xff\xff", timeout=5)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_oversized_scan_is_resource_exhausted(client: Callable[[str], StorageClient]) -> None:
    """A scan whose answer would not fit one message asks the caller to page; the same keys
    without their values fit."""
    c = client("management")
    for n in range(5):
        c.put(b"data/%d" % n, b"v" * (MAX_MESSAGE // 4))
    with pytest.raises(ResourceExhausted):
        c.scan(b"data/")
    assert len(c.scan(b"data/", limit=2)) == 2
    listed = c.scan(b"data/", keys_only=True)  # keys alone fit: how to list large values
    assert [i.key for i in listed] == [b"data/%d" % n for n in range(5)]
    assert {i.value for i in listed} == {b""}


def test_get_many_is_bounded_in_keys_and_answer_size(client: Callable[[str], StorageClient]) -> None:
    """Too many keys is a malformed request; an answer too large for a message says so."""
    c = client("management")
    with pytest.raises(InvalidArgument):
        c.get_many([b"data/k%d" % n for n in range(MAX_GET_MANY + 1)])
    for n in range(5):
        c.put(b"data/big%d" % n, b"v" * (MAX_MESSAGE // 4))
    with pytest.raises(ResourceExhausted):
        c.get_many([b"data/big%d" % n for n in range(5)])
    assert len(c.get_many([b"data/big0", b"data/big1"])) == 2
    with pytest.raises(InvalidArgument):  # an item names as many records as GetMany reads
        c.transact(enqueue=[QueueItem("tasks", b"x", tuple(b"data/k%d" % n
                                                            for n in range(MAX_GET_MANY + 1)))])
    assert client("scheduler").dequeue("tasks", 1000) is None


def test_long_polls_cannot_take_every_thread(client: Callable[[str], StorageClient]) -> None:
    """Past the long-poll cap a waiting call is refused at once and short calls still run."""
    sched = client("scheduler")
    waiters = [threading.Thread(target=lambda: sched.dequeue("tasks", 1000, wait_s=1.5))
               for _ in range(2)]
    for w in waiters:
        w.start()
    time.sleep(0.3)
    with pytest.raises(ResourceExhausted):
        sched.dequeue("tasks", 1000, wait_s=1)
    started = time.monotonic()
    sched.put(b"task/x", b"short call")
    assert time.monotonic() - started < 0.5
    for w in waiters:
        w.join(5)


def test_client_without_certificate_is_refused(served: tuple[str, Store], ca: MeshCA) -> None:
    """Server-authenticated TLS alone does not get in: the mesh requires a client certificate."""
    creds = grpc.ssl_channel_credentials(root_certificates=ca.pem)
    options = [("grpc.ssl_target_name_override", "storage.mesh.gaiwan")]
    with grpc.secure_channel(served[0], creds, options=options) as ch:
        with pytest.raises(grpc.RpcError) as info:
            pb_grpc.GaiwanStorageStub(ch).Get(pb.GetRequest(key=b"task/1"), timeout=5)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE


def test_client_from_another_ca_is_refused(served: tuple[str, Store], ca: MeshCA) -> None:
    """A certificate naming an allowed role, but issued by a foreign CA, is refused."""
    rogue = MeshCA().identity("management")
    rogue = type(rogue)(rogue.role, rogue.key_pem, rogue.mesh_cert_pem, ca.pem)
    with mesh_channel(rogue, served[0], "storage") as ch:
        with pytest.raises(grpc.RpcError) as info:
            pb_grpc.GaiwanStorageStub(ch).Get(pb.GetRequest(key=b"task/1"), timeout=5)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE


def test_fusion_files_over_the_wire(client: Callable[[str], StorageClient], ca: MeshCA,
                                    tmp_path: Path) -> None:
    """Fusion files at the largest chunk a message limit allows pass the service both ways (a
    chunk plus its framing fits a request, a batch of them an answer); a storage nobody serves
    fails the transfer as unavailable."""
    store = FusionStore(client("execution"), MAX_MESSAGE)
    assert store.chunk_bytes > MAX_MESSAGE * 0.9
    data = os.urandom(3 * store.chunk_bytes + 17)
    (tmp_path / "out").write_bytes(data)
    transport = Transport(fusion=store)
    transport.upload(tmp_path / "out", "fusion:///f.fusion", "output 'o'")
    got = io.BytesIO()
    assert transport.fetch("fusion:///f.fusion", got, "input 'i'") == len(data)
    assert got.getvalue() == data
    with mesh_channel(ca.identity("execution"), f"127.0.0.1:{_free_port()}", "storage",
                      MAX_MESSAGE) as ch:
        nobody = Transport(fusion=FusionStore(StorageClient(ch, timeout_s=5), MAX_MESSAGE))
        with pytest.raises(TransportError, match="^input 'i': fusion storage is unavailable$"):
            nobody.fetch("fusion:///f.fusion", io.BytesIO(), "input 'i'")
