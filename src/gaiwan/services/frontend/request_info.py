"""What the frontend reads from a call besides its message: the caller's credentials (gRPC
metadata `id` and `token`, spec §1) and the client's address for the audit log."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from urllib.parse import unquote

from ...errors import Unauthenticated


def credentials(metadata: Iterable[tuple[str, str | bytes]]) -> tuple[str, str]:
    """(id, token) from the call's metadata; missing or empty -> Unauthenticated.

    The message never repeats what was sent: a token must not reach logs or audit entries.
    """
    found: dict[str, str] = {}
    for key, value in metadata:
        if key in ("id", "token") and key not in found and isinstance(value, str):
            found[key] = value
    user_id, token = found.get("id", ""), found.get("token", "")
    if not user_id or not token:
        raise Unauthenticated("missing credentials: metadata id and token are required")
    return user_id, token


def peer_ip(peer: str) -> bytes:
    """The client's IP as packed bytes (4 or 16), from grpc's `context.peer()`; b"" if none.

    Forms seen: `ipv4:10.0.0.1:5000`, `ipv6:[::1]:5000` (sometimes percent-encoded), `unix:...`.
    """
    kind, _, rest = peer.partition(":")
    rest = unquote(rest)
    if kind == "ipv4":
        family, host = socket.AF_INET, rest.rpartition(":")[0]
    elif kind == "ipv6":
        host = rest.rpartition(":")[0].strip("[]")
        family, host = socket.AF_INET6, host.split("%", 1)[0]  # drop a zone id (fe80::1%eth0)
    else:
        return b""
    try:
        return socket.inet_pton(family, host)  # what ipaddress does, at a tenth of the cost
    except OSError:
        return b""
