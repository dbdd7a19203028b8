"""ECDSA quotes as Intel DCAP produces them: SGX quote v3/v4/v5 and TDX quote v4/v5 (sans-IO
parser).

Layouts from Intel's public documents: "Intel SGX ECDSA Quote Library API" (quote format v3,
appendix A), "Intel TDX DCAP Quoting Library API" (quote formats v4 and v5, TD report bodies 1.0
and 1.5) and the SGX Developer Reference for the 384-byte report body, checked against Intel's
quote verification library. Integers are little-endian.

    header (48)      version u16, attestation key type u16 (2 = ECDSA P-256), TEE type u32 (v4:
                     0 = SGX, 0x81 = TDX; reserved in v3), QE SVN u16 (reserved in v4),
                     PCE SVN u16, QE vendor id [16], user data [20]
    v5 only:         body descriptor: body type u16 (1 = SGX report, 2 = TD report 1.0,
                     3 = TD report 1.5), body size u32 (must be that type's size); signed too
    body             SGX report body (384), TD report body 1.0 (584) or 1.5 (648: 1.0, then
                     TEE_TCB_SVN2 [16] and MRSERVICETD [48]), TD bodies for TDX only
    signature data   length u32, then:
      v3: quote signature [64] (r||s over header||body), attestation public key [64] (X||Y),
          QE report [384], QE report signature [64], QE auth data (u16 length + data),
          certification data (type u16, size u32, data; type 5 = PCK chain in PEM)
      v4, v5: quote signature [64], attestation public key [64], certification data of
          type 6 ("QE report certification data") holding the v3 tail from QE report onwards.

Every version is parsed into one record, so the verifier has a single path. The parser is
strict: a length field that runs past its container, or bytes left over, refuse the quote, since
a lenient parser would let two different byte strings mean the same quote.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import AttestationError
from .quote import HEADER_SIZE, REPORT_BODY_SIZE, QuoteBody, parse_quote_body

TD_REPORT_BODY_SIZE = 584
TD15_REPORT_BODY_SIZE = 648
BODY_SGX, BODY_TD10, BODY_TD15 = 1, 2, 3
_BODY_SIZES = {BODY_SGX: REPORT_BODY_SIZE, BODY_TD10: TD_REPORT_BODY_SIZE,
               BODY_TD15: TD15_REPORT_BODY_SIZE}
_BODY_DESCRIPTOR = struct.Struct("<HI")
ATT_KEY_ECDSA_P256 = 2
TEE_SGX = 0x00
TEE_TDX = 0x81
CERT_PCK_CHAIN = 5
CERT_QE_REPORT = 6
SIGNATURE_SIZE = 64
ATT_KEY_SIZE = 64

_HEADER = struct.Struct("<HHIHH16s20s")

# SGX report body offsets used for the QE report.
_QE_MISC_SELECT = slice(16, 20)
_QE_ATTRIBUTES = slice(48, 64)
_QE_MR_ENCLAVE = slice(64, 96)
_QE_MR_SIGNER = slice(128, 160)
_QE_ISV_PROD_ID = slice(256, 258)
_QE_ISV_SVN = slice(258, 260)
_QE_REPORT_DATA = slice(320, 384)


class _Reader:
    """Consumes a buffer front to back; every short read names the field it was reading."""

    def __init__(self, data: bytes, what: str) -> None:
        self._data = data
        self._pos = 0
        self._what = what

    def take(self, size: int, field: str) -> bytes:
        if self._pos + size > len(self._data):
            raise AttestationError(
                f"{self._what} is truncated: {field} needs {size} bytes at offset {self._pos}, "
                f"{len(self._data) - self._pos} left")
        chunk = self._data[self._pos:self._pos + size]
        self._pos += size
        return chunk

    def u16(self, field: str) -> int:
        return int.from_bytes(self.take(2, field), "little")

    def u32(self, field: str) -> int:
        return int.from_bytes(self.take(4, field), "little")

    def end(self, zero_padding: bool = False) -> None:
        """Nothing may follow, except (where allowed) zero bytes: quote buffers handed out by
        TEE interfaces are often padded, and padding covered by no signature carries nothing."""
        rest = self._data[self._pos:]
        if rest and not (zero_padding and not any(rest)):
            raise AttestationError(f"{self._what} has {len(rest)} unexpected trailing bytes")


@dataclass(frozen=True)
class QeReportCertification:
    """The Quoting Enclave's report, its PCK signature, auth data and certification data."""

    qe_report: bytes
    qe_report_signature: bytes
    qe_auth_data: bytes
    certification_type: int
    certification_data: bytes

    @property
    def qe_report_data(self) -> bytes:
        return self.qe_report[_QE_REPORT_DATA]

    @property
    def qe_mr_enclave(self) -> bytes:
        return self.qe_report[_QE_MR_ENCLAVE]

    @property
    def qe_mr_signer(self) -> bytes:
        return self.qe_report[_QE_MR_SIGNER]

    @property
    def qe_isv_prod_id(self) -> int:
        return int.from_bytes(self.qe_report[_QE_ISV_PROD_ID], "little")

    @property
    def qe_isv_svn(self) -> int:
        return int.from_bytes(self.qe_report[_QE_ISV_SVN], "little")

    @property
    def qe_misc_select(self) -> int:
        return int.from_bytes(self.qe_report[_QE_MISC_SELECT], "little")

    @property
    def qe_attributes(self) -> bytes:
        return self.qe_report[_QE_ATTRIBUTES]


