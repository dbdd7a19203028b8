"""DCAP evidence as the attestation service receives it: SGX quotes (Gramine) and TDX quotes (tsm).

Evidence types name what the bytes are, not which backend made them: `sgx-dcap` is an SGX ECDSA
quote v3/v4/v5 (gaiwan.attestation.backends.GramineSgx with attestation type dcap), `tdx-dcap` a
TDX quote v4/v5 (backends.Tsm with provider tdx_guest). A quote of the other TEE under a type is
refused, so the type stamped in reports and mesh certificates is always true.

Verification always uses the full collateral (gaiwan.attestation.collateral): PCK chain and TCB
signing chain against Intel's root and CRLs, QE identity, and the TCB info of the quote's FMSPC.
What comes out is the quote body that stands for the enclave or TD in endorsed reports (for a TD,
the digests of gaiwan.attestation.td_measurement), the accepted TCB status with its advisory IDs,
and whether it runs in debug mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..errors import AttestationError
from .collateral import DcapCollateral
from .dcap import DcapQuote, TdReport, parse_dcap_quote
from .dcap_verify import verify_dcap_quote
from .policy import Policy
from .quote import QuoteBody
from .td_measurement import td_quote_body

SGX_DCAP = "sgx-dcap"
TDX_DCAP = "tdx-dcap"
DCAP_TYPES = (SGX_DCAP, TDX_DCAP)

_SGX_DEBUG = 0x02  # ATTRIBUTES.FLAGS bit 1 (SGX Developer Reference, SECS attributes)
_TD_DEBUG = 0x01  # TD_ATTRIBUTES bit 0 (TDX module ABI, TDINFO.ATTRIBUTES.DEBUG)


@dataclass(frozen=True)
class DcapClaims:
    """What verified evidence says about the enclave or TD that made it (simulated evidence
    too, always UpToDate and never debug)."""

    body: QuoteBody
    tcb_status: str
    debug: bool
    td: TdReport | None = None
    advisory_ids: tuple[str, ...] = ()


def parse_evidence(evidence_type: str, evidence: bytes) -> DcapQuote:
    """The quote inside the evidence, of the TEE its type says (not yet verified)."""
    quote = parse_dcap_quote(evidence)
    if evidence_type == TDX_DCAP and not quote.is_tdx:
        raise AttestationError("evidence of type tdx-dcap holds an SGX quote")
    if evidence_type == SGX_DCAP and quote.is_tdx:
        raise AttestationError("evidence of type sgx-dcap holds a TDX quote")
    return quote


def claims_of(quote: DcapQuote) -> tuple[QuoteBody, bool, TdReport | None]:
    """The standing quote body, the debug flag and, for a TD, its report. A TD bound to a
    service TD (TD report 1.5, MRSERVICETD not zero) is refused: that TD, a migration TD for
    one, can take the TD's state off this platform, and no measurement Gaiwan checks covers it."""
    if quote.is_tdx:
        td = quote.td_report()
        if td.mr_service_td is not None and any(td.mr_service_td):
            raise AttestationError(
                f"the TD is bound to a service TD (MRSERVICETD {td.mr_service_td.hex()[:16]}...), "
                "which could move its state off the attested platform")
        return td_quote_body(td), bool(td.td_attributes[0] & _TD_DEBUG), td
    body = quote.sgx_body()
    return body, bool(body.attributes[0] & _SGX_DEBUG), None


def verify_dcap_evidence(evidence_type: str, evidence: bytes, collateral: DcapCollateral,
                         policy: Policy, at: datetime) -> DcapClaims:
    """Verifies the quote against the full collateral; its claims, or AttestationError."""
    if evidence_type not in DCAP_TYPES:
        raise AttestationError(f"{evidence_type!r} is not a DCAP evidence type")
    quote = parse_evidence(evidence_type, evidence)
    tdx = quote.is_tdx
    tcb_infos = collateral.tdx_tcb_infos if tdx else collateral.sgx_tcb_infos
    identity = collateral.td_qe_identity if tdx else collateral.qe_identity
    if not tcb_infos or identity is None:
        raise AttestationError(
            f"no {'TDX' if tdx else 'SGX'} TCB info and QE identity in the DCAP collateral: "
            f"{evidence_type} evidence cannot be verified on this platform")
    verified = verify_dcap_quote(quote, collateral.intel_root, at=at, policy=policy,
                                 tcb_info_for=tcb_infos.for_fmspc,
                                 tcb_info_chain=collateral.tcb_signing_chain,
                                 qe_identity=identity, crls=collateral.crls)
    body, debug, td = claims_of(quote)
    return DcapClaims(body, verified.tcb_status, debug, td, verified.advisory_ids)
