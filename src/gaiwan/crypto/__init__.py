"""File cryptography of Gaiwan: the four `FileCryptoInfo` schemas of Teaclave (spec §7)."""

from .errors import FileCryptoError
from .schemas import (
    AES_GCM_128,
    AES_GCM_256,
    RAW,
    SCHEMAS,
    TEACLAVE_FILE_128,
    check_crypto_info,
    decrypt,
    decrypt_file,
    encrypt,
    encrypt_file,
    read_cmac,
)

__all__ = [
    "AES_GCM_128",
    "AES_GCM_256",
    "RAW",
    "SCHEMAS",
    "TEACLAVE_FILE_128",
    "FileCryptoError",
    "check_crypto_info",
    "decrypt",
    "decrypt_file",
    "encrypt",
    "encrypt_file",
    "read_cmac",
]
