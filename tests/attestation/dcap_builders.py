"""Synthetic DCAP quotes and collateral, built with real P-256 keys from a test Intel-like PKI.

Collateral has the shapes Intel's PCS serves: TCB info v3 (SGX and TDX), Enclave Identity v2
(QE, TD_QE), the root CA CRL and the PCK CA CRL, each signed by the key Intel would use.
"""

from __future__ import annotations

import copy
import hashlib
import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
FMSPC = bytes.fromhex("00906ED50000")
SGX_OID = "1.2.840.113741.1.13.1"


def raw_sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def raw_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.X962,
                                         serialization.PublicFormat.UncompressedPoint)[1:]


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def _oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return _der(0x06, bytes(out))


def _int(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def sgx_extension(svns: tuple[int, ...], pce_svn: int, fmspc: bytes = FMSPC) -> bytes:
    """The PCK certificate's SGX extension (PCK certificate profile) with the fields read."""
    tcb = b"".join(_der(0x30, _oid(f"{SGX_OID}.2.{i + 1}") + _int(svn))
                   for i, svn in enumerate(svns))
    tcb += _der(0x30, _oid(f"{SGX_OID}.2.17") + _int(pce_svn))
    tcb += _der(0x30, _oid(f"{SGX_OID}.2.18") + _der(0x04, bytes(svns)))
    entries = (_der(0x30, _oid(f"{SGX_OID}.1") + _der(0x04, bytes(16)))
               + _der(0x30, _oid(f"{SGX_OID}.2") + _der(0x30, tcb))
               + _der(0x30, _oid(f"{SGX_OID}.4") + _der(0x04, fmspc)))
    return _der(0x30, entries)


def certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: str,
                issuer_key: ec.EllipticCurvePrivateKey, ca: bool,
                not_after: datetime = NOW + timedelta(days=365),
                extension: bytes | None = None) -> x509.Certificate:
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - timedelta(days=30)).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if extension is not None:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier(SGX_OID), extension), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@dataclass
class Pki:
    """A root, an intermediate, a PCK leaf and a TCB signer, as Intel's PCS would have them."""

    svns: tuple[int, ...] = (5,) * 16
    pce_svn: int = 13
    pck_not_after: datetime = NOW + timedelta(days=365)
    root_key: ec.EllipticCurvePrivateKey = field(default_factory=_key)
    ca_key: ec.EllipticCurvePrivateKey = field(default_factory=_key)
    pck_key: ec.EllipticCurvePrivateKey = field(default_factory=_key)
    tcb_key: ec.EllipticCurvePrivateKey = field(default_factory=_key)
    now: datetime = NOW
    fmspc: bytes = FMSPC

    def __post_init__(self) -> None:
        self.root = certificate("Test SGX Root CA", self.root_key, "Test SGX Root CA",
                                self.root_key, True)
        self.ca = certificate("Test SGX PCK Platform CA", self.ca_key, "Test SGX Root CA",
                              self.root_key, True)
        self.pck = certificate("Test SGX PCK Certificate", self.pck_key,
                               "Test SGX PCK Platform CA", self.ca_key, False,
                               not_after=self.pck_not_after,
                               extension=sgx_extension(self.svns, self.pce_svn, self.fmspc))
        self.tcb_signer = certificate("Test SGX TCB Signing", self.tcb_key, "Test SGX Root CA",
                                      self.root_key, False)

    def other_platform(self, fmspc: bytes) -> "Pki":
        """The same CAs and TCB signer, with the PCK certificate of a platform of another FMSPC."""
        other = copy.copy(self)
        other.fmspc, other.pck_key = fmspc, _key()
        other.pck = certificate("Test SGX PCK Certificate", other.pck_key,
                                "Test SGX PCK Platform CA", self.ca_key, False,
                                not_after=self.pck_not_after,
                                extension=sgx_extension(self.svns, self.pce_svn, fmspc))
        return other

    @property
    def root_pem(self) -> bytes:
        return pem(self.root)

    @property
    def pck_chain_pem(self) -> bytes:
        return pem(self.pck, self.ca, self.root)

    def tcb_info(self, levels: list[tuple[int, int, str]], fmspc: bytes | None = None,
                 next_update: datetime | None = None,
                 advisories: Sequence[Sequence[str]] = (), evaluation: int = 17) -> bytes:
        """Signed TCB info v3; each level is (SVN of every SGX component, PCESVN, status), with
        the advisory IDs at the same index of `advisories` (none beyond it)."""
        info = {
            "id": "SGX", "version": 3, "issueDate": "2026-05-01T00:00:00Z",
            "nextUpdate": _stamp(next_update or self.now + timedelta(days=30)),
            "fmspc": (fmspc or self.fmspc).hex().upper(), "pceId": "0000", "tcbType": 0,
            "tcbEvaluationDataNumber": evaluation,
            "tcbLevels": _with_advisories(
                [{"tcb": {"sgxtcbcomponents": [{"svn": svn}] * 16, "pcesvn": pce},
                  "tcbDate": "2026-01-01T00:00:00Z", "tcbStatus": status}
                 for svn, pce, status in levels], advisories),
        }
        text = json.dumps(info, separators=(",", ":"))
        signature = raw_sign(self.tcb_key, text.encode()).hex()
        return ('{"tcbInfo":' + text + ',"signature":"' + signature + '"}').encode()

    def tcb_chain_pem(self) -> bytes:
        return pem(self.tcb_signer, self.root)

    def _signed(self, key: str, body: dict, signer: ec.EllipticCurvePrivateKey | None) -> bytes:
        text = json.dumps(body, separators=(",", ":"))
        signature = raw_sign(signer or self.tcb_key, text.encode()).hex()
        return ('{"' + key + '":' + text + ',"signature":"' + signature + '"}').encode()

    def tdx_tcb_info(self, levels: list[tuple[int, int, int, str]], fmspc: bytes | None = None,
                     module_mrsigner: bytes = bytes(48), module_identities: list[dict] | None = None,
                     next_update: datetime | None = None,
                     advisories: Sequence[Sequence[str]] = ()) -> bytes:
        """Signed TDX TCB info v3; each level is (SGX SVN, PCESVN, TDX component SVN, status).

        The level's TDX components are at that SVN but byte 1, the module major version, at 0;
        its advisory IDs are at the same index of `advisories`."""
        info = {
            "id": "TDX", "version": 3, "issueDate": _stamp(self.now - timedelta(days=1)),
            "nextUpdate": _stamp(next_update or self.now + timedelta(days=30)),
            "fmspc": (fmspc or self.fmspc).hex().upper(), "pceId": "0000", "tcbType": 0,
            "tcbEvaluationDataNumber": 17,
            "tdxModule": {"mrsigner": module_mrsigner.hex().upper(),
                          "attributes": "0000000000000000", "attributesMask": "FFFFFFFFFFFFFFFF"},
            "tdxModuleIdentities": module_identities or [],
            "tcbLevels": _with_advisories(
                [{"tcb": {"sgxtcbcomponents": [{"svn": svn}] * 16, "pcesvn": pce,
                          "tdxtcbcomponents": _tdx_components(tdx)},
                  "tcbDate": "2026-01-01T00:00:00Z", "tcbStatus": status}
                 for svn, pce, tdx, status in levels], advisories),
        }
        return self._signed("tcbInfo", info, None)

    def qe_identity(self, levels: list[tuple[int, str]] = ((8, "UpToDate"), (6, "OutOfDate")),
                    id: str = "QE", mrsigner: bytes = b"\xa2" * 32, isvprodid: int = 1,
                    next_update: datetime | None = None,
                    signer: ec.EllipticCurvePrivateKey | None = None,
                    advisories: Sequence[Sequence[str]] = (), evaluation: int = 17) -> bytes:
        """Signed Enclave Identity v2 for the QE (or TD_QE) the builders' quotes carry."""
        body = {
            "id": id, "version": 2, "issueDate": _stamp(self.now - timedelta(days=1)),
            "nextUpdate": _stamp(next_update or self.now + timedelta(days=30)),
            "tcbEvaluationDataNumber": evaluation, "miscselect": "00000000",
            "miscselectMask": "FFFFFFFF", "attributes": "11000000000000000000000000000000",
            "attributesMask": "FBFFFFFFFFFFFFFF0000000000000000",
            "mrsigner": mrsigner.hex().upper(), "isvprodid": isvprodid,
            "tcbLevels": _with_advisories(
                [{"tcb": {"isvsvn": svn}, "tcbDate": "2026-01-01T00:00:00Z", "tcbStatus": status}
                 for svn, status in levels], advisories),
        }
        return self._signed("enclaveIdentity", body, signer)

    def crl(self, issuer: str = "ca", revoked: tuple[x509.Certificate, ...] = (),
            next_update: datetime | None = None, this_update: datetime | None = None,
            signer: ec.EllipticCurvePrivateKey | None = None, encoding: str = "der") -> bytes:
        """The root CA CRL (issuer "root") or the PCK CA CRL (issuer "ca"), DER or PEM."""
        name, key = ((self.root.subject, self.root_key) if issuer == "root"
                     else (self.ca.subject, self.ca_key))
        builder = (x509.CertificateRevocationListBuilder().issuer_name(name)
                   .last_update(this_update or self.now - timedelta(days=1))
                   .next_update(next_update or self.now + timedelta(days=30)))
        for cert in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(cert.serial_number)
                .revocation_date(self.now - timedelta(days=2)).build())
        crl = builder.sign(signer or key, hashes.SHA256())
        return crl.public_bytes(serialization.Encoding.PEM if encoding == "pem"
                                else serialization.Encoding.DER)

    def crls(self, **pck: object) -> list[bytes]:
        """A current root CA CRL and PCK CA CRL revoking nothing (or as `pck` says)."""
        return [self.crl("root"), self.crl("ca", **pck)]  # type: ignore[arg-type]


