"""`http`/`https`: GET for inputs, PUT (Content-Type application/x-binary) for outputs.

Built on the standard library's http.client rather than a third-party client: the transport
needs two verbs, streaming both ways, and separate connect and read timeouts, which http.client
gives directly, and one dependency fewer is one less thing in the trusted code of a node.

Redirects are not followed: a redirect could carry a request (and any credentials in it) to a
host the data owner never named. Credentials in the URL's user info become Basic auth; a query
string (e.g. a pre-signed URL) is sent as is. Neither ever appears in an error.
"""

from __future__ import annotations

import base64
import http.client
import socket
import ssl
from http import HTTPStatus
from pathlib import Path
from typing import BinaryIO
from urllib.parse import SplitResult, unquote

from ._errors import TransportError
from ._limits import CHUNK, Limits, copy_limited

CONTENT_TYPE = "application/x-binary"


def _status(code: int) -> str:
    try:
        return f"HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


def _where(parts: SplitResult) -> str:
    """host:port, never the user info or the path."""
    return f"{parts.hostname}:{_port(parts)}"


def _port(parts: SplitResult) -> int:
    """The URL's port or the scheme's default; ValueError when malformed."""
    return parts.port or (443 if parts.scheme.lower() == "https" else 80)


def _headers(parts: SplitResult) -> dict[str, str]:
    headers = {"User-Agent": "gaiwan"}
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    return headers


def _target(parts: SplitResult) -> str:
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def _connect(parts: SplitResult, limits: Limits, label: str) -> http.client.HTTPConnection:
    if not parts.hostname:
        raise TransportError(label, "http(s) URL without a host")
    try:
        port = _port(parts)
    except ValueError:
        raise TransportError(label, "http(s) URL with a malformed port") from None
    conn: http.client.HTTPConnection
    if parts.scheme.lower() == "https":
        conn = http.client.HTTPSConnection(parts.hostname, port, timeout=limits.connect_timeout_s,
                                           context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname, port, timeout=limits.connect_timeout_s)
    try:
        conn.connect()
    except ssl.SSLError:
        conn.close()
        raise TransportError(label, f"TLS handshake with {_where(parts)} failed") from None
    except (OSError, http.client.HTTPException):
        conn.close()
        raise TransportError(label, f"cannot connect to {_where(parts)}") from None
    assert conn.sock is not None
    conn.sock.settimeout(limits.read_timeout_s)
    return conn


def _io_error(parts: SplitResult, limits: Limits, label: str, exc: BaseException) -> TransportError:
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return TransportError(label, f"{_where(parts)} did not answer within {limits.read_timeout_s:g} s")
    return TransportError(label, f"connection to {_where(parts)} failed ({type(exc).__name__})")


def _check(response: http.client.HTTPResponse, label: str) -> None:
    if not 200 <= response.status < 300:
        extra = " (redirects are not followed)" if 300 <= response.status < 400 else ""
        raise TransportError(label, f"server answered {_status(response.status)}{extra}")


def get(parts: SplitResult, dst: BinaryIO, limits: Limits, label: str) -> int:
    """Streams the body of a 2xx answer into dst; returns its length."""
    conn = _connect(parts, limits, label)
    try:
        conn.request("GET", _target(parts), headers=_headers(parts))
        response = conn.getresponse()
        _check(response, label)
        declared = response.getheader("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > limits.max_bytes:
            raise limits.too_large(label)
        return copy_limited(response, dst, limits, label)
    except (OSError, http.client.HTTPException) as exc:
        raise _io_error(parts, limits, label, exc) from None
    finally:
        conn.close()


def put(parts: SplitResult, src: Path, limits: Limits, label: str) -> None:
    """Streams src as the body of one PUT; anything but 2xx is a failure."""
    size = src.stat().st_size
    if size > limits.max_bytes:
        raise limits.too_large(label)
    conn = _connect(parts, limits, label)
    try:
        conn.putrequest("PUT", _target(parts), skip_accept_encoding=True)
        for header, value in {**_headers(parts), "Content-Type": CONTENT_TYPE,
                              "Content-Length": str(size)}.items():
            conn.putheader(header, value)
        conn.endheaders()
        try:
            with open(src, "rb") as body:
                while chunk := body.read(CHUNK):
                    conn.send(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early (e.g. 409, 413): its status says why
        response = conn.getresponse()
        response.read()
        _check(response, label)
    except (OSError, http.client.HTTPException) as exc:
        raise _io_error(parts, limits, label, exc) from None
    finally:
        conn.close()
