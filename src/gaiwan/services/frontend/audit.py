"""The audit log (spec §9): one entry per public call, stored under `audit/` in the frontend's
storage namespace, read back newest first by QueryAuditLogs.

Entries are stored as Teaclave's own `Entry` message, so a query returns them as they are.
Keys are `audit/<20-digit µs>-<8 hex>`: byte order is time order, and the random suffix keeps
two calls in the same microsecond apart.
"""

from __future__ import annotations

import secrets
import time
from typing import Protocol

from ...rpc.pb.teaclave_common_pb2 import Entry
from ...storage.client import Versioned

PREFIX = b"audit/"
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
_PAGE = 500


class AuditReader(Protocol):
    def scan(self, prefix: bytes, limit: int = 0, reverse: bool = False,
             start_after: bytes = b"") -> list[Versioned]: ...


def now_us() -> int:
    return time.time_ns() // 1000


def format_user(user_id: str, role: str) -> str:
    """Teaclave's user field: `{ user: <id>, role: <role> }`; empty for an unauthenticated call."""
    return f"{{ user: {user_id}, role: {role} }}" if user_id else ""


def entry(microsecond: int, ip: bytes, user: str, call: str, error: str | None = None) -> Entry:
    """The entry for one call; `error` (a message safe to show the caller) marks a failure."""
    message = call if error is None else f"{call}:{error}"
    return Entry(microsecond=microsecond, ip=ip, user=user, message=message, result=error is None)


def key(microsecond: int) -> bytes:
    return f"audit/{microsecond:020d}-{secrets.token_hex(4)}".encode()


def effective_limit(limit: int) -> int:
    """0 means the default; a huge limit is capped so one reply stays within message limits."""
    return DEFAULT_LIMIT if limit <= 0 else min(limit, MAX_LIMIT)


def query(storage: AuditReader, text: str, limit: int) -> list[Entry]:
    """Newest first, the entries whose message contains `text` (empty: all), at most `limit`."""
    wanted = effective_limit(limit)
    found: list[Entry] = []
    after = b""
    while len(found) < wanted:
        page = storage.scan(PREFIX, limit=_PAGE, reverse=True, start_after=after)
        for item in page:
            e = Entry.FromString(item.value)
            if text in e.message:
                found.append(e)
                if len(found) == wanted:
                    break
        if len(page) < _PAGE:
            break
        after = page[-1].key
    return found
