"""A task's files on the node: fetch, check and open each input before the function runs; seal
and upload each output after it returns (architecture §5, spec §7).

Plaintext exists only in one private directory per task: created with mode 0700 (on /dev/shm
when the node has it, so plaintext stays in memory) and removed when the run ends, whatever
the outcome. Each input's MAC is compared with its registered cmac before a byte of it is
decrypted; an input that fails any check ends the task before the function starts, so no
output is ever uploaded from a run that saw a wrong input.

Outputs are all sealed before the first upload, so a function that forgot an output uploads
nothing. Uploads then run in order; if one fails, the cmacs of those already uploaded are
still reported, because their ciphertext now exists under the record's key (see the
scheduler's `_outputs` for why a written output must never be written again).

teaclave-file-128 files store a file name, which Teaclave sets to the last segment of the
file's URL path and checks on reading; Gaiwan does the same (data: URLs have no path segments,
so their name is not checked).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from ... import crypto
from ...executors import CancelEvent, FileRef, FunctionError
from ...transport import Transport

SHM = Path("/dev/shm")


def label(kind: str, ref: FileRef) -> str:
    """How errors name a file: by the function's name for it, never by its URL."""
    return f"{kind} {ref.name!r}"


def stored_name(url: str) -> str | None:
    """The teaclave-file-128 file name for a URL: its last path segment (None for data:)."""
    parts = urlsplit(url)
    if parts.scheme.lower() == "data":
        return None
    return parts.path.rsplit("/", 1)[-1]


@contextmanager
def private_dir() -> Iterator[Path]:
    """A directory only this node's user can enter, removed on exit even after a failure."""
    base = str(SHM) if SHM.is_dir() and os.access(SHM, os.W_OK | os.X_OK) else None
    path = Path(tempfile.mkdtemp(prefix="gaiwan-task-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def open_inputs(inputs: tuple[FileRef, ...], transport: Transport, work: Path,
                cancel: CancelEvent) -> dict[str, Path]:
    """Fetches, checks and decrypts every input; name -> plaintext path."""
    paths: dict[str, Path] = {}
    for index, ref in enumerate(inputs):
        if cancel.is_set():
            raise FunctionError("stopped")
        what = label("input", ref)
        sealed, plain = work / f"in-{index}.sealed", work / f"in-{index}"
        with open(sealed, "w+b") as src:
            transport.fetch(ref.url, src, what)
            src.seek(0)
            name = stored_name(ref.url) if ref.schema == crypto.TEACLAVE_FILE_128 else None
            with open(plain, "xb") as dst:
                try:
                    crypto.decrypt(ref.schema, ref.key, ref.iv, src, dst, ref.cmac, name)
                except crypto.FileCryptoError as exc:
                    raise FunctionError(f"{what}: {exc.message}") from None
        sealed.unlink()
        paths[ref.name] = plain
    return paths


def output_paths(outputs: tuple[FileRef, ...], work: Path) -> dict[str, Path]:
    """Where the function writes each output's plaintext (files it creates itself)."""
    return {ref.name: work / f"out-{index}" for index, ref in enumerate(outputs)}


def seal_outputs(outputs: tuple[FileRef, ...], plain: Mapping[str, Path]) -> list[tuple[FileRef, Path, bytes]]:
    """Encrypts every output with its registered crypto info: (ref, sealed path, cmac) each."""
    sealed = []
    for ref in outputs:
        what = label("output", ref)
        src = plain[ref.name]
        if not src.is_file():
            raise FunctionError(f"{what}: the function did not write it")
        dst = src.with_name(src.name + ".sealed")
        name = stored_name(ref.url) or ""  # used by teaclave-file-128 only
        with open(src, "rb") as fin, open(dst, "xb") as fout:
            try:
                cmac = crypto.encrypt(ref.schema, ref.key, ref.iv, fin, fout, name)
            except crypto.FileCryptoError as exc:
                raise FunctionError(f"{what}: {exc.message}") from None
        src.unlink()
        sealed.append((ref, dst, cmac))
    return sealed


class UploadError(FunctionError):
    """An upload failed after `written` (output name -> cmac) were already uploaded."""

    def __init__(self, reason: str, written: dict[str, bytes]) -> None:
        super().__init__(reason)
        self.written = written


def upload_outputs(sealed: list[tuple[FileRef, Path, bytes]], transport: Transport,
                   cancel: CancelEvent) -> dict[str, bytes]:
    """Uploads each sealed output in turn; output name -> cmac of every one uploaded."""
    written: dict[str, bytes] = {}
    for ref, path, cmac in sealed:
        if cancel.is_set():
            raise UploadError("stopped", written)
        try:
            transport.upload(path, ref.url, label("output", ref))
        except FunctionError as exc:
            raise UploadError(exc.reason, written) from None
        written[ref.name] = cmac
    return written