def _with_advisories(levels: list[dict], advisories: Sequence[Sequence[str]]) -> list[dict]:
    """The levels, each with the `advisoryIDs` at its index (Intel omits the key when none)."""
    for level, ids in zip(levels, advisories):
        if ids:
            level["advisoryIDs"] = list(ids)
    return levels


def _tdx_components(svn: int) -> list[dict]:
    """Every TDX component at `svn`, but byte 1 (the TDX module's major version) at 0."""
    return [{"svn": 0 if i == 1 else svn} for i in range(16)]


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def report_body(mr_enclave: bytes = b"\x11" * 32, mr_signer: bytes = b"\x22" * 32,
                report_data: bytes = b"\x33" * 64, attributes: bytes = bytes(16),
                isv_prod_id: int = 0, isv_svn: int = 0) -> bytes:
    body = bytearray(384)
    body[48:64] = attributes
    body[256:258] = isv_prod_id.to_bytes(2, "little")
    body[258:260] = isv_svn.to_bytes(2, "little")
    body[64:96] = mr_enclave
    body[128:160] = mr_signer
    body[320:384] = report_data
    return bytes(body)


def td_report_body(mr_td: bytes = b"\x44" * 48, report_data: bytes = b"\x55" * 64,
                   rtmrs: tuple[bytes, ...] = (b"\x60" * 48, b"\x61" * 48, b"\x62" * 48,
                                               b"\x63" * 48),
                   tee_tcb_svn: bytes = b"\x07" * 16, mr_signer_seam: bytes = bytes(48),
                   td_attributes: bytes = bytes(8), v15: bool = False,
                   mr_service_td: bytes = b"\x66" * 48) -> bytes:
    """A TD report body 1.0, or 1.5 (`v15`: TEE_TCB_SVN2 0x08.., then `mr_service_td`)."""
    body = bytearray(648 if v15 else 584)
    if v15:
        body[584:600] = b"\x08" * 16
        body[600:648] = mr_service_td
    body[0:16] = tee_tcb_svn
    body[64:112] = mr_signer_seam
    body[120:128] = td_attributes
    body[136:184] = mr_td
    for i, rtmr in enumerate(rtmrs):
        body[328 + 48 * i:376 + 48 * i] = rtmr
    body[520:584] = report_data
    return bytes(body)


