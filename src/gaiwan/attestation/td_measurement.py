"""How a TDX trust domain is named where Gaiwan and Teaclave expect SGX measurements.

Endorsed reports (Teaclave's format) carry a 432-byte SGX quote body, and enclave_info lists
`mr_enclave`/`mr_signer` of 32 bytes per service; Teaclave clients compare exactly those. A TD
has no MRENCLAVE or MRSIGNER, so one rule maps it onto them, used by the attestation service,
by enclave_info and by auditors computing what to sign:

    mr_enclave = SHA-256(MRTD || RTMR0 || RTMR1 || RTMR2 || RTMR3)   what runs in the TD
    mr_signer  = SHA-256(MRCONFIGID || MROWNER || MROWNERCONFIG)       who configured it at launch

Every RTMR is in the digest: a TD whose boot chain or runtime extended a register differently is
a different measurement. enclave_info may also list `mr_td` and `rtmr0`..`rtmr3` in clear (all
five), which must hash to its `mr_enclave`; a mismatch is then reported register by register.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from .dcap import TdReport
from .quote import QuoteBody


def td_mr_enclave(mr_td: bytes, rtmrs: Sequence[bytes]) -> bytes:
    return hashlib.sha256(mr_td + b"".join(rtmrs)).digest()


def td_mr_signer(mr_config_id: bytes, mr_owner: bytes, mr_owner_config: bytes) -> bytes:
    return hashlib.sha256(mr_config_id + mr_owner + mr_owner_config).digest()


def td_quote_body(td: TdReport) -> QuoteBody:
    """The SGX-shaped quote body standing for `td` in endorsed reports (REPORTDATA unchanged)."""
    return QuoteBody(mr_enclave=td_mr_enclave(td.mr_td, td.rtmrs),
                     mr_signer=td_mr_signer(td.mr_config_id, td.mr_owner, td.mr_owner_config),
                     report_data=td.report_data, version=4)
