"""The data owner's file flows against a real file server and real files: keys, sealing,
uploads, and opening outputs only after their MAC matches the registered cmac."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from gaiwan import crypto
from gaiwan.client import DATA_SCHEMAS, DataFile, FileKey, TransferError
from gaiwan.client._data import download_and_open, seal_and_upload
from gaiwan.errors import FailedPrecondition, InvalidArgument
from gaiwan.transport.server import FileServer

PLAIN = b"id-1 : 100\nid-2 : 250\n" * 500


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FileServer]:
    root = tmp_path / "served"
    root.mkdir()
    srv = FileServer(root).start()
    yield srv
    srv.stop()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "plain.txt"
    path.write_bytes(PLAIN)
    return path


@pytest.mark.parametrize("schema", DATA_SCHEMAS)
def test_generated_keys_are_fresh_and_fit_the_schema(schema: str) -> None:
    """Each key (and iv) is new and of the length the schema checks for."""
    first, second = FileKey.generate(schema), FileKey.generate(schema)
    crypto.check_crypto_info(schema, first.key, first.iv, output=True)
    assert first.key != second.key
    assert first.iv == second.iv == b"" if schema == crypto.TEACLAVE_FILE_128 else first.iv != second.iv


def test_raw_and_unknown_schemas_cannot_seal() -> None:
    """`raw` would upload plaintext; unknown names are refused too."""
    for schema in ("raw", "rot13"):
        with pytest.raises(InvalidArgument, match="cannot seal"):
            FileKey.generate(schema)


def test_repr_never_shows_key_iv_or_url() -> None:
    """Keys and URLs (which may hold credentials) stay out of reprs and so out of logs."""
    key = FileKey.generate("aes-gcm-128")
    data = DataFile("output-1", "http://user:secret@host/x", key)
    text = repr(data)
    assert key.key.hex() not in text and key.iv.hex() not in text and "secret" not in text


def test_key_file_is_private_and_round_trips(tmp_path: Path) -> None:
    """The key file is created 0600 as JSON and reads back to the same DataFile."""
    data = DataFile("input-1", "file:///tmp/x.enc", FileKey.generate("aes-gcm-256"))
    path = tmp_path / "x.key.json"
    data.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["schema"] == "aes-gcm-256"
    assert DataFile.load(path) == data


def test_key_file_is_never_overwritten(tmp_path: Path) -> None:
    """Saving over an existing key file fails and leaves it as it was."""
    path = tmp_path / "k.json"
    path.write_text("keep")
    with pytest.raises(FileExistsError):
        DataFile("input-1", "file:///x", FileKey.generate()).save(path)
    assert path.read_text() == "keep"


@pytest.mark.parametrize("text", ["not json", "{}", '{"data_id": "a", "url": "u", "schema": "aes-gcm-128", "key": "zz"}'])
def test_malformed_key_file_is_refused(tmp_path: Path, text: str) -> None:
    """A file that is not a complete key file is an InvalidArgument, not a crash."""
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(InvalidArgument, match="key file"):
        DataFile.load(path)


@pytest.mark.parametrize("schema", DATA_SCHEMAS)
def test_sealed_upload_opens_with_its_cmac(schema: str, server: FileServer, source: Path,
                                           tmp_path: Path) -> None:
    """Upload by PUT stores ciphertext only; fetching with the returned cmac gives the plaintext."""
    key = FileKey.generate(schema)
    url = f"{server.url}/in/data.enc"
    cmac = seal_and_upload(source, url, key)
    stored = (server.root / "in" / "data.enc").read_bytes()
    assert PLAIN[:64] not in stored
    download_and_open(DataFile("output-1", url, key), cmac, tmp_path / "out.txt")
    assert (tmp_path / "out.txt").read_bytes() == PLAIN


def test_file_url_upload_and_fetch(source: Path, tmp_path: Path) -> None:
    """file:// URLs work both ways and keep the stored teaclave-file-128 name."""
    key = FileKey.generate(crypto.TEACLAVE_FILE_128)
    url = (tmp_path / "local.enc").as_uri()
    cmac = seal_and_upload(source, url, key)
    download_and_open(DataFile("output-1", url, key), cmac, tmp_path / "local.txt")
    assert (tmp_path / "local.txt").read_bytes() == PLAIN


def test_upload_never_replaces_a_file(server: FileServer, source: Path) -> None:
    """A URL that already holds a file refuses the upload (409), naming no URL."""
    (server.root / "taken").write_bytes(b"theirs")
    with pytest.raises(TransferError, match="409") as err:
        seal_and_upload(source, f"{server.url}/taken", FileKey.generate())
    assert server.url not in err.value.message
    assert (server.root / "taken").read_bytes() == b"theirs"


def test_fetch_of_a_missing_file_is_a_transfer_error(server: FileServer, tmp_path: Path) -> None:
    """A 404 is reported as such and leaves no output behind."""
    data = DataFile("output-1", f"{server.url}/missing", FileKey.generate())
    with pytest.raises(TransferError, match="404"):
        download_and_open(data, bytes(16), tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("schema", DATA_SCHEMAS)
def test_swapped_file_is_refused_before_decrypting(schema: str, server: FileServer, source: Path,
                                                   tmp_path: Path) -> None:
    """A file other than the one the platform recorded fails the cmac check; nothing is written."""
    key = FileKey.generate(schema)
    url = f"{server.url}/swap.enc"
    seal_and_upload(source, url, key)
    with pytest.raises(crypto.FileCryptoError, match="does not match the registered cmac"):
        download_and_open(DataFile("output-1", url, key), bytes(16), tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".gaiwan-")] == []


def test_tampered_body_with_the_right_mac_is_refused(server: FileServer, source: Path,
                                                     tmp_path: Path) -> None:
    """Flipping a ciphertext byte but keeping the tag fails authentication; nothing is written."""
    key = FileKey.generate("aes-gcm-128")
    url = f"{server.url}/flip.enc"
    cmac = seal_and_upload(source, url, key)
    path = server.root / "flip.enc"
    body = bytearray(path.read_bytes())
    body[10] ^= 1
    path.write_bytes(bytes(body))
    with pytest.raises(crypto.FileCryptoError, match="authentication failed"):
        download_and_open(DataFile("output-1", url, key), cmac, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_unwritten_output_and_existing_destination_are_refused(tmp_path: Path) -> None:
    """An empty cmac means no task wrote the output yet; an existing destination is kept."""
    data = DataFile("output-1", "file:///nowhere", FileKey.generate())
    with pytest.raises(FailedPrecondition, match="not been written"):
        download_and_open(data, b"", tmp_path / "out")
    (tmp_path / "there").write_bytes(b"mine")
    with pytest.raises(InvalidArgument, match="exists"):
        download_and_open(data, bytes(16), tmp_path / "there")
    assert (tmp_path / "there").read_bytes() == b"mine"
    assert not os.path.exists(tmp_path / "out")
