"""A real announcement hub served over gRPC, and a follower driving a listener from it: what
the tests of the frontend's memories and of the scheduler's view of the policy set share."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager

import grpc
import pytest

from gaiwan.logs import get_logger
from gaiwan.services import announcements
from gaiwan.services.announcements import Announcements, Follower, Listener

CURRENT = "subject-as-it-stands"


@pytest.fixture
def served() -> Iterator[tuple[Announcements, grpc.Channel]]:
    """An announcement hub behind a real gRPC server (its subject as it stands: CURRENT), and a
    channel to it."""
    hub = Announcements(ack_timeout_s=5)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    announcements.register(hub, lambda: CURRENT)(server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield hub, channel
    server.stop(None)


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@contextmanager
def following(hub: Announcements, channel: grpc.Channel, listener: Listener) -> Iterator[None]:
    """A follower drives `listener` from the hub's stream while the block runs (subscribed
    before it starts); it is stopped and joined after."""
    follower = Follower(channel, listener, get_logger("frontend"), "test")
    stop = threading.Event()
    thread = threading.Thread(target=follower.run, args=(stop,), daemon=True)
    before = hub.subscribers()
    thread.start()
    assert wait_for(lambda: hub.subscribers() == before + 1)
    try:
        yield
    finally:
        stop.set()
        follower.close()
        thread.join(5)
        assert not thread.is_alive()
