"""The TCB status of an SGX platform from Intel's TCB info collateral (sans-IO, minimal).

Sources: "Intel SGX ECDSA Quote Library API" (TCB level matching), Intel "Provisioning
Certification Service for ECDSA Attestation" API (TCB info v2/v3 JSON, signed by the TCB Signing
certificate whose chain is in the `TCB-Info-Issuer-Chain` header) and "Intel SGX PCK Certificate
and Certificate Revocation List Profile Specification" (the SGX extension, OID
1.2.840.113741.1.13.1, carrying the platform's TCB component SVNs, PCESVN and FMSPC).

Read: `tcbInfo.{fmspc, nextUpdate, tcbLevels[].{tcb, tcbStatus}}` and the hex `signature` (r||s
over the exact bytes of the `tcbInfo` value). The status is that of the first level (they are
listed newest first) whose 16 SGX component SVNs and PCESVN the PCK certificate all reaches.
TDX levels also compare the TD's TEE_TCB_SVN; that is not implemented, so TDX collateral is
refused and the caller states the status instead. A full ASN.1 library was not worth a
dependency for one extension: the few DER shapes used here are decoded by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from ..errors import AttestationError
from .chain import split_pem_chain, verify_chain
from .p256 import verify_raw_signature

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


def _signed_tcb_info(text: bytes) -> tuple[dict[str, Any], bytes, bytes]:
    """The tcbInfo object, its exact bytes (what was signed) and the signature.

    The object is decoded from the very bytes whose signature is checked, never from a second
    parse of the document: with a repeated key, the two could differ.
    """
    try:
        decoded = text.decode()
        doc = json.loads(decoded)
        key = '"tcbInfo"'
        start = decoded.index(":", decoded.index(key) + len(key)) + 1
        while decoded[start] in " \t\r\n":
            start += 1
        info, end = json.JSONDecoder().raw_decode(decoded, start)
        signature = bytes.fromhex(doc["signature"])
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, IndexError):
        raise AttestationError("TCB info is not a signed tcbInfo JSON document") from None
    if not isinstance(info, dict):
        raise AttestationError("TCB info has no tcbInfo object")
    return info, decoded[start:end].encode(), signature


def _level_svns(tcb: Any) -> tuple[tuple[int, ...], int]:
    """A level's 16 SGX component SVNs and PCESVN (TCB info v3 list, or v2 named fields)."""
    if "sgxtcbcomponents" in tcb:
        svns = tuple(int(c["svn"]) for c in tcb["sgxtcbcomponents"])
    else:
        svns = tuple(int(tcb[f"sgxtcbcomp{i:02d}svn"]) for i in range(1, 17))
    if len(svns) != 16:
        raise ValueError("a TCB level needs 16 SGX component SVNs")
    return svns, int(tcb["pcesvn"])


def _time(text: object, what: str) -> datetime:
    try:
        when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise AttestationError(f"TCB info {what} {text!r} is not a time") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def tcb_status_from_collateral(tcb_info: bytes, issuer_chain_pem: bytes, root: x509.Certificate,
                               pck: x509.Certificate, at: datetime, tdx: bool = False) -> str:
    """The TCB status Intel's signed TCB info gives the platform of `pck`, at time `at`."""
    chain = split_pem_chain(issuer_chain_pem, "TCB info issuer chain")
    try:
        verify_chain(chain, root, at)
    except AttestationError as exc:
        raise AttestationError(f"TCB info issuer chain: {exc.message}") from None
    info, signed, signature = _signed_tcb_info(tcb_info)
    signer = chain[0].public_key()
    if not isinstance(signer, ec.EllipticCurvePublicKey) or not isinstance(signer.curve,
                                                                           ec.SECP256R1):
        raise AttestationError("TCB signing certificate does not hold a P-256 key")
    verify_raw_signature(signer, signature, signed, "TCB info signature")
    if tdx or info.get("id") == "TDX":
        raise AttestationError("TDX TCB info is not evaluated; state the TCB status instead")
    if _time(info.get("nextUpdate"), "nextUpdate") < at:
        raise AttestationError(f"TCB info expired at {info.get('nextUpdate')}")
    platform = platform_tcb(pck)
    if str(info.get("fmspc", "")).lower() != platform.fmspc.hex():
        raise AttestationError(
            f"TCB info is for FMSPC {info.get('fmspc')}, the PCK certificate is for "
            f"{platform.fmspc.hex().upper()}")
    levels = info.get("tcbLevels")
    if not isinstance(levels, list):
        raise AttestationError("TCB info has no tcbLevels list")
    for level in levels:
        try:
            svns, pce_svn = _level_svns(level["tcb"])
            status = str(level["tcbStatus"])
        except (KeyError, TypeError, ValueError):
            raise AttestationError("TCB info holds a malformed TCB level") from None
        if pce_svn <= platform.pce_svn and all(
                want <= have for want, have in zip(svns, platform.sgx_svns)):
            return status
    raise AttestationError("the PCK certificate's TCB is below every TCB level of the TCB info")
