"""The endorsed attestation report in Teaclave's formats (sans-IO).

The attestation service vouches for a quote it verified by signing a JSON report
`{"id", "isvEnclaveQuoteBody", "isvEnclaveQuoteStatus", "timestamp", "version": 4}` with its
report-signing key (RSA PKCS#1 v1.5 SHA-256), whose certificate chains to the attestation root CA.
Teaclave clients verify exactly that (spec §3). Gaiwan adds two marks, `gaiwanEvidenceType` and
`gaiwanMode`, so that a report vouching for simulated evidence says so wherever it travels;
Teaclave clients ignore unknown keys. When the verified TCB level names Intel security advisories,
the report carries them as IAS reports (API v4) did: `advisoryIDs` (["INTEL-SA-00837", ...]) and
`advisoryURL` ("https://security-center.intel.com"), both absent when there are none, so a
relying party can judge an accepted status such as SW_HARDENING_NEEDED by what it leaves open.

Two historical layouts are read: version 4 (Teaclave v0.4+, DCAP reference service, chain in
`certs`) and version 3 (Intel IAS API v3/v4 EPID reports that Teaclave embedded before, signed by
Intel's report-signing certificate, see Intel "Attestation Service for Intel SGX API
Documentation" §4.2.1 for the fields). The checks are the same; only the status vocabulary
differs, which gaiwan.attestation.policy normalises. Timestamps are UTC without a zone, with up
to nine fractional digits (DCAP); they are read to the microsecond.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..errors import AttestationError
from .chain import load_certificate, verify_chain
from .policy import SIMULATED, Policy, tcb_status
from .quote import QuoteBody, parse_quote_body

REPORT_VERSION = 4
READ_VERSIONS = (3, 4)
STATUS_OK = "OK"
ADVISORY_URL = "https://security-center.intel.com"  # as in Intel IAS reports


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
    advisory_ids: tuple[str, ...] = ()

    @property
    def issued_at(self) -> datetime:
        """When the attestation service made the report (its `timestamp`, UTC)."""
        return _timestamp(self.timestamp)

    @property
    def tcb_status(self) -> str:
        """The quote status in DCAP TCB words (UpToDate, OutOfDate, ...)."""
        return tcb_status(self.quote_status)

    def age(self, now: datetime | None = None) -> timedelta:
        return (now or datetime.now(timezone.utc)) - self.issued_at


def _timestamp(text: str) -> datetime:
    head, dot, fraction = text.partition(".")
    try:
        when = datetime.fromisoformat(head + (dot + fraction[:6] if dot else ""))
    except ValueError:
        raise AttestationError(f"report timestamp {text!r} is not an ISO 8601 time") from None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when


def build_report(quote: QuoteBody, evidence_type: str, mode: str,
                 now: datetime | None = None, quote_status: str = STATUS_OK,
                 advisory_ids: Sequence[str] = ()) -> bytes:
    """The report JSON; `quote_status` is the verified status
    (gaiwan.attestation.policy.ias_status), `advisory_ids` the advisories it was accepted with."""
    when = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    report = {
        "id": secrets.token_hex(16),
        "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "version": REPORT_VERSION,
        "isvEnclaveQuoteStatus": quote_status,
        "isvEnclaveQuoteBody": base64.b64encode(quote.to_bytes()).decode(),
        "gaiwanEvidenceType": evidence_type,
        "gaiwanMode": mode,
    }
    if advisory_ids:
        report["advisoryIDs"] = list(advisory_ids)
        report["advisoryURL"] = ADVISORY_URL
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
    if doc["version"] not in READ_VERSIONS:
        raise AttestationError(
            f"report version {doc['version']} is not one of {', '.join(map(str, READ_VERSIONS))}")
    _timestamp(doc["timestamp"])
    advisories = doc.get("advisoryIDs", [])
    if not isinstance(advisories, list) or not all(isinstance(a, str) for a in advisories):
        raise AttestationError("report field advisoryIDs is not a list of strings")
    try:
        body = base64.b64decode(doc["isvEnclaveQuoteBody"], validate=True)
    except (binascii.Error, ValueError):
        raise AttestationError("isvEnclaveQuoteBody is not base64") from None
    return ReportClaims(
        id=doc["id"], timestamp=doc["timestamp"], version=doc["version"],
        quote_status=doc["isvEnclaveQuoteStatus"], quote=parse_quote_body(body),
        evidence_type=str(doc.get("gaiwanEvidenceType", "")), mode=str(doc.get("gaiwanMode", "")),
        advisory_ids=tuple(advisories),
    )


def verify_report(report: bytes, signature: bytes, certs_der: Sequence[bytes], root_ca: bytes,
                  at: datetime | None = None, policy: Policy = Policy()) -> ReportClaims:
    """Chain, signature, format, status and age of an endorsed report; its claims, or AttestationError.

    `root_ca` is the trust anchor (PEM or DER); `at` the time of verification (default now): the
    chain must be valid then and the report young enough then.
    """
    root = load_certificate(root_ca)
    try:
        chain = [load_certificate(der) for der in certs_der]
    except AttestationError:
        raise AttestationError("report signing chain holds a malformed certificate") from None
    when = at or datetime.now(timezone.utc)
    verify_chain(chain, root, when)
    signer = chain[0].public_key()
    if not isinstance(signer, rsa.RSAPublicKey):
        raise AttestationError("report signing certificate does not hold an RSA key")
    try:
        signer.verify(signature, report, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        raise AttestationError("report signature does not verify with the signing certificate") from None
    claims = parse_report(report)
    policy.check_status(claims.quote_status)
    policy.check_advisories(claims.advisory_ids, "the report's platform")
    policy.check_age(claims.age(when))
    if not policy.allow_simulated and claims.evidence_type == SIMULATED:
        raise AttestationError(
            "report vouches for simulated evidence, which production mode refuses")
    return claims
