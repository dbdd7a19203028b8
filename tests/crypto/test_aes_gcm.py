"""aes-gcm-128/256 file schemas against the Teaclave vectors."""

from __future__ import annotations

import base64
import io
import os

import pytest

from gaiwan.crypto import FileCryptoError, aes_gcm
from tests.fixtures import teaclave_fixture


def _decrypt(schema: str, key: bytes, iv: bytes, blob: bytes) -> tuple[bytes, bytes]:
    out = io.BytesIO()
    tag = aes_gcm.decrypt_stream(schema, key, iv, io.BytesIO(blob), out)
    return out.getvalue(), tag


def _encrypt(schema: str, key: bytes, iv: bytes, data: bytes) -> tuple[bytes, bytes]:
    out = io.BytesIO()
    tag = aes_gcm.encrypt_stream(schema, key, iv, io.BytesIO(data), out)
    return out.getvalue(), tag


def test_gbdt_training_vector_both_directions() -> None:
    """train.aes_gcm_128 (key zero, iv 01×12) decrypts to train.txt and re-encrypts identically."""
    blob = teaclave_fixture("functions/gbdt_training/train.aes_gcm_128").read_bytes()
    plain = teaclave_fixture("functions/gbdt_training/train.txt").read_bytes()
    key, iv = bytes(16), bytes([1]) * 12
    assert _decrypt("aes-gcm-128", key, iv, blob) == (plain, bytes.fromhex("592f1e607649d89ff2aa8a2841a57cad"))
    assert _encrypt("aes-gcm-128", key, iv, plain)[0] == blob


def test_fusion_input_tag_vector() -> None:
    """fusion/input1.txt with key 00..01 and iv 1234…78 gives the documented tag."""
    plain = teaclave_fixture("fusion/input1.txt").read_bytes()
    _, tag = _encrypt("aes-gcm-128", bytes(15) + b"\x01", bytes.fromhex("123456781234567812345678"), plain)
    assert tag.hex() == "e8afd048b339fc835733e16c761a301c"


def test_password_vector() -> None:
    """'password' under the all-zero key and iv is the documented base64 string."""
    blob, tag = _encrypt("aes-gcm-128", bytes(16), bytes(12), b"password")
    assert base64.b64encode(blob).decode() == "c+mpvRfZ0fboR0j3rTgOGDBiubSzlCt9"
    assert tag.hex() == "e84748f7ad380e183062b9b4b3942b7d"


@pytest.mark.parametrize("schema,key_size", [("aes-gcm-128", 16), ("aes-gcm-256", 32)])
@pytest.mark.parametrize("size", [0, 1, aes_gcm.CHUNK - 1, aes_gcm.CHUNK, 3 * aes_gcm.CHUNK + 17])
def test_round_trip(schema: str, key_size: int, size: int) -> None:
    """Random sizes round-trip around the streaming chunk size."""
    key, iv, data = os.urandom(key_size), os.urandom(12), os.urandom(size)
    blob, tag = _encrypt(schema, key, iv, data)
    assert len(blob) == size + 16 and blob[-16:] == tag
    assert _decrypt(schema, key, iv, blob) == (data, tag)


@pytest.mark.parametrize("mutate", [
    lambda b: bytes([b[0] ^ 1]) + b[1:],            # ciphertext
    lambda b: b[:-1] + bytes([b[-1] ^ 1]),          # tag
    lambda b: b[:-17] + b[-16:],                    # truncated ciphertext
])
def test_tampering_is_detected(mutate) -> None:  # type: ignore[no-untyped-def]
    """A changed ciphertext byte, tag byte or a truncated file fails authentication."""
    key, iv = os.urandom(16), os.urandom(12)
    blob, _ = _encrypt("aes-gcm-128", key, iv, os.urandom(1000))
    with pytest.raises(FileCryptoError, match="authentication failed"):
        _decrypt("aes-gcm-128", key, iv, mutate(blob))


def test_wrong_key_short_file_and_bad_params() -> None:
    """Wrong key, a file shorter than a tag, and wrong key/iv sizes are refused."""
    key, iv = os.urandom(16), os.urandom(12)
    blob, _ = _encrypt("aes-gcm-128", key, iv, b"rows")
    with pytest.raises(FileCryptoError, match="authentication failed"):
        _decrypt("aes-gcm-128", os.urandom(16), iv, blob)
    with pytest.raises(FileCryptoError, match="too short"):
        _decrypt("aes-gcm-128", key, iv, b"123")
    with pytest.raises(FileCryptoError, match="32-byte key"):
        _encrypt("aes-gcm-256", key, iv, b"x")
    with pytest.raises(FileCryptoError, match="12-byte iv"):
        _encrypt("aes-gcm-128", key, bytes(16), b"x")
