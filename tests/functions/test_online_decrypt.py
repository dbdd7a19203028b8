"""builtin_online_decrypt."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gaiwan.executors._base import FunctionError
from gaiwan.functions import online_decrypt

from .calls import FakeCall

# Teaclave's own test vector for this built-in (AES-256-GCM, no additional data).
_TEACLAVE = {"key": "aqUdgZ0lJnuz9yiPkoDxM6ZcTcVVpd4KKLqzbHD88Lg=", "nonce": "AAECAwQFBgcICQoL",
             "encrypted_data": "CaZd8qSMMlBp8SjSXj2I4dQIuC9KkZ5DI/ATo1sWJw=="}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_teaclave_vector_aes256():
    """Teaclave's vector decrypts to its plaintext."""
    assert online_decrypt.run(FakeCall({**_TEACLAVE, "algorithm": "aes256gcm"})) == b"Hello Teaclave!"


def test_aes128_round_trip():
    """A 16-byte key with aes128gcm decrypts ciphertext || tag."""
    key, nonce = bytes(range(16)), bytes(12)
    sealed = AESGCM(key).encrypt(nonce, b"abc", None)
    call = FakeCall({"key": _b64(key), "nonce": _b64(nonce), "encrypted_data": _b64(sealed),
                     "algorithm": "aes128gcm"})
    assert online_decrypt.run(call) == b"abc"


def test_altered_data_fails():
    """A changed ciphertext fails authentication."""
    data = bytearray(base64.b64decode(_TEACLAVE["encrypted_data"]))
    data[0] ^= 1
    call = FakeCall({**_TEACLAVE, "encrypted_data": _b64(bytes(data)), "algorithm": "aes256gcm"})
    with pytest.raises(FunctionError, match="decryption failed"):
        online_decrypt.run(call)


def test_key_size_must_match_algorithm():
    """A 32-byte key is refused for aes128gcm."""
    with pytest.raises(FunctionError, match="16 bytes"):
        online_decrypt.run(FakeCall({**_TEACLAVE, "algorithm": "aes128gcm"}))


def test_unknown_algorithm_and_bad_base64():
    """Only aes128gcm and aes256gcm exist; arguments must be base64."""
    with pytest.raises(FunctionError, match="algorithm"):
        online_decrypt.run(FakeCall({**_TEACLAVE, "algorithm": "des"}))
    with pytest.raises(FunctionError, match="argument nonce is not base64"):
        online_decrypt.run(FakeCall({**_TEACLAVE, "nonce": "***", "algorithm": "aes256gcm"}))