@dataclass(frozen=True)
class TdReport:
    """A TD report body 1.0 or 1.5 (offsets from the TDX DCAP Quoting Library API). The two
    1.5 fields are None in a 1.0 body. TEE_TCB_SVN, not TEE_TCB_SVN2, is what TCB levels are
    matched against, as in Intel's verifier."""

    tee_tcb_svn: bytes
    mr_seam: bytes
    mr_signer_seam: bytes
    seam_attributes: bytes
    td_attributes: bytes
    xfam: bytes
    mr_td: bytes
    mr_config_id: bytes
    mr_owner: bytes
    mr_owner_config: bytes
    rtmrs: tuple[bytes, bytes, bytes, bytes]
    report_data: bytes
    tee_tcb_svn2: bytes | None = None
    mr_service_td: bytes | None = None


_TD_FIELDS = struct.Struct("<16s48s48s8s8s8s48s48s48s48s48s48s48s48s64s")
assert _TD_FIELDS.size == TD_REPORT_BODY_SIZE


def parse_td_report(body: bytes) -> TdReport:
    if len(body) not in (TD_REPORT_BODY_SIZE, TD15_REPORT_BODY_SIZE):
        raise AttestationError(f"TD report body is {len(body)} bytes, expected "
                               f"{TD_REPORT_BODY_SIZE} or {TD15_REPORT_BODY_SIZE}")
    (tee_tcb_svn, mr_seam, mr_signer_seam, seam_attributes, td_attributes, xfam, mr_td,
     mr_config_id, mr_owner, mr_owner_config, r0, r1, r2, r3,
     report_data) = _TD_FIELDS.unpack_from(body)
    extra = body[TD_REPORT_BODY_SIZE:]
    return TdReport(tee_tcb_svn, mr_seam, mr_signer_seam, seam_attributes, td_attributes, xfam,
                    mr_td, mr_config_id, mr_owner, mr_owner_config, (r0, r1, r2, r3), report_data,
                    tee_tcb_svn2=extra[:16] or None, mr_service_td=extra[16:] or None)


@dataclass(frozen=True)
class DcapQuote:
    """A parsed ECDSA quote; `header`, `descriptor` (v5's body type and size, empty before)
    and `body` stay bytes because they are what is signed."""

    version: int
    att_key_type: int
    tee_type: int
    qe_svn: int
    pce_svn: int
    qe_vendor_id: bytes
    user_data: bytes
    header: bytes
    body: bytes
    signature: bytes
    attestation_key: bytes
    qe: QeReportCertification
    descriptor: bytes = b""

    @property
    def signed_data(self) -> bytes:
        return self.header + self.descriptor + self.body

    @property
    def is_tdx(self) -> bool:
        return self.tee_type == TEE_TDX

    def sgx_body(self) -> QuoteBody:
        """MRENCLAVE, MRSIGNER, REPORTDATA... of an SGX quote, as the rest of Gaiwan reads them."""
        if self.is_tdx:
            raise AttestationError("a TDX quote has no SGX enclave report body")
        return parse_quote_body(self.header + self.body)

    def td_report(self) -> TdReport:
        if not self.is_tdx:
            raise AttestationError("an SGX quote has no TD report body")
        return parse_td_report(self.body)

    @property
    def report_data(self) -> bytes:
        return self.td_report().report_data if self.is_tdx else self.sgx_body().report_data


