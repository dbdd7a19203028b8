"""Certificate revocation for Intel's PKI: the root CA CRL and the PCK Platform/Processor CA CRLs.

Sources: "Intel SGX PCK Certificate and Certificate Revocation List Profile Specification" and
the PCS API (`/sgx/certification/v4/pckcrl?ca=processor|platform`, and the root CA CRL named in
the root's CRL distribution point). The root CA CRL lists revoked intermediate CAs and TCB
signing certificates; a PCK CA's CRL lists revoked PCK certificates.

Each certificate of a chain (the root excepted) must be covered by a CRL from its issuer: a CRL
whose issuer name is the certificate's issuer, signed by that issuer's key, current at the time of
verification (thisUpdate <= at <= nextUpdate). Without one its status is unknown and the chain is
refused, since a verifier that skips a missing CRL is one an attacker can blind by withholding it.
CRLs are read as DER, PEM or hex-encoded DER (the PCS and its caches serve all three).
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from datetime import datetime

from cryptography import x509

from ..errors import AttestationError
from .chain import issued_by


def _name(name: x509.Name) -> str:
    return name.rfc4514_string()


def load_crl(data: bytes, what: str) -> x509.CertificateRevocationList:
    """A CRL given as PEM, DER or hex-encoded DER."""
    text = data.strip()
    try:
        if text.startswith(b"-----BEGIN"):
            return x509.load_pem_x509_crl(text)
        if text and all(c in b"0123456789abcdefABCDEF" for c in text):
            return x509.load_der_x509_crl(binascii.unhexlify(text))
        return x509.load_der_x509_crl(data)
    except ValueError:
        raise AttestationError(f"{what} is not a PEM, DER or hex DER CRL") from None


def check_crl(crl: x509.CertificateRevocationList, issuer: x509.Certificate,
              at: datetime) -> None:
    """Raises unless `crl` is signed by `issuer`'s key and current at `at`."""
    who = _name(issuer.subject)
    if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
        raise AttestationError(f"CRL of {who} does not verify with that CA's key")
    if crl.last_update_utc > at:
        raise AttestationError(
            f"CRL of {who} is not valid yet at {at.isoformat()} "
            f"(thisUpdate {crl.last_update_utc.isoformat()})")
    next_update = crl.next_update_utc
    if next_update is None or next_update < at:
        raise AttestationError(
            f"CRL of {who} expired at "
            f"{next_update.isoformat() if next_update else '(no nextUpdate)'}")


def _links(chain: Sequence[x509.Certificate],
           root: x509.Certificate) -> list[tuple[x509.Certificate, x509.Certificate]]:
    """(certificate, issuer) pairs from the leaf to the root, walked as chain.verify_chain does:
    certificates listed after the one the root issued play no part and are not checked."""
    links = []
    current, rest = chain[0], list(chain[1:])
    while current != root:
        if issued_by(current, root):
            links.append((current, root))
            break
        if not rest:
            raise AttestationError(f"certificate {_name(current.subject)} does not chain to the root")
        links.append((current, rest[0]))
        current = rest.pop(0)
    return links


def check_not_revoked(chain: Sequence[x509.Certificate], root: x509.Certificate,
                      crls: Sequence[x509.CertificateRevocationList], at: datetime,
                      what: str) -> None:
    """Raises unless every certificate of an already verified `chain` is covered and not revoked.

    The message names the revoked certificate (subject and serial) and the chain it was in.
    """
    for cert, issuer in _links(chain, root):
        covering = [crl for crl in crls if crl.issuer == issuer.subject]
        if not covering:
            raise AttestationError(
                f"{what}: no CRL from {_name(issuer.subject)}, so whether "
                f"{_name(cert.subject)} is revoked is unknown")
        for crl in covering:
            check_crl(crl, issuer, at)
            entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
            if entry is not None:
                raise AttestationError(
                    f"{what}: certificate {_name(cert.subject)} (serial "
                    f"{cert.serial_number:x}) is revoked by {_name(issuer.subject)} since "
                    f"{entry.revocation_date_utc.isoformat()}")
