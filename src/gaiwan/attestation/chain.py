"""Certificate chain checks for report-signing chains (sans-IO).

A Teaclave report chain is short (`certs[0]` is the signer, further entries are intermediates and
may repeat the root) and is not a TLS server chain, so a web-PKI path builder would impose name and
key-usage rules these chains never had. Instead each link is checked explicitly: issuer name,
signature by the next certificate, CA basic constraints on every issuer, and validity at a given
time, which is a parameter so published vectors from past years can be checked at their own time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from ..errors import AttestationError

_PEM_END = b"-----END CERTIFICATE-----"


def load_certificate(data: bytes) -> x509.Certificate:
    """A certificate given as PEM or DER (Teaclave ships its roots in both)."""
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise AttestationError("not a PEM or DER certificate") from None


def _subject(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


def _check_time(cert: x509.Certificate, at: datetime) -> None:
    if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
        raise AttestationError(
            f"certificate {_subject(cert)} is not valid at {at.isoformat()} "
            f"(valid {cert.not_valid_before_utc.isoformat()} to {cert.not_valid_after_utc.isoformat()})")


def _check_issued(child: x509.Certificate, issuer: x509.Certificate) -> None:
    try:
        constraints = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is not None and not constraints.ca:
        raise AttestationError(f"certificate {_subject(issuer)} is not a CA")
    try:
        child.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        raise AttestationError(
            f"certificate {_subject(child)} is not signed by {_subject(issuer)}") from None


def verify_chain(certs: Sequence[x509.Certificate], root: x509.Certificate,
                 at: datetime | None = None) -> None:
    """Raises unless certs[0] chains through certs[1:] to `root`, all valid at `at` (default now)."""
    if not certs:
        raise AttestationError("report has no signing certificate")
    when = at or datetime.now(timezone.utc)
    _check_time(root, when)
    current, rest = certs[0], list(certs[1:])
    while current != root:
        _check_time(current, when)
        if issued_by(current, root):
            return
        if not rest:
            raise AttestationError(
                f"certificate {_subject(current)} does not chain to the attestation root CA "
                f"{_subject(root)}")
        issuer = rest.pop(0)
        _check_issued(current, issuer)
        current = issuer


def verify_named_chain(certs: Sequence[x509.Certificate], root: x509.Certificate,
                       at: datetime, what: str) -> None:
    """verify_chain, its refusal prefixed with which chain it was (`what`)."""
    try:
        verify_chain(certs, root, at)
    except AttestationError as exc:
        raise AttestationError(f"{what}: {exc.message}") from None


def issued_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether `issuer` is a CA and its key signed `child`."""
    try:
        _check_issued(child, issuer)
    except AttestationError:
        return False
    return True


def split_pem_chain(pem: bytes, what: str) -> list[x509.Certificate]:
    """The certificates of a concatenated PEM chain, in order; NUL padding is ignored."""
    blocks = [b + _PEM_END for b in pem.rstrip(b"\x00").split(_PEM_END) if b.strip()]
    if not blocks:
        raise AttestationError(f"{what} holds no certificate")
    try:
        return [load_certificate(block.strip()) for block in blocks]
    except AttestationError:
        raise AttestationError(f"{what} holds a malformed certificate") from None
