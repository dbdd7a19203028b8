"""The endorsed attestation report in Teaclave v0.6's format (sans-IO).

The attestation service vouches for a quote it verified by signing a JSON report
`{"id", "isvEnclaveQuoteBody", "isvEnclaveQuoteStatus", "timestamp", "version": 4}` with its
report-signing key (RSA PKCS#1 v1.5 SHA-256), whose certificate chains to the attestation root CA.
Teaclave clients verify exactly that (spec §3). Gaiwan adds two marks, `gaiwanEvidenceType` and
`gaiwanMode`, so that a report vouching for simulated evidence says so wherever it travels;
Teaclave clients ignore unknown keys.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..errors import AttestationError
from .chain import load_certificate, verify_chain
from .quote import QuoteBody, parse_quote_body

REPORT_VERSION = 4
STATUS_OK = "OK"


@dataclass(frozen=True)
class ReportClaims:
    """What a verified report asserts. evidence_type/mode are empty for non-Gaiwan reports."""

    id: str
    timestamp: str
    version: int
    quote_status: str
    quote: QuoteBody
    evidence_type: str = ""
    mode: str = ""


def build_report(quote: QuoteBody, evidence_type: str, mode: str,
                 now: datetime | None = None) -> bytes:
    when = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    report = {
        "id": secrets.token_hex(16),
        "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "version": REPORT_VERSION,
        "isvEnclaveQuoteStatus": STATUS_OK,
        "isvEnclaveQuoteBody": base64.b64encode(quote.to_bytes()).decode(),
        "gaiwanEvidenceType": evidence_type,
        "gaiwanMode": mode,
    }
    return json.dumps(report, sort_keys=True, separators=(",", ":")).encode()


def sign_report(report: bytes, key: rsa.RSAPrivateKey) -> bytes:
    return key.sign(report, padding.PKCS1v15(), hashes.SHA256())


def parse_report(report: bytes) -> ReportClaims:
    """The claims of a report whose signature was already checked."""
    try:
        doc = json.loads(report)
    except (UnicodeDecodeError, ValueError):
        raise AttestationError("report is not JSON") from None
    if not isinstance(doc, dict):
        raise AttestationError("report is not a JSON object")
    for name, kind in (("id", str), ("timestamp", str), ("version", int),
                       ("isvEnclaveQuoteStatus", str), ("isvEnclaveQuoteBody", str)):
        if not isinstance(doc.get(name), kind):
            raise AttestationError(f"report field {name} is missing or not a {kind.__name__}")
    if doc["version"] != REPORT_VERSION:
        raise AttestationError(f"report version {doc['version']} is not {REPORT_VERSION}")
    try:
        body = base64.b64decode(doc["isvEnclaveQuoteBody"], validate=True)
    except (binascii.Error, ValueError):
        raise AttestationError("isvEnclaveQuoteBody is not base64") from None
    return ReportClaims(
        id=doc["id"], timestamp=doc["timestamp"], version=doc["version"],
        quote_status=doc["isvEnclaveQuoteStatus"], quote=parse_quote_body(body),
        evidence_type=str(doc.get("gaiwanEvidenceType", "")), mode=str(doc.get("gaiwanMode", "")),
    )


def verify_report(report: bytes, signature: bytes, certs_der: Sequence[bytes], root_ca: bytes,
                  at: datetime | None = None, allow_simulated: bool = True) -> ReportClaims:
    """Chain, signature, format and status of an endorsed report; its claims, or AttestationError.

    `root_ca` is the attestation root certificate (PEM or DER); `at` the time at which the chain
    must be valid (default now).
    """
    root = load_certificate(root_ca)
    try:
        chain = [load_certificate(der) for der in certs_der]
    except AttestationError:
        raise AttestationError("report signing chain holds a malformed certificate") from None
    verify_chain(chain, root, at)
    signer = chain[0].public_key()
    if not isinstance(signer, rsa.RSAPublicKey):
        raise AttestationError("report signing certificate does not hold an RSA key")
    try:
        signer.verify(signature, report, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        raise AttestationError("report signature does not verify with the signing certificate") from None
    claims = parse_report(report)
    if claims.quote_status != STATUS_OK:
        raise AttestationError(f"quote status is {claims.quote_status}, not {STATUS_OK}")
    if not allow_simulated and claims.evidence_type == "simulated":
        raise AttestationError("report vouches for simulated evidence, refused here")
    return claims
