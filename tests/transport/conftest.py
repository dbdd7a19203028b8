"""Fixtures: a real files server on 127.0.0.1 over a temporary directory, a transport with
short limits whose fusion files go to a real LMDB store (as the execution role sees it), and
servers that misbehave in the ways remote stores do."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gaiwan.storage import LocalStorage
from gaiwan.transport import FusionStore, Limits, Transport
from gaiwan.transport.server import FileServer

LIMITS = Limits(connect_timeout_s=1.0, read_timeout_s=0.3, max_bytes=64 * 1024)
# Small chunks, so the files these limits allow span several chunks and several reads.
MAX_MESSAGE, MAX_CHUNK = 64 * 1024, 4096


@pytest.fixture
def served(tmp_path: Path) -> Iterator[FileServer]:
    root = tmp_path / "served"
    root.mkdir()
    server = FileServer(root, max_bytes=LIMITS.max_bytes).start()
    yield server
    server.stop()


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[LocalStorage]:
    """The storage as the execution role reaches it: its namespace enforced."""
    with LocalStorage.open(tmp_path / "storage", role="execution") as opened:
        yield opened


@pytest.fixture
def transport(storage: LocalStorage) -> Transport:
    return Transport(LIMITS, FusionStore(storage, MAX_MESSAGE, MAX_CHUNK))


class Recorder(ThreadingHTTPServer):
    """Answers every request with a fixed status and remembers what it was sent."""

    daemon_threads = True

    def __init__(self, status: int, declare_length: bool = True) -> None:
        self.status = status
        self.declare_length = declare_length
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        super().__init__(("127.0.0.1", 0), _RecordingHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _RecordingHandler(BaseHTTPRequestHandler):
    server: Recorder

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self.server.requests.append((self.command, self.path, dict(self.headers), body))
        self.send_response(self.server.status)
        if self.server.declare_length:
            self.send_header("Content-Length", "2")
        else:
            self.close_connection = True  # the body ends when the connection does
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_PUT = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    servers: list[Recorder] = []

    def make(status: int, declare_length: bool = True) -> Recorder:
        server = Recorder(status, declare_length)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return server

    yield make  # type: ignore[misc]
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield listener.getsockname()[1]
    listener.close()


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port
