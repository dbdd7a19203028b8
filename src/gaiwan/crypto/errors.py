"""Why a file could not be opened, as one error type with a reason that never includes key bytes
or plaintext."""

from __future__ import annotations

from ..errors import InvalidArgument


class FileCryptoError(InvalidArgument):
    """The file is not in the claimed format, was tampered with, or the key is wrong."""
