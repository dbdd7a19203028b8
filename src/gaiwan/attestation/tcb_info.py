"""The TCB status of an SGX platform from Intel's TCB info collateral (sans-IO, minimal).

Sources: "Intel SGX ECDSA Quote Library API" (TCB level matching), Intel "Provisioning
Certification Service for ECDSA Attestation" API (TCB info v2/v3 JSON, signed by the TCB Signing
certificate whose chain is in the `TCB-Info-Issuer-Chain` header) and "Intel SGX PCK Certificate
and Certificate Revocation List Profile Specification" (the SGX extension, OID
1.2.840.113741.1.13.1, carrying the platform's TCB component SVNs, PCESVN and FMSPC).

Read: `tcbInfo.{id, fmspc, issueDate, nextUpdate, tcbLevels[].{tcb, tcbStatus, advisoryIDs}}` and
the hex `signature` (r||s over the exact bytes of the `tcbInfo` value,
gaiwan.attestation.signed_json). The status is that of the first level (they are listed newest
first) whose 16 SGX component SVNs and PCESVN the PCK certificate all reaches; that level's
advisoryIDs are the Intel security advisories the platform is still exposed to.

TDX (TCB info v3 with `id` "TDX", Intel PCS "tcb-info-tdx-v4" and the Quote Verification
Library's TDX checks): a level must also be reached by the TD's TEE_TCB_SVN, byte i against
`tdxtcbcomponents[i].svn`. Byte 1 of TEE_TCB_SVN is the TDX module's major version: when it is
0 the module is checked against `tdxModule` (MRSIGNERSEAM equal to `mrsigner`, SEAM attributes
under `attributesMask` equal to `attributes`) and all 16 bytes are compared; otherwise against
the `tdxModuleIdentities` entry `TDX_<major as 2 hex digits>`, whose own `tcbLevels` give the
module a status (and advisories) from byte 0 (its ISVSVN), and the level comparison starts at
byte 2. The module status is merged into the platform status
(gaiwan.attestation.policy.merge_statuses), its advisories added to the platform level's.

A full ASN.1 library was not worth a dependency for one extension: the few DER shapes used here
are decoded by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509

from ..errors import AttestationError
from .dcap import TdReport
from .policy import merge_statuses
from .signed_json import check_current, level_advisories, verified_body

SGX_EXTENSION = x509.ObjectIdentifier("1.2.840.113741.1.13.1")
_TCB = "1.2.840.113741.1.13.1.2"
_FMSPC = "1.2.840.113741.1.13.1.4"
_PCESVN = _TCB + ".17"

_SEQUENCE, _INTEGER, _OCTETS, _OID = 0x30, 0x02, 0x04, 0x06


@dataclass(frozen=True)
class PlatformTcb:
    """What the PCK certificate says about its platform."""

    fmspc: bytes
    sgx_svns: tuple[int, ...]
    pce_svn: int


@dataclass(frozen=True)
class TcbMatch:
    """The TCB status Intel's TCB info gives a platform, and the advisories that still apply."""

    status: str
    advisory_ids: tuple[str, ...] = ()


def _tlvs(data: bytes) -> list[tuple[int, bytes]]:
    out, pos = [], 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise AttestationError("PCK SGX extension is malformed DER")
        tag, length = data[pos], data[pos + 1]
        pos += 2
        if length & 0x80:
            count = length & 0x7F
            if count == 0 or count > 4 or pos + count > len(data):
                raise AttestationError("PCK SGX extension is malformed DER")
            length = int.from_bytes(data[pos:pos + count], "big")
            pos += count
        if pos + length > len(data):
            raise AttestationError("PCK SGX extension is malformed DER")
        out.append((tag, data[pos:pos + length]))
        pos += length
    return out


