"""fusion:// files in a real (LMDB) store: chunked round trips, write-once, a file invisible until
its manifest is written, size limits, damage and an unavailable store, each named clearly."""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gaiwan.errors import ConfigError, Unavailable
from gaiwan.storage import LocalStorage
from gaiwan.transport import FusionStore, Limits, Transport, TransportError

from .conftest import LIMITS, MAX_CHUNK, MAX_MESSAGE

IN = "input 'model'"
OUT = "output 'model'"
NAME = "1b2c3d4e-aaaa-bbbb-cccc-000000000000.fusion"
URL = f"fusion:///{NAME}"


def _fetch(transport: Transport, url: str = URL) -> bytes:
    dst = io.BytesIO()
    size = transport.fetch(url, dst, IN)
    assert size == len(dst.getvalue())
    return dst.getvalue()


def _file(tmp_path: Path, data: bytes, name: str = "sealed") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _keys(storage: LocalStorage, name: str = NAME) -> list[bytes]:
    return [item.key for item in storage.scan(f"fusion/{name}/".encode())]


def _refused(call: Callable[[], object], problem: str) -> TransportError:
    """The call fails with the problem, naming the file by label only (never by location)."""
    with pytest.raises(TransportError, match=problem) as err:
        call()
    assert NAME not in err.value.reason and "fusion/" not in err.value.reason
    return err.value


@pytest.mark.parametrize("size", [0, 1, MAX_CHUNK - 1, MAX_CHUNK, MAX_CHUNK + 1,
                                  13 * MAX_CHUNK + 5, LIMITS.max_bytes])