@dataclass
class QuoteParts:
    """Every part of a quote, each overridable before `build` signs what is not overridden."""

    pki: Pki
    version: int = 3
    tee_type: int = 0
    att_key: ec.EllipticCurvePrivateKey = field(default_factory=_key)
    body: bytes = field(default_factory=report_body)
    qe_auth_data: bytes = bytes(range(32))
    certification_type: int = 5
    certification_data: bytes | None = None
    user_data: bytes = b"\x99" * 20
    qe_mr_signer: bytes = b"\xa2" * 32
    qe_isv_prod_id: int = 1
    qe_isv_svn: int = 8
    qe_attributes: bytes = bytes.fromhex("11" + "00" * 15)
    body_type: int | None = None  # v5's descriptor; None: the type that fits the body

    def header(self) -> bytes:
        return struct.pack("<HHIHH16s20s", self.version, 2, self.tee_type, 0, 13,
                           b"\x93\x9a\x72\x33\xf7\x9c\x4c\xa9\x94\x0a\x0d\xb3\x95\x7f\x06\x07",
                           self.user_data)

    def qe_report(self) -> bytes:
        binding = hashlib.sha256(raw_key(self.att_key) + self.qe_auth_data).digest() + bytes(32)
        return report_body(mr_enclave=b"\xa1" * 32, mr_signer=self.qe_mr_signer,
                           report_data=binding, attributes=self.qe_attributes,
                           isv_prod_id=self.qe_isv_prod_id, isv_svn=self.qe_isv_svn)

    def build(self, qe_report: bytes | None = None, qe_signature: bytes | None = None,
              signature: bytes | None = None) -> bytes:
        signed = self.header() + self.body
        if self.version == 5:
            body_type = self.body_type or {384: 1, 584: 2, 648: 3}[len(self.body)]
            signed = self.header() + struct.pack("<HI", body_type, len(self.body)) + self.body
        qe_report = qe_report if qe_report is not None else self.qe_report()
        qe_sig = qe_signature if qe_signature is not None else raw_sign(self.pki.pck_key, qe_report)
        cert_data = (self.certification_data if self.certification_data is not None
                     else self.pki.pck_chain_pem)
        tail = (qe_report + qe_sig + struct.pack("<H", len(self.qe_auth_data)) + self.qe_auth_data
                + struct.pack("<HI", self.certification_type, len(cert_data)) + cert_data)
        if self.version >= 4:
            tail = struct.pack("<HI", 6, len(tail)) + tail
        sig_data = ((signature if signature is not None else raw_sign(self.att_key, signed))
                    + raw_key(self.att_key) + tail)
        return signed + struct.pack("<I", len(sig_data)) + sig_data
