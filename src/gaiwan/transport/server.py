"""A small threaded GET/PUT file server for local use and tests (`gaiwan files serve`).

It stands in for the object store a data owner would use: GET serves a file under its root,
PUT stores one. A PUT never replaces an existing file (409), the same rule the platform keeps
for outputs; the body is written to a temporary file and linked into place, so a reader never
sees half a file and two racing PUTs cannot both win. Paths are confined to the root: `..`,
empty and hidden segments are refused, and symbolic links may not lead outside it.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ._limits import CHUNK

DEFAULT_MAX_BYTES = 1024**3


class FileServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0,
                 max_bytes: int = DEFAULT_MAX_BYTES, verbose: bool = False) -> None:
        self.root = Path(root).resolve()
        self.max_bytes = max_bytes
        self.verbose = verbose
        self._thread: threading.Thread | None = None
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FileServer":
        """Serves from a background thread (tests, embedding); `stop()` ends it."""
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), name="files",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-transfer (e.g. it hit its size limit) is not an error."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)

    def locate(self, raw_path: str) -> Path | None:
        """The file a request path names under root, or None if it would leave root."""
        segments = unquote(urlsplit(raw_path).path).split("/")[1:]
        if not segments or any(s in ("", ".", "..") or s.startswith(".") or "\x00" in s
                               for s in segments):
            return None
        path = self.root.joinpath(*segments)
        if not path.resolve().is_relative_to(self.root):
            return None
        return path


class _Handler(BaseHTTPRequestHandler):
    server: FileServer
    protocol_version = "HTTP/1.1"

    def _reply(self, status: HTTPStatus, body: bytes = b"") -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if status >= 400:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.server.locate(self.path)
        if path is None:
            return self._reply(HTTPStatus.FORBIDDEN, b"path outside the served directory\n")
        try:
            src = open(path, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return self._reply(HTTPStatus.NOT_FOUND, b"no such file\n")
        with src:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(os.fstat(src.fileno()).st_size))
            self.end_headers()
            while chunk := src.read(CHUNK):
                self.wfile.write(chunk)

    def do_PUT(self) -> None:  # noqa: N802
        length = self.headers.get("Content-Length", "")
        if not length.isdigit():
            return self._reply(HTTPStatus.LENGTH_REQUIRED, b"Content-Length required\n")
        if int(length) > self.server.max_bytes:
            return self._reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"file too large\n")
        path = self.server.locate(self.path)
        if path is None:
            return self._refuse(int(length), HTTPStatus.FORBIDDEN, b"path outside the served directory\n")
        if path.exists():
            return self._refuse(int(length), HTTPStatus.CONFLICT, b"file exists; it is never overwritten\n")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            return self._refuse(int(length), HTTPStatus.CONFLICT, b"a parent is not a directory\n")
        self._reply(self._store(path, int(length)))

    def _refuse(self, length: int, status: HTTPStatus, body: bytes) -> None:
        """Reads the (size-checked) body first: closing on unread data would reset the
        connection and the client could lose the answer that says why."""
        remaining = length
        while remaining and (chunk := self.rfile.read(min(CHUNK, remaining))):
            remaining -= len(chunk)
        self._reply(status, body)

    def _store(self, path: Path, length: int) -> HTTPStatus:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".put-")
        try:
            with os.fdopen(fd, "wb") as out:  # no half-written file is ever visible
                remaining = length
                while remaining:
                    chunk = self.rfile.read(min(CHUNK, remaining))
                    if not chunk:
                        self.close_connection = True
                        return HTTPStatus.BAD_REQUEST
                    out.write(chunk)
                    remaining -= len(chunk)
            try:
                os.link(tmp, path)
            except FileExistsError:
                return HTTPStatus.CONFLICT
            return HTTPStatus.CREATED
        finally:
            os.unlink(tmp)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        if self.server.verbose:
            super().log_message(format, *args)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.server.verbose:  # path only: a query string may carry a token
            self.log_message('"%s %s" %s', self.command, urlsplit(self.path).path, str(code))
