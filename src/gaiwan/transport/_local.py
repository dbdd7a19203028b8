"""`file://`: files on the node's own file system, at absolute paths the data owner names.

An output is created exclusively and never replaces an existing file: outputs are written once,
and an aes-gcm output overwritten with other content under the same key and iv would leak the
XOR of the two plaintexts. A partly written output is removed when the copy fails.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO
from urllib.parse import SplitResult, unquote

from ._errors import TransportError
from ._limits import Limits, copy_limited


def file_path(parts: SplitResult, label: str) -> Path:
    """The absolute local path of a file:// URL (host empty or localhost)."""
    if parts.netloc not in ("", "localhost"):
        raise TransportError(label, "file:// URL must name a local path (no host)")
    path = unquote(parts.path)
    if not path.startswith("/") or "\x00" in path:
        raise TransportError(label, "file:// URL must hold an absolute path")
    if any(seg == ".." for seg in path.split("/")):
        raise TransportError(label, "file:// URL path must not contain '..'")
    return Path(path)


def read(path: Path, dst: BinaryIO, limits: Limits, label: str) -> int:
    try:
        with open(path, "rb") as src:
            if os.fstat(src.fileno()).st_size > limits.max_bytes:
                raise limits.too_large(label)
            return copy_limited(src, dst, limits, label)
    except FileNotFoundError:
        raise TransportError(label, "file does not exist") from None
    except IsADirectoryError:
        raise TransportError(label, "location is a directory, not a file") from None
    except PermissionError:
        raise TransportError(label, "file is not readable by the execution node") from None


def write_new(src: Path, path: Path, limits: Limits, label: str) -> None:
    """Creates path exclusively with src's bytes; removes it again if the copy fails."""
    if src.stat().st_size > limits.max_bytes:
        raise limits.too_large(label)
    try:
        out = open(path, "xb")
    except FileExistsError:
        raise TransportError(label, "file already exists; outputs are never overwritten") from None
    except FileNotFoundError:
        raise TransportError(label, "directory of the output file does not exist") from None
    except PermissionError:
        raise TransportError(label, "file is not writable by the execution node") from None
    try:
        with out, open(src, "rb") as body:
            copy_limited(body, out, limits, label)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
