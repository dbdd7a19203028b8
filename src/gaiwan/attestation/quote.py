"""The SGX quote body: 432 bytes, a 48-byte quote header then the 384-byte enclave report body.

Teaclave clients find MRENCLAVE, MRSIGNER and REPORTDATA at fixed offsets of this body (spec §3),
so the simulated TEE emits the real layout rather than a format of its own: the same parser reads
Teaclave's fixtures and Gaiwan's quotes. Sans-IO: bytes in, a frozen record out.

Header (DCAP quote v3): version u16, attestation key type u16, reserved u32, QE SVN u16, PCE SVN
u16, QE vendor id [16], user data [20]. Report body (sgx_report_body_t), offsets within the body:
cpu_svn 0..16, misc_select 16..20, reserved 20..32, isv_ext_prod_id 32..48, attributes 48..64,
mr_enclave 64..96, reserved 96..128, mr_signer 128..160, reserved 160..192, config_id 192..256,
isv_prod_id 256..258, isv_svn 258..260, config_svn 260..262, reserved 262..304,
isv_family_id 304..320, report_data 320..384. Integers are little-endian.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import AttestationError

HEADER_SIZE = 48
REPORT_BODY_SIZE = 384
QUOTE_BODY_SIZE = HEADER_SIZE + REPORT_BODY_SIZE

# Absolute offsets within the quote body of the fields clients read (spec §3).
MR_ENCLAVE = slice(112, 144)
MR_SIGNER = slice(176, 208)
REPORT_DATA = slice(368, 432)

_HEADER = struct.Struct("<HHIHH16s20s")
_BODY = struct.Struct("<16sI12s16s16s32s32s32s32s64sHHH42s16s64s")
assert _HEADER.size == HEADER_SIZE and _BODY.size == REPORT_BODY_SIZE

QUOTE_VERSION = 3
ATT_KEY_ECDSA_P256 = 2


@dataclass(frozen=True)
class QuoteBody:
    """One quote body; unused fields default to zeros, as a freshly built enclave would have."""

    mr_enclave: bytes
    mr_signer: bytes
    report_data: bytes
    version: int = QUOTE_VERSION
    att_key_type: int = ATT_KEY_ECDSA_P256
    qe_svn: int = 0
    pce_svn: int = 0
    qe_vendor_id: bytes = bytes(16)
    user_data: bytes = bytes(20)
    cpu_svn: bytes = bytes(16)
    misc_select: int = 0
    isv_ext_prod_id: bytes = bytes(16)
    attributes: bytes = bytes(16)
    config_id: bytes = bytes(64)
    isv_prod_id: int = 0
    isv_svn: int = 0
    config_svn: int = 0
    isv_family_id: bytes = bytes(16)

    def __post_init__(self) -> None:
        for name, size in (("mr_enclave", 32), ("mr_signer", 32), ("report_data", 64),
                           ("qe_vendor_id", 16), ("user_data", 20), ("cpu_svn", 16),
                           ("isv_ext_prod_id", 16), ("attributes", 16), ("config_id", 64),
                           ("isv_family_id", 16)):
            if len(getattr(self, name)) != size:
                raise ValueError(f"quote field {name} must be {size} bytes")

    def to_bytes(self) -> bytes:
        header = _HEADER.pack(self.version, self.att_key_type, 0, self.qe_svn, self.pce_svn,
                              self.qe_vendor_id, self.user_data)
        body = _BODY.pack(
            self.cpu_svn, self.misc_select, bytes(12), self.isv_ext_prod_id, self.attributes,
            self.mr_enclave, bytes(32), self.mr_signer, bytes(32), self.config_id,
            self.isv_prod_id, self.isv_svn, self.config_svn, bytes(42), self.isv_family_id,
            self.report_data,
        )
        return header + body


def parse_quote_body(data: bytes) -> QuoteBody:
    """Reads a 432-byte quote body; any other length is refused (it is not a quote body)."""
    if len(data) != QUOTE_BODY_SIZE:
        raise AttestationError(f"quote body is {len(data)} bytes, expected {QUOTE_BODY_SIZE}")
    version, att_key_type, _, qe_svn, pce_svn, qe_vendor_id, user_data = _HEADER.unpack_from(data)
    (cpu_svn, misc_select, _, isv_ext_prod_id, attributes, mr_enclave, _, mr_signer, _,
     config_id, isv_prod_id, isv_svn, config_svn, _, isv_family_id,
     report_data) = _BODY.unpack_from(data, HEADER_SIZE)
    return QuoteBody(
        mr_enclave=mr_enclave, mr_signer=mr_signer, report_data=report_data, version=version,
        att_key_type=att_key_type, qe_svn=qe_svn, pce_svn=pce_svn, qe_vendor_id=qe_vendor_id,
        user_data=user_data, cpu_svn=cpu_svn, misc_select=misc_select,
        isv_ext_prod_id=isv_ext_prod_id, attributes=attributes, config_id=config_id,
        isv_prod_id=isv_prod_id, isv_svn=isv_svn, config_svn=config_svn,
        isv_family_id=isv_family_id,
    )
