"""Intel's QE identity collateral: is the enclave that signed a quote Intel's Quoting Enclave?

Source: Intel PCS API v4, "Get Enclave Identity" (`/sgx/certification/v4/qe/identity`,
`/tdx/certification/v4/qe/identity`), Enclave Identity v2 JSON:
`{"enclaveIdentity": {id, version, issueDate, nextUpdate, miscselect, miscselectMask,
attributes, attributesMask, mrsigner, isvprodid, tcbLevels: [{tcb: {isvsvn}, tcbStatus,
advisoryIDs}]},
"signature": hex r||s}`, signed by the TCB Signing certificate (`SGX-Enclave-Identity-Issuer-Chain`).

The PCK key only certifies that *some* enclave on a genuine platform produced the QE report; the
identity says which enclave may act as quoting enclave. The QE report matches when MRSIGNER and
ISVPRODID are equal, MISCSELECT & miscselectMask == miscselect and ATTRIBUTES & attributesMask ==
attributes (the DEBUG bit is in the mask, so a debug QE does not match). Its status is that of the
first TCB level (sorted by ISVSVN, highest first) whose isvsvn the QE's ISVSVN reaches, and that
level's advisoryIDs are the advisories the QE is still exposed to. SGX quotes
are made by the QE (`id` "QE"), TDX quotes by the TD QE (`id` "TD_QE").
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509

from ..errors import AttestationError
from .dcap import QeReportCertification
from .signed_json import check_current, level_advisories, verified_body

WHAT = "QE identity"


@dataclass(frozen=True)
class QeIdentity:
    """The fields of a verified enclave identity that a QE report is compared with."""

    id: str
    mrsigner: bytes
    isvprodid: int
    miscselect: int
    miscselect_mask: int
    attributes: bytes
    attributes_mask: bytes
    levels: tuple[tuple[int, str, tuple[str, ...]], ...]  # (isvsvn, status, advisories)


def _identity(body: dict[str, Any]) -> QeIdentity:
    try:
        version = int(body["version"])
        levels = tuple(sorted(((int(level["tcb"]["isvsvn"]), str(level["tcbStatus"]),
                                level_advisories(level))
                               for level in body["tcbLevels"]), key=lambda lv: -lv[0]))
        identity = QeIdentity(
            id=str(body["id"]),
            mrsigner=bytes.fromhex(body["mrsigner"]),
            isvprodid=int(body["isvprodid"]),
            miscselect=int(body["miscselect"], 16),
            miscselect_mask=int(body["miscselectMask"], 16),
            attributes=bytes.fromhex(body["attributes"]),
            attributes_mask=bytes.fromhex(body["attributesMask"]),
            levels=levels,
        )
    except (KeyError, TypeError, ValueError):
        raise AttestationError(f"{WHAT} is malformed (Enclave Identity v2 fields)") from None
    if version != 2:
        raise AttestationError(f"{WHAT} version {version} is not 2")
    if len(identity.mrsigner) != 32 or len(identity.attributes) != 16 \
            or len(identity.attributes_mask) != 16:
        raise AttestationError(f"{WHAT} mrsigner or attributes have the wrong size")
    return identity


def verify_qe_identity(document: bytes, issuer_chain_pem: bytes, root: x509.Certificate,
                       at: datetime, expected_id: str, min_evaluation: int = 0) -> QeIdentity:
    """The identity, once signed by a TCB signer under `root`, current at `at`, for
    `expected_id`, of at least TCB evaluation `min_evaluation`."""
    body, _ = verified_body(document, "enclaveIdentity", WHAT, issuer_chain_pem, root, at)
    identity = _identity(body)
    if identity.id != expected_id:
        raise AttestationError(f"{WHAT} is for {identity.id}, this quote needs {expected_id}")
    check_current(body, WHAT, at, min_evaluation)
    return identity


def _masked(value: bytes, mask: bytes) -> bytes:
    return bytes(v & m for v, m in zip(value, mask))


def qe_level(identity: QeIdentity, qe: QeReportCertification) -> tuple[str, tuple[str, ...]]:
    """The QE's TCB status and advisories under `identity`; raises when it is not that enclave."""
    if not hmac.compare_digest(qe.qe_mr_signer, identity.mrsigner):
        raise AttestationError(
            f"QE MRSIGNER {qe.qe_mr_signer.hex()} is not the {WHAT} mrsigner "
            f"{identity.mrsigner.hex()}")
    if qe.qe_isv_prod_id != identity.isvprodid:
        raise AttestationError(
            f"QE ISVPRODID {qe.qe_isv_prod_id} is not the {WHAT} isvprodid {identity.isvprodid}")
    if qe.qe_misc_select & identity.miscselect_mask != identity.miscselect:
        raise AttestationError(
            f"QE MISCSELECT {qe.qe_misc_select:08x} under mask does not match the {WHAT}")
    if _masked(qe.qe_attributes, identity.attributes_mask) != identity.attributes:
        raise AttestationError(
            f"QE ATTRIBUTES {qe.qe_attributes.hex()} under mask do not match the {WHAT}")
    for isvsvn, status, advisories in identity.levels:
        if isvsvn <= qe.qe_isv_svn:
            return status, advisories
    raise AttestationError(
        f"QE ISVSVN {qe.qe_isv_svn} is below every TCB level of the {WHAT}")