def _qe_report_certification(reader: _Reader) -> QeReportCertification:
    qe_report = reader.take(REPORT_BODY_SIZE, "QE report")
    qe_signature = reader.take(SIGNATURE_SIZE, "QE report signature")
    auth_size = reader.u16("QE auth data size")
    auth = reader.take(auth_size, "QE auth data")
    cert_type = reader.u16("certification data type")
    cert_size = reader.u32("certification data size")
    cert_data = reader.take(cert_size, "certification data")
    return QeReportCertification(qe_report, qe_signature, auth, cert_type, cert_data)


def _body(reader: _Reader, version: int, tee_type: int) -> tuple[bytes, bytes]:
    """(descriptor, body): the body's layout follows from the TEE type up to v4 and from the
    descriptor in v5, which must agree with the TEE type."""
    if tee_type not in (TEE_SGX, TEE_TDX):
        raise AttestationError(f"TEE type {tee_type:#x} is neither SGX (0) nor TDX (0x81)")
    if version < 5:
        if tee_type == TEE_SGX:
            return b"", reader.take(REPORT_BODY_SIZE, "SGX report body")
        return b"", reader.take(TD_REPORT_BODY_SIZE, "TD report body")
    descriptor = reader.take(_BODY_DESCRIPTOR.size, "body descriptor")
    body_type, size = _BODY_DESCRIPTOR.unpack(descriptor)
    expected = _BODY_SIZES.get(body_type)
    if expected is None:
        raise AttestationError(
            f"quote body type {body_type} is not 1 (SGX), 2 (TD 1.0) or 3 (TD 1.5)")
    if (body_type == BODY_SGX) != (tee_type == TEE_SGX):
        raise AttestationError(f"quote body type {body_type} does not fit TEE type {tee_type:#x}")
    if size != expected:
        raise AttestationError(f"quote body type {body_type} declares {size} bytes, not {expected}")
    what = "SGX report body" if body_type == BODY_SGX else "TD report body"
    return descriptor, reader.take(size, what)


def parse_dcap_quote(data: bytes) -> DcapQuote:
    """Reads an SGX quote v3/v4/v5 or a TDX quote v4/v5; refuses anything else with the reason."""
    reader = _Reader(bytes(data), "quote")
    header = reader.take(HEADER_SIZE, "header")
    version, key_type, tee_type, qe_svn, pce_svn, vendor, user_data = _HEADER.unpack(header)
    if version == 3:
        tee_type = TEE_SGX  # the field is reserved in v3
    elif version not in (4, 5):
        raise AttestationError(f"quote version {version} is not 3, 4 or 5")
    if key_type != ATT_KEY_ECDSA_P256:
        raise AttestationError(f"attestation key type {key_type} is not ECDSA P-256 (2)")
    descriptor, body = _body(reader, version, tee_type)
    sig_size = reader.u32("signature data size")
    sig_reader = _Reader(reader.take(sig_size, "signature data"), "quote signature data")
    reader.end(zero_padding=True)

    signature = sig_reader.take(SIGNATURE_SIZE, "quote signature")
    att_key = sig_reader.take(ATT_KEY_SIZE, "attestation key")
    if version == 3:
        qe = _qe_report_certification(sig_reader)
    else:
        outer_type = sig_reader.u16("certification data type")
        outer = sig_reader.take(sig_reader.u32("certification data size"), "certification data")
        if outer_type != CERT_QE_REPORT:
            raise AttestationError(
                f"quote v{version} certification data type {outer_type} is not QE report "
                f"certification data ({CERT_QE_REPORT})")
        inner = _Reader(outer, "QE report certification data")
        qe = _qe_report_certification(inner)
        inner.end()
    sig_reader.end()
    return DcapQuote(version=version, att_key_type=key_type, tee_type=tee_type, qe_svn=qe_svn,
                     pce_svn=pce_svn, qe_vendor_id=vendor, user_data=user_data, header=header,
                     body=body, signature=signature, attestation_key=att_key, qe=qe,
                     descriptor=descriptor)
