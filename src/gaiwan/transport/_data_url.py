"""`data:` URLs (RFC 2397): `data:[<mediatype>][;base64],<data>`, decoded without I/O.

Inputs only: a data URL carries its bytes in the task record itself, so there is nowhere to
upload an output to.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_to_bytes


class DataUrlError(ValueError):
    """Not a well-formed data URL; the message never quotes the data."""


def decode(url: str) -> bytes:
    """The bytes a data URL carries (percent-decoded, then base64-decoded if marked so)."""
    scheme, sep, rest = url.partition(":")
    if scheme.lower() != "data" or not sep:
        raise DataUrlError("not a data: URL")
    header, comma, payload = rest.partition(",")
    if not comma:
        raise DataUrlError("data: URL without a comma before its data")
    params = [p.strip().lower() for p in header.split(";")]
    raw = unquote_to_bytes(payload)
    if params[-1] != "base64":
        return raw
    try:
        return base64.b64decode(b"".join(raw.split()), validate=True)
    except binascii.Error:
        raise DataUrlError("data: URL with malformed base64 data") from None
