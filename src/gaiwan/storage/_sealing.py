"""Sealing of everything the storage engines hold: AES-256-GCM under the storage sealing key.

Each value is bound to where it lives through the AAD (the key bytes for values; the queue name
and item id for queue items, each under its own domain tag so the two can never be confused), so
a ciphertext copied to another key, or from a queue into the key space, fails to open instead of
being served as someone else's data. A fresh random 96-bit nonce per write is safe well past any
number of writes one platform makes under one key (NIST SP 800-38D, 2^32 messages).

Sealed layout: one format byte, the 12-byte nonce, then ciphertext with its 16-byte tag. A queue
item that names records to be read with it (`QueueItem.read_with`) is sealed as format 2, whose
plaintext starts with those keys (a 2-byte count, then each key after its 2-byte length); format
1 items, and values, are the plaintext alone.
"""

from __future__ import annotations

import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import Internal

_FORMAT = b"\x01"
_FORMAT_ITEM_WITH_KEYS = b"\x02"
_COUNT = struct.Struct(">H")
_NONCE = 12
_OVERHEAD = 1 + _NONCE + 16


class SealedValueError(Internal):
    """A stored value failed to open: tampered on disk, moved, or sealed under another key."""


def _value_aad(key: bytes) -> bytes:
    return b"kv\x00" + key


def _item_aad(queue: str, item_id: int) -> bytes:
    return b"q\x00" + queue.encode() + b"\x00" + struct.pack(">Q", item_id)


class Sealer:
    """Seals and opens the storage engines' payloads; holds the only copy of the key in memory."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the storage sealing key must be 32 bytes (AES-256)")
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "Sealer(<key hidden>)"

    def _seal(self, plaintext: bytes, aad: bytes, form: bytes = _FORMAT) -> bytes:
        nonce = os.urandom(_NONCE)
        return form + nonce + self._aead.encrypt(nonce, plaintext, aad)

    def _open(self, sealed: bytes, aad: bytes, where: str,
              forms: tuple[bytes, ...] = (_FORMAT,)) -> bytes:
        if len(sealed) < _OVERHEAD or sealed[:1] not in forms:
            raise SealedValueError(f"stored {where} is not a sealed value")
        try:
            return self._aead.decrypt(sealed[1:1 + _NONCE], sealed[1 + _NONCE:], aad)
        except InvalidTag:
            raise SealedValueError(
                f"stored {where} failed to open (tampered, moved, or sealed under another key)"
            ) from None

    def seal_value(self, key: bytes, value: bytes) -> bytes:
        return self._seal(value, _value_aad(key))

    def open_value(self, key: bytes, sealed: bytes) -> bytes:
        return self._open(sealed, _value_aad(key), f"value of key {key[:64]!r}")

    def seal_item(self, queue: str, item_id: int, item: bytes,
                  read_with: tuple[bytes, ...] = ()) -> bytes:
        if not read_with:
            return self._seal(item, _item_aad(queue, item_id))
        keys = b"".join(_COUNT.pack(len(k)) + k for k in read_with)
        return self._seal(_COUNT.pack(len(read_with)) + keys + item, _item_aad(queue, item_id),
                          _FORMAT_ITEM_WITH_KEYS)

    def open_item(self, queue: str, item_id: int, sealed: bytes) -> tuple[bytes, tuple[bytes, ...]]:
        """The item and the keys it is to be read with."""
        where = f"item {item_id} of queue {queue!r}"
        plain = self._open(sealed, _item_aad(queue, item_id), where,
                           (_FORMAT, _FORMAT_ITEM_WITH_KEYS))
        if sealed[:1] == _FORMAT:
            return plain, ()
        try:
            (count,), at, keys = _COUNT.unpack_from(plain), _COUNT.size, []
            for _ in range(count):
                (size,) = _COUNT.unpack_from(plain, at)
                keys.append(plain[at + _COUNT.size:at + _COUNT.size + size])
                at += _COUNT.size + size
        except struct.error:
            raise SealedValueError(f"stored {where} is malformed") from None
        if at > len(plain):
            raise SealedValueError(f"stored {where} is malformed")
        return plain[at:], tuple(keys)
