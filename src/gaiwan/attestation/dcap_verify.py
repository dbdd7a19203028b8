"""Verification of DCAP ECDSA quotes (SGX v3/v4, TDX v4) against Intel's root CA (sans-IO).

The checks follow the chain of trust of "Intel SGX ECDSA Quote Library API" (quote verification):

1. the PCK certificate chain in the certification data chains to the given root, valid at `at`;
2. the QE report is signed by the PCK leaf key (ECDSA P-256, SHA-256 over the 384 bytes);
3. the QE report's REPORTDATA is SHA-256(attestation key || QE auth data) followed by 32 zero
   bytes: this is how the hardware-certified QE vouches for the attestation key;
4. the quote signature over header||body verifies with that attestation key;
5. the TCB status, from Intel's TCB info collateral when given (gaiwan.attestation.tcb_info),
   else as the caller states it, is one the policy accepts.

Everything is given as bytes (quote, root, collateral) and a time; no network, no files. Each
failure raises AttestationError naming the step. Signatures on the wire are raw r||s (32 bytes
each, big-endian); keys are raw X||Y, which is the uncompressed SEC1 point without its 0x04.

Not checked here: the QE identity collateral (QE MRSIGNER/ISVPRODID/ISVSVN against Intel's
signed QE identity) and CRLs for the PCK chain; callers needing them must add them.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timezone

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from ..errors import AttestationError
from .chain import load_certificate, split_pem_chain, verify_chain
from .dcap import CERT_PCK_CHAIN, DcapQuote, parse_dcap_quote
from .p256 import p256_public_key, verify_raw_signature
from .policy import Policy
from .tcb_info import tcb_status_from_collateral


@dataclass(frozen=True)
class VerifiedQuote:
    """A quote whose signatures all verified, with the TCB status that was accepted."""

    quote: DcapQuote
    tcb_status: str
    pck_certificate: x509.Certificate


def verify_pck_chain(certs: list[x509.Certificate], root: x509.Certificate, at: datetime) -> None:
    try:
        verify_chain(certs, root, at)
    except AttestationError as exc:
        raise AttestationError(f"PCK certificate chain: {exc.message}") from None


def verify_dcap_quote(quote: bytes | DcapQuote, intel_root: bytes, *, at: datetime | None = None,
                      policy: Policy = Policy(), tcb_status: str | None = None,
                      tcb_info: bytes | None = None,
                      tcb_info_chain: bytes | None = None) -> VerifiedQuote:
    """Verifies an ECDSA quote; its record and TCB status, or AttestationError with the reason.

    `intel_root` is the trust anchor (PEM or DER). TCB status: when `tcb_info` (Intel's TCB info
    JSON, as served with its signature) and `tcb_info_chain` (its PEM issuer chain) are given,
    the status is the one of the TCB level the PCK certificate reaches; otherwise `tcb_status`
    must say it. Either way, `policy.accepted_statuses` decides.
    """
    parsed = quote if isinstance(quote, DcapQuote) else parse_dcap_quote(quote)
    when = at or datetime.now(timezone.utc)
    root = load_certificate(intel_root)
    qe = parsed.qe

    if qe.certification_type != CERT_PCK_CHAIN:
        raise AttestationError(
            f"certification data type {qe.certification_type} is not a PCK certificate chain "
            f"({CERT_PCK_CHAIN})")
    chain = split_pem_chain(qe.certification_data, "PCK certificate chain")
    verify_pck_chain(chain, root, when)
    pck = chain[0]
    pck_key = pck.public_key()
    if not isinstance(pck_key, ec.EllipticCurvePublicKey) or not isinstance(pck_key.curve,
                                                                            ec.SECP256R1):
        raise AttestationError("PCK certificate does not hold a P-256 key")

    verify_raw_signature(pck_key, qe.qe_report_signature, qe.qe_report,
                         "QE report signature (by the PCK key)")

    expected = hashlib.sha256(parsed.attestation_key + qe.qe_auth_data).digest() + bytes(32)
    if not hmac.compare_digest(qe.qe_report_data, expected):
        raise AttestationError(
            "QE report REPORTDATA is not SHA-256(attestation key || QE auth data): the QE did "
            "not vouch for this attestation key")

    att_key = p256_public_key(parsed.attestation_key, "attestation key")
    verify_raw_signature(att_key, parsed.signature, parsed.signed_data,
                         "quote signature (by the attestation key)")

    if tcb_info is not None:
        if tcb_info_chain is None:
            raise AttestationError("TCB info given without its issuer chain")
        status = tcb_status_from_collateral(tcb_info, tcb_info_chain, root, pck, when,
                                            tdx=parsed.is_tdx)
    elif tcb_status is not None:
        status = tcb_status
    else:
        raise AttestationError("no TCB status: give TCB info collateral or the status")
    policy.check_status(status)
    return VerifiedQuote(parsed, status, pck)
