"""builtin_online_decrypt: decrypts an AES-GCM message given in the arguments (spec §8).

`key`, `nonce` (12 bytes) and `encrypted_data` are base64; `encrypted_data` is the ciphertext
followed by the 16-byte tag, and there is no additional authenticated data, as in Teaclave's
built-in (whose own test vector is used in Gaiwan's tests). `algorithm` is `aes128gcm` (16-byte
key) or `aes256gcm` (32-byte key). The plaintext is returned as is.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..executors._base import FunctionError
from ._api import FunctionCall

NAME = "builtin_online_decrypt"

_KEY_SIZES = {"aes128gcm": 16, "aes256gcm": 32}
_NONCE_SIZE = 12


def run(call: FunctionCall) -> bytes:
    key_size = _KEY_SIZES.get(call.argument("algorithm"))
    if key_size is None:
        raise FunctionError("argument algorithm must be aes128gcm or aes256gcm")
    key = _base64(call, "key")
    nonce = _base64(call, "nonce")
    data = _base64(call, "encrypted_data")
    if len(key) != key_size:
        raise FunctionError(f"argument key must be {key_size} bytes for this algorithm")
    if len(nonce) != _NONCE_SIZE:
        raise FunctionError(f"argument nonce must be {_NONCE_SIZE} bytes")
    try:
        return AESGCM(key).decrypt(nonce, data, None)
    except InvalidTag:
        raise FunctionError("decryption failed: wrong key or nonce, or the data was altered") from None


def _base64(call: FunctionCall, name: str) -> bytes:
    try:
        return base64.b64decode(call.argument(name), validate=True)
    except (binascii.Error, ValueError):
        raise FunctionError(f"argument {name} is not base64") from None
