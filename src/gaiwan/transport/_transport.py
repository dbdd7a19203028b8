"""Moving a task's files by URL scheme: fetch an input into a local file, upload an output
from one. Bytes only: sealing and opening is the data path's job, so every file that passes
through here is ciphertext (except `raw` inputs, which are plaintext by their owner's choice).
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO
from urllib.parse import SplitResult, urlsplit

from . import _data_url, _fusion, _http, _local
from ._errors import TransportError
from ._fusion import FusionStore
from ._limits import Limits

INPUT_SCHEMES = ("http", "https", "file", "data", "fusion")
OUTPUT_SCHEMES = ("http", "https", "file", "fusion")


def _split(url: str, label: str, allowed: tuple[str, ...]) -> SplitResult:
    try:
        parts = urlsplit(url)
    except ValueError:
        raise TransportError(label, "malformed URL") from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise TransportError(label, "URL without a scheme")
    if scheme not in allowed:
        raise TransportError(label, f"URL scheme {scheme!r} is not supported here; one of "
                                    f"{', '.join(allowed)}")
    return parts


class Transport:
    """Fetches and uploads task files; one per node, shared by its worker threads."""

    def __init__(self, limits: Limits | None = None, fusion: FusionStore | None = None) -> None:
        self.limits = limits or Limits()
        self.fusion = fusion

    def _fusion(self, parts: SplitResult, label: str) -> tuple[FusionStore, str]:
        name = _fusion.name_of(parts, label)
        if self.fusion is None:
            raise TransportError(label, "fusion storage is not available on this node")
        return self.fusion, name

    def fetch(self, url: str, dst: BinaryIO, label: str) -> int:
        """Writes the file at url into dst; returns its size. `label` names the file in errors,
        e.g. "input 'training_data'"."""
        parts = _split(url, label, INPUT_SCHEMES)
        scheme = parts.scheme.lower()
        if scheme in ("http", "https"):
            return _http.get(parts, dst, self.limits, label)
        if scheme == "data":
            try:
                data = _data_url.decode(url)
            except _data_url.DataUrlError as exc:
                raise TransportError(label, str(exc)) from None
            if len(data) > self.limits.max_bytes:
                raise self.limits.too_large(label)
            dst.write(data)
            return len(data)
        if scheme == "file":
            return _local.read(_local.file_path(parts, label), dst, self.limits, label)
        store, name = self._fusion(parts, label)
        return store.read(name, dst, self.limits, label)

    def upload(self, src: Path, url: str, label: str) -> None:
        """Sends the file src to url; an existing file there is never replaced."""
        parts = _split(url, label, OUTPUT_SCHEMES)
        scheme = parts.scheme.lower()
        if scheme in ("http", "https"):
            _http.put(parts, src, self.limits, label)
        elif scheme == "file":
            _local.write_new(src, _local.file_path(parts, label), self.limits, label)
        else:
            store, name = self._fusion(parts, label)
            store.write(src, name, self.limits, label)
