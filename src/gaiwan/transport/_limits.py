"""How long a transfer may wait and how large a file may be, and the bounded copy that enforces
the size limit on every scheme alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

from ._errors import TransportError

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Limits:
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0
    max_bytes: int = 4 * 1024**3

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> "Limits":
        """From the `[execution]` section: transfer_connect_timeout_s, transfer_read_timeout_s,
        transfer_max_bytes (each optional)."""
        default = cls()
        return cls(
            connect_timeout_s=float(section.get("transfer_connect_timeout_s", default.connect_timeout_s)),
            read_timeout_s=float(section.get("transfer_read_timeout_s", default.read_timeout_s)),
            max_bytes=int(section.get("transfer_max_bytes", default.max_bytes)),
        )

    def too_large(self, label: str) -> TransportError:
        return TransportError(label, f"file is larger than the size limit of {self.max_bytes} bytes")


def copy_limited(src: BinaryIO, dst: BinaryIO, limits: Limits, label: str) -> int:
    """Copies src to dst in chunks; refuses (after at most max_bytes + one chunk) a longer src."""
    total = 0
    while chunk := src.read(CHUNK):
        total += len(chunk)
        if total > limits.max_bytes:
            raise limits.too_large(label)
        dst.write(chunk)
    return total