def test_round_trip_in_chunks(transport, storage, tmp_path, size):
    """Any size up to the limit reads back as written: one key per chunk and a manifest (an
    empty file is a manifest alone), read back over several batches for the larger files."""
    data = os.urandom(size)
    transport.upload(_file(tmp_path, data), URL, OUT)
    assert _fetch(transport) == data
    chunks = -(-size // MAX_CHUNK)
    assert len(_keys(storage)) == chunks + 1


def test_write_once(transport, storage, tmp_path):
    """A second upload to the same location is refused and changes nothing."""
    transport.upload(_file(tmp_path, b"first" * 2000), URL, OUT)
    before = _keys(storage)
    _refused(lambda: transport.upload(_file(tmp_path, b"second", "other"), URL, OUT),
             "file already exists; outputs are never overwritten")
    assert _fetch(transport) == b"first" * 2000
    assert _keys(storage) == before


def test_missing_file(transport):
    """A location nobody wrote is refused as missing."""
    _refused(lambda: _fetch(transport), f"^{IN}: file does not exist$")


@pytest.mark.parametrize("url", ["fusion:///../escape", "fusion://host/x.fusion",
                                 "fusion:///a/b.fusion", "fusion:///.hidden", "fusion:///",
                                 "fusion:///x.fusion?y=1", "fusion:///" + "a" * 202])
def test_malformed_locations(transport, tmp_path, url):
    """Fusion locations are one plain name, nothing that could reach another key."""
    with pytest.raises(TransportError, match="malformed fusion:// location"):
        _fetch(transport, url)
    with pytest.raises(TransportError, match="malformed fusion:// location"):
        transport.upload(_file(tmp_path, b"x"), url, OUT)


def test_unavailable_without_store(tmp_path):
    """A transport without a fusion store refuses fusion:// clearly, both ways."""
    bare = Transport(LIMITS)
    _refused(lambda: bare.fetch(URL, io.BytesIO(), IN), "fusion storage is not available")
    _refused(lambda: bare.upload(_file(tmp_path, b"x"), URL, OUT),
             "fusion storage is not available")


def test_storage_unavailable(tmp_path):
    """A store that stopped answering fails the transfer as unavailable, both ways."""
    storage = LocalStorage.open(tmp_path / "gone", role="execution")
    transport = Transport(LIMITS, FusionStore(storage, MAX_MESSAGE, MAX_CHUNK))
    storage.close()
    _refused(lambda: _fetch(transport), f"^{IN}: fusion storage is unavailable$")
    _refused(lambda: transport.upload(_file(tmp_path, b"x"), URL, OUT),
             f"^{OUT}: fusion storage is unavailable$")


def test_output_over_the_size_limit_is_refused_before_storing(transport, storage, tmp_path):
    """An output larger than the limit is refused and nothing is stored."""
    _refused(lambda: transport.upload(_file(tmp_path, b"x" * (LIMITS.max_bytes + 1)), URL, OUT),
             "size limit")
    assert _keys(storage) == []


def test_input_over_the_readers_size_limit(storage, transport, tmp_path):
    """A node with a lower limit refuses a stored file larger than it, from its manifest."""
    transport.upload(_file(tmp_path, b"x" * 5000), URL, OUT)
    small = Transport(Limits(max_bytes=4999), FusionStore(storage, MAX_MESSAGE, MAX_CHUNK))
    _refused(lambda: _fetch(small), "size limit of 4999 bytes")


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    """A named pipe as an output file: its writer decides when the upload may go on."""
    path = tmp_path / "pipe"
    os.mkfifo(path)
    yield path


def _upload_in_background(transport: Transport, src: Path) -> tuple[threading.Thread, list]:
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            transport.upload(src, URL, OUT)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_half_written_file_is_invisible(transport, storage, fifo):
    """While chunks are being stored the file does not exist for readers; it appears whole."""
    thread, outcome = _upload_in_background(transport, fifo)
    data = os.urandom(3 * MAX_CHUNK + 10)
    with open(fifo, "wb") as pipe:
        pipe.write(data[:2 * MAX_CHUNK])
        pipe.flush()
        _until(lambda: len(_keys(storage)) == 2)
        _refused(lambda: _fetch(transport), "file does not exist")
        pipe.write(data[2 * MAX_CHUNK:])
    thread.join(10)
    assert outcome == [None]
    assert _fetch(transport) == data


def test_racing_writer_loses_and_leaves_nothing(transport, storage, fifo, tmp_path):
    """When another upload completes first, the slower one is refused at its next chunk and
    its chunks are removed: the file is the winner's alone."""
    thread, outcome = _upload_in_background(transport, fifo)
    with open(fifo, "wb") as pipe:
        pipe.write(b"a" * 2 * MAX_CHUNK)
        pipe.flush()
        _until(lambda: len(_keys(storage)) == 2)
        winner = b"b" * (MAX_CHUNK + 1)
        transport.upload(_file(tmp_path, winner), URL, OUT)
        try:
            pipe.write(b"a" * MAX_CHUNK)
        except BrokenPipeError:
            pass  # the loser stopped reading already
    thread.join(10)
    assert isinstance(outcome[0], TransportError)
    assert "never overwritten" in outcome[0].reason
    assert _fetch(transport) == winner
    assert len(_keys(storage)) == 2 + 1  # the winner's two chunks and its manifest


def _dead_upload(storage: LocalStorage, name: str, upload: str, chunks: int) -> list[bytes]:
    """What a writer that died mid-file leaves: chunks of its upload and no manifest."""
    keys = [f"fusion/{name}/{upload}/{i:08d}".encode() for i in range(chunks)]
    for start in range(0, chunks, 500):
        storage.transact(writes=dict.fromkeys(keys[start:start + 500], b"c" * 16))
    return keys


def test_the_winner_removes_what_dead_writers_left(transport, storage, tmp_path):
    """Chunks of earlier uploads that never got a manifest (more than one listing page of
    them) are deleted once a complete file is written; other files' chunks are untouched."""
    _dead_upload(storage, NAME, "00000000000000aa", 1100)
    _dead_upload(storage, NAME, "ffffffffffffffff", 3)
    other = _dead_upload(storage, "other.fusion", "00000000000000aa", 2)
    data = os.urandom(2 * MAX_CHUNK + 1)
    transport.upload(_file(tmp_path, data), URL, OUT)
    assert len(_keys(storage)) == 3 + 1 and _fetch(transport) == data
    assert _keys(storage, "other.fusion") == other


def test_a_failed_clean_up_does_not_fail_the_file(storage, tmp_path):
    """The file is complete before the clean-up starts: storage failing then loses only space."""

    class ScanFails:
        def __getattr__(self, attr: str) -> object:
            return getattr(storage, attr)

        def scan(self, *_: object, **__: object) -> list:  # type: ignore[type-arg]
            raise Unavailable("storage went away")

    left = _dead_upload(storage, NAME, "00000000000000aa", 2)
    transport = Transport(LIMITS, FusionStore(ScanFails(), MAX_MESSAGE, MAX_CHUNK))
    data = os.urandom(MAX_CHUNK + 1)
    transport.upload(_file(tmp_path, data), URL, OUT)
    assert _fetch(transport) == data
    assert set(left) <= set(_keys(storage))


def test_output_growing_past_the_limit_leaves_nothing(transport, storage, fifo):
    """An output that grows past the limit while it is stored is refused; its chunks go."""
    thread, outcome = _upload_in_background(transport, fifo)
    with open(fifo, "wb") as pipe:
        try:
            pipe.write(b"x" * (LIMITS.max_bytes + MAX_CHUNK))
        except BrokenPipeError:
            pass
    thread.join(10)
    assert isinstance(outcome[0], TransportError) and "size limit" in outcome[0].reason
    assert _keys(storage) == []
    _refused(lambda: _fetch(transport), "file does not exist")


def test_damaged_files_are_refused(transport, storage, tmp_path):
    """A missing or truncated chunk, or a manifest that is not one, fails the read clearly."""
    transport.upload(_file(tmp_path, os.urandom(3 * MAX_CHUNK)), URL, OUT)
    chunk = next(k for k in _keys(storage) if not k.endswith(b"/manifest"))
    storage.put(chunk, b"short")
    _refused(lambda: _fetch(transport), "damaged .a chunk is missing")
    storage.delete(chunk)
    _refused(lambda: _fetch(transport), "damaged .a chunk is missing")
    storage.put(f"fusion/{NAME}/manifest".encode(), b'{"size": 3}')
    _refused(lambda: _fetch(transport), "damaged .unreadable manifest")


def test_message_limit_too_small_for_chunks(storage):
    """A message limit that leaves no room for a chunk is a configuration error at start."""
    with pytest.raises(ConfigError, match="max_message_bytes"):
        FusionStore(storage, 4096)
    assert FusionStore(storage, 4 << 20).chunk_bytes == 1 << 20
    assert FusionStore(storage, 1 << 20).chunk_bytes < 1 << 20
