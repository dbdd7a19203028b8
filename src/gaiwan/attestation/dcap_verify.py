"""Verification of DCAP ECDSA quotes (SGX v3/v4/v5, TDX v4/v5) against Intel's root CA (sans-IO).

The checks follow the chain of trust of "Intel SGX ECDSA Quote Library API" (quote verification):

1. the PCK certificate chain in the certification data chains to the given root, valid at `at`,
   and, when CRLs are given, no certificate of it is revoked (gaiwan.attestation.crl);
2. the QE report is signed by the PCK leaf key (ECDSA P-256, SHA-256 over the 384 bytes);
3. the QE report's REPORTDATA is SHA-256(attestation key || QE auth data) followed by 32 zero
   bytes: this is how the hardware-certified QE vouches for the attestation key;
4. the quote signature over header||body (header||body descriptor||body in v5) verifies with
   that attestation key;
5. when Intel's QE identity is given (gaiwan.attestation.qe_identity), the QE report is that of
   Intel's QE ("QE" for SGX, "TD_QE" for TDX) and the QE's TCB status is one the policy accepts;
6. the TCB status, from Intel's TCB info collateral when given (gaiwan.attestation.tcb_info; for
   TDX also the TD's TEE_TCB_SVN and TDX module), else as the caller states it, merged with the
   QE's status, is one the policy accepts;
7. none of the advisory IDs of the matched TCB level and QE identity level is one the policy
   refuses. The advisory IDs come out with the status, for the endorsed report.

A verifier holding TCB info for several platforms (FMSPCs) passes `tcb_info_for`, which is asked
for the document of the PCK certificate's FMSPC only once the chain and signatures have held.

The TCB info and QE identity are signed by the TCB Signing certificate, whose issuer chain is
checked against the root and, when CRLs are given, against the root CA CRL too. Everything is
given as bytes (quote, root, collateral) and a time; no network, no files. Each failure raises
AttestationError naming the step. Signatures on the wire are raw r||s (32 bytes each,
big-endian); keys are raw X||Y, which is the uncompressed SEC1 point without its 0x04.

Collateral is optional here so that each step can be exercised alone; the attestation service
(gaiwan.attestation.dcap_evidence) always passes all of it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from cryptography import x509

from ..errors import AttestationError
from .chain import load_certificate, split_pem_chain, verify_named_chain
from .crl import check_not_revoked, load_crl
from .dcap import CERT_PCK_CHAIN, DcapQuote, parse_dcap_quote
from .p256 import p256_public_key, require_p256, verify_raw_signature
from .policy import Policy, merge_statuses
from .qe_identity import qe_level, verify_qe_identity
from .tcb_info import platform_tcb, tcb_level_from_collateral


@dataclass(frozen=True)
class VerifiedQuote:
    """A quote whose signatures all verified, with the TCB status that was accepted and the
    advisories (of the TCB level, then of the QE's level) it was accepted with."""

    quote: DcapQuote
    tcb_status: str
    pck_certificate: x509.Certificate
    qe_tcb_status: str | None = None
    advisory_ids: tuple[str, ...] = ()


def _tcb_signing_chain(chain_pem: bytes, root: x509.Certificate, at: datetime,
                       crls: Sequence[x509.CertificateRevocationList] | None) -> None:
    """Revocation of the TCB signing chain; its signatures are checked with each document."""
    if crls is None:
        return
    chain = split_pem_chain(chain_pem, "TCB signing chain")
    verify_named_chain(chain, root, at, "TCB signing chain")
    check_not_revoked(chain, root, crls, at, "TCB signing chain")


def verify_dcap_quote(quote: bytes | DcapQuote, intel_root: bytes, *, at: datetime | None = None,
                      policy: Policy = Policy(), tcb_status: str | None = None,
                      tcb_info: bytes | None = None,
                      tcb_info_chain: bytes | None = None,
                      qe_identity: bytes | None = None,
                      crls: Sequence[bytes] | None = None,
                      tcb_info_for: Callable[[bytes], bytes] | None = None) -> VerifiedQuote:
    """Verifies an ECDSA quote; its record and TCB status, or AttestationError with the reason.

    `intel_root` is the trust anchor (PEM or DER). TCB status: when `tcb_info` (Intel's TCB info
    JSON, as served with its signature) and `tcb_info_chain` (its PEM issuer chain) are given,
    the status is the one of the TCB level the PCK certificate reaches; otherwise `tcb_status`
    must say it; `tcb_info_for` instead gives the TCB info for an FMSPC (or raises
    AttestationError). `qe_identity` (Intel's enclave identity JSON for the QE, same issuer chain)
    checks the QE and merges its status in. `crls` (DER, PEM or hex DER: the root CA CRL and the
    PCK CA CRL) turns on revocation checks; then every certificate of the PCK chain and of the
    TCB signing chain needs a current CRL from its issuer. `policy` decides on the status, the
    advisories and the oldest TCB evaluation of collateral accepted.
    """
    if tcb_info is not None and tcb_info_for is not None:
        raise ValueError("give tcb_info or tcb_info_for, not both")
    parsed = quote if isinstance(quote, DcapQuote) else parse_dcap_quote(quote)
    when = at or datetime.now(timezone.utc)
    root = load_certificate(intel_root)
    revocations = None if crls is None else [load_crl(c, "CRL") for c in crls]
    qe = parsed.qe

    if qe.certification_type != CERT_PCK_CHAIN:
        raise AttestationError(
            f"certification data type {qe.certification_type} is not a PCK certificate chain "
            f"({CERT_PCK_CHAIN})")
    chain = split_pem_chain(qe.certification_data, "PCK certificate chain")
    verify_named_chain(chain, root, when, "PCK certificate chain")
    if revocations is not None:
        check_not_revoked(chain, root, revocations, when, "PCK certificate chain")
    pck = chain[0]
    pck_key = require_p256(pck.public_key(), "PCK certificate")

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

    if (qe_identity is not None or tcb_info is not None or tcb_info_for is not None) \
            and tcb_info_chain is None:
        raise AttestationError("TCB info or QE identity given without its issuer chain")
    if tcb_info_chain is not None:
        _tcb_signing_chain(tcb_info_chain, root, when, revocations)

    qe_tcb: str | None = None
    qe_advisories: tuple[str, ...] = ()
    if qe_identity is not None:
        assert tcb_info_chain is not None
        identity = verify_qe_identity(qe_identity, tcb_info_chain, root, when,
                                      "TD_QE" if parsed.is_tdx else "QE",
                                      policy.min_tcb_evaluation_data_number)
        qe_tcb, qe_advisories = qe_level(identity, qe)
        if qe_tcb not in policy.accepted_statuses:
            raise AttestationError(
                f"QE TCB status {qe_tcb} (QE ISVSVN {qe.qe_isv_svn}) is not accepted "
                f"(accepted: {', '.join(sorted(policy.accepted_statuses))})")

    if tcb_info_for is not None:
        tcb_info = tcb_info_for(platform_tcb(pck).fmspc)
    advisories: tuple[str, ...] = ()
    if tcb_info is not None:
        assert tcb_info_chain is not None
        level = tcb_level_from_collateral(tcb_info, tcb_info_chain, root, pck, when,
                                          td=parsed.td_report() if parsed.is_tdx else None,
                                          min_evaluation=policy.min_tcb_evaluation_data_number)
        status, advisories = level.status, level.advisory_ids
    elif tcb_status is not None:
        status = tcb_status
    else:
        raise AttestationError("no TCB status: give TCB info collateral or the status")
    if qe_tcb is not None:
        status = merge_statuses(status, qe_tcb)
    policy.check_status(status)
    advisories = tuple(dict.fromkeys(advisories + qe_advisories))
    policy.check_advisories(advisories, "the quote's platform")
    return VerifiedQuote(parsed, status, pck, qe_tcb, advisories)