def _oid(raw: bytes) -> str:
    arcs, value = [], 0
    for byte in raw:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if not arcs:
        return ""
    first = min(arcs[0] // 40, 2)
    return ".".join(map(str, [first, arcs[0] - 40 * first, *arcs[1:]]))


def _pairs(der: bytes) -> dict[str, tuple[int, bytes]]:
    """SEQUENCE OF SEQUENCE {OID, value} as {dotted oid: (tag, value)}."""
    out = {}
    for tag, seq in _tlvs(der):
        items = _tlvs(seq) if tag == _SEQUENCE else []
        if len(items) != 2 or items[0][0] != _OID:
            raise AttestationError("PCK SGX extension is not a sequence of (OID, value) pairs")
        out[_oid(items[0][1])] = items[1]
    return out


def platform_tcb(pck: x509.Certificate) -> PlatformTcb:
    """FMSPC, component SVNs and PCESVN from the PCK certificate's SGX extension."""
    try:
        ext = pck.extensions.get_extension_for_oid(SGX_EXTENSION).value
    except x509.ExtensionNotFound:
        raise AttestationError("PCK certificate has no SGX extension") from None
    raw = ext.value if isinstance(ext, x509.UnrecognizedExtension) else b""
    outer = _tlvs(raw)
    if len(outer) != 1 or outer[0][0] != _SEQUENCE:
        raise AttestationError("PCK SGX extension is not a sequence")
    fields = _pairs(outer[0][1])
    try:
        fmspc_tag, fmspc = fields[_FMSPC]
        tcb_tag, tcb_der = fields[_TCB]
    except KeyError:
        raise AttestationError("PCK SGX extension lacks the TCB or FMSPC entry") from None
    if fmspc_tag != _OCTETS or tcb_tag != _SEQUENCE:
        raise AttestationError("PCK SGX extension TCB or FMSPC entry has the wrong type")
    tcb = _pairs(tcb_der)
    try:
        svns = tuple(int.from_bytes(tcb[f"{_TCB}.{i}"][1], "big") for i in range(1, 17))
        pce_svn = int.from_bytes(tcb[_PCESVN][1], "big")
    except KeyError:
        raise AttestationError("PCK SGX extension TCB lacks a component SVN or PCESVN") from None
    return PlatformTcb(fmspc, svns, pce_svn)


def _level_svns(tcb: Any) -> tuple[tuple[int, ...], int]:
    """A level's 16 SGX component SVNs and PCESVN (TCB info v3 list, or v2 named fields)."""
    if "sgxtcbcomponents" in tcb:
        svns = tuple(int(c["svn"]) for c in tcb["sgxtcbcomponents"])
    else:
        svns = tuple(int(tcb[f"sgxtcbcomp{i:02d}svn"]) for i in range(1, 17))
    if len(svns) != 16:
        raise ValueError("a TCB level needs 16 SGX component SVNs")
    return svns, int(tcb["pcesvn"])


def _reaches(want: tuple[int, ...] | list[int], have: bytes | tuple[int, ...],
             start: int = 0) -> bool:
    return all(want[i] <= have[i] for i in range(start, len(want)))


def _tdx_module_level(info: dict[str, Any], td: TdReport) -> TcbMatch | None:
    """Checks the TDX module (SEAM) against the TCB info; its own level when it has one."""
    isv_svn, major = td.tee_tcb_svn[0], td.tee_tcb_svn[1]
    matched = None
    if major == 0:
        module = info.get("tdxModule")
        name = "tdxModule"
    else:
        name = f"TDX_{major:02X}"
        module = next((m for m in info.get("tdxModuleIdentities") or []
                       if isinstance(m, dict) and m.get("id") == name), None)
    if not isinstance(module, dict):
        raise AttestationError(f"TCB info has no TDX module identity {name}")
    try:
        mrsigner = bytes.fromhex(module["mrsigner"])
        attributes = int(module["attributes"], 16)
        mask = int(module["attributesMask"], 16)
        if major != 0:
            matched = next((TcbMatch(str(level["tcbStatus"]), level_advisories(level))
                            for level in module["tcbLevels"]
                            if int(level["tcb"]["isvsvn"]) <= isv_svn), None)
            if matched is None:
                raise AttestationError(
                    f"TDX module ISVSVN {isv_svn} is below every TCB level of {name}")
    except (KeyError, TypeError, ValueError):
        raise AttestationError(f"TCB info TDX module identity {name} is malformed") from None
    if td.mr_signer_seam != mrsigner:
        raise AttestationError(
            f"TDX module MRSIGNERSEAM {td.mr_signer_seam.hex()} is not the {name} mrsigner")
    if int.from_bytes(td.seam_attributes, "big") & mask != attributes:
        raise AttestationError(f"TDX module SEAM attributes do not match {name}")
    return matched


def tcb_level_from_collateral(tcb_info: bytes, issuer_chain_pem: bytes, root: x509.Certificate,
                              pck: x509.Certificate, at: datetime,
                              td: TdReport | None = None, min_evaluation: int = 0) -> TcbMatch:
    """Status and advisories of the level the platform of `pck` (and TD `td`) reaches at `at`,
    from TCB info of at least TCB evaluation `min_evaluation`."""
    info, _ = verified_body(tcb_info, "tcbInfo", "TCB info", issuer_chain_pem, root, at)
    kind = str(info.get("id", "SGX"))
    if kind != ("TDX" if td is not None else "SGX"):
        raise AttestationError(
            f"TCB info is for {kind}, the quote is {'TDX' if td is not None else 'SGX'}")
    check_current(info, "TCB info", at, min_evaluation)
    platform = platform_tcb(pck)
    if str(info.get("fmspc", "")).lower() != platform.fmspc.hex():
        raise AttestationError(
            f"TCB info is for FMSPC {info.get('fmspc')}, the PCK certificate is for "
            f"{platform.fmspc.hex().upper()}")
    levels = info.get("tcbLevels")
    if not isinstance(levels, list):
        raise AttestationError("TCB info has no tcbLevels list")
    module = _tdx_module_level(info, td) if td is not None else None
    for level in levels:
        try:
            svns, pce_svn = _level_svns(level["tcb"])
            status = str(level["tcbStatus"])
            advisories = level_advisories(level)
            tdx_svns = ([int(c["svn"]) for c in level["tcb"]["tdxtcbcomponents"]]
                        if td is not None else [])
        except (KeyError, TypeError, ValueError):
            raise AttestationError("TCB info holds a malformed TCB level") from None
        if td is not None and len(tdx_svns) != 16:
            raise AttestationError("TCB info holds a malformed TCB level")
        if pce_svn > platform.pce_svn or not _reaches(svns, platform.sgx_svns):
            continue
        if td is not None and not _reaches(tdx_svns, td.tee_tcb_svn,
                                           2 if td.tee_tcb_svn[1] else 0):
            continue
        if module is None:
            return TcbMatch(status, advisories)
        return TcbMatch(merge_statuses(status, module.status),
                        tuple(dict.fromkeys(advisories + module.advisory_ids)))
    what = "PCK certificate's TCB" if td is None else "PCK certificate's and TD's TCB"
    raise AttestationError(f"the {what} is below every TCB level of the TCB info")
