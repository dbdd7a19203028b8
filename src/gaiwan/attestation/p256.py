"""Raw P-256 keys and signatures as Intel's quotes and collateral carry them (sans-IO).

Intel writes ECDSA P-256 keys as X||Y (64 bytes, the SEC1 uncompressed point without its 0x04
prefix) and signatures as r||s (two 32-byte big-endian integers); `cryptography` wants SEC1
points and DER signatures. These helpers convert and verify, raising AttestationError.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ..errors import AttestationError


def p256_public_key(raw: bytes, what: str) -> ec.EllipticCurvePublicKey:
    """A P-256 key from its raw 64-byte X||Y form."""
    if len(raw) != 64:
        raise AttestationError(f"{what} is {len(raw)} bytes, expected 64 (X||Y)")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + raw)
    except ValueError:
        raise AttestationError(f"{what} is not a point on P-256") from None


def require_p256(key: object, what: str) -> ec.EllipticCurvePublicKey:
    """`key` (a certificate's public key) when it is a P-256 key; else AttestationError."""
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise AttestationError(f"{what} does not hold a P-256 key")
    return key


def verify_raw_signature(key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes,
                         what: str) -> None:
    """Raises unless `signature` (r||s, 64 bytes) is an ECDSA SHA-256 signature of `data`."""
    if len(signature) != 64:
        raise AttestationError(f"{what} is {len(signature)} bytes, expected 64 (r||s)")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                               int.from_bytes(signature[32:], "big"))
    try:
        key.verify(der, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise AttestationError(f"{what} does not verify") from None
