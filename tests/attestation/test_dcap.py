"""Tests of the DCAP quote parser: SGX v3/v4/v5 and TDX v4/v5 layouts, and malformed quotes."""

from __future__ import annotations

import hashlib
import struct

import pytest

from gaiwan.attestation.dcap import TEE_SGX, TEE_TDX, parse_dcap_quote
from gaiwan.errors import AttestationError
from tests.attestation.dcap_builders import Pki, QuoteParts, raw_key, td_report_body


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


def test_sgx_v3_fields(pki: Pki) -> None:
    """A v3 quote yields its header, enclave body, attestation key, QE report and PCK chain."""
    parts = QuoteParts(pki)
    quote = parse_dcap_quote(parts.build())
    assert (quote.version, quote.tee_type, quote.att_key_type) == (3, TEE_SGX, 2)
    assert quote.pce_svn == 13
    assert quote.user_data == b"\x99" * 20
    body = quote.sgx_body()
    assert body.mr_enclave == b"\x11" * 32 and body.mr_signer == b"\x22" * 32
    assert quote.report_data == b"\x33" * 64
    assert quote.attestation_key == raw_key(parts.att_key)
    assert quote.qe.qe_auth_data == bytes(range(32))
    assert quote.qe.qe_mr_enclave == b"\xa1" * 32 and quote.qe.qe_mr_signer == b"\xa2" * 32
    assert quote.qe.qe_report_data[:32] == hashlib.sha256(
        raw_key(parts.att_key) + bytes(range(32))).digest()
    assert (quote.qe.certification_type, quote.qe.certification_data) == (5, pki.pck_chain_pem)


def test_sgx_v4_unwraps_qe_report_certification_data(pki: Pki) -> None:
    """In v4 the QE report, signature, auth data and PCK chain come out of the type-6 wrapper."""
    parts = QuoteParts(pki, version=4)
    quote = parse_dcap_quote(parts.build())
    assert quote.version == 4 and not quote.is_tdx
    assert quote.qe.certification_type == 5
    assert quote.qe.certification_data == pki.pck_chain_pem
    assert quote.sgx_body().mr_enclave == b"\x11" * 32


def test_tdx_v4_td_report_fields(pki: Pki) -> None:
    """A TDX quote's MRTD, RTMRs and REPORTDATA are read at the TD report body offsets."""
    body = td_report_body(mr_td=b"\xd0" * 48, report_data=bytes(range(64)))
    quote = parse_dcap_quote(QuoteParts(pki, version=4, tee_type=TEE_TDX, body=body).build())
    td = quote.td_report()
    assert quote.is_tdx and len(quote.body) == 584
    assert td.mr_td == b"\xd0" * 48
    assert td.report_data == bytes(range(64)) == quote.report_data
    assert td.rtmrs == (b"\x60" * 48, b"\x61" * 48, b"\x62" * 48, b"\x63" * 48)
    assert td.tee_tcb_svn == b"\x07" * 16
    with pytest.raises(AttestationError, match="TDX quote has no SGX enclave report body"):
        quote.sgx_body()


def test_truncated_quote_names_the_field(pki: Pki) -> None:
    """A quote cut short is refused, saying which field ran out."""
    data = QuoteParts(pki).build()
    with pytest.raises(AttestationError, match="truncated: signature data needs"):
        parse_dcap_quote(data[:-1])
    with pytest.raises(AttestationError, match="truncated: SGX report body"):
        parse_dcap_quote(data[:100])


def test_trailing_bytes_are_refused_but_zero_padding_is_not(pki: Pki) -> None:
    """Bytes after the signature data are refused rather than ignored; zero padding (as TEE
    interfaces hand out quote buffers) is allowed, since it can carry nothing."""
    quote = QuoteParts(pki).build()
    assert parse_dcap_quote(quote + bytes(70)) == parse_dcap_quote(quote)
    with pytest.raises(AttestationError, match="unexpected trailing bytes"):
        parse_dcap_quote(quote + b"\x00\x01")


@pytest.mark.parametrize(("offset", "value", "reason"), [
    (0, 6, "quote version 6 is not 3, 4 or 5"),
    (2, 3, "attestation key type 3 is not ECDSA P-256"),
])
def test_header_values_refused(pki: Pki, offset: int, value: int, reason: str) -> None:
    """Unknown versions and attestation key types are refused by name."""
    data = bytearray(QuoteParts(pki).build())
    data[offset:offset + 2] = struct.pack("<H", value)
    with pytest.raises(AttestationError, match=reason):
        parse_dcap_quote(bytes(data))


def test_unknown_tee_type_refused(pki: Pki) -> None:
    """A v4 quote whose TEE type is neither SGX nor TDX is refused."""
    with pytest.raises(AttestationError, match="TEE type 0x7 is neither"):
        parse_dcap_quote(QuoteParts(pki, version=4, tee_type=7).build())


def test_v4_requires_qe_report_certification_wrapper(pki: Pki) -> None:
    """A v4 quote whose outer certification data is not type 6 is refused."""
    data = bytearray(QuoteParts(pki, version=4).build())
    outer = 48 + 384 + 4 + 128
    data[outer:outer + 2] = struct.pack("<H", 5)
    with pytest.raises(AttestationError, match="is not QE report certification data"):
        parse_dcap_quote(bytes(data))


def test_v5_tdx_1_5_body_is_read_and_signed_with_its_descriptor(pki: Pki) -> None:
    """v5: a descriptor (type 3, 648 bytes) precedes a TD report 1.5; the 1.0 fields sit where
    they always did, TEE_TCB_SVN2 and MRSERVICETD follow, and the signed bytes include the
    descriptor."""
    body = td_report_body(mr_td=b"\xd0" * 48, report_data=bytes(range(64)), v15=True)
    data = QuoteParts(pki, version=5, tee_type=TEE_TDX, body=body).build()
    quote = parse_dcap_quote(data)
    td = quote.td_report()
    assert (quote.version, len(quote.body)) == (5, 648)
    assert td.mr_td == b"\xd0" * 48 and td.report_data == bytes(range(64)) == quote.report_data
    assert td.tee_tcb_svn == b"\x07" * 16
    assert (td.tee_tcb_svn2, td.mr_service_td) == (b"\x08" * 16, b"\x66" * 48)
    assert quote.signed_data == data[:48 + 6 + 648]
    assert quote.descriptor == struct.pack("<HI", 3, 648)


@pytest.mark.parametrize(("tee_type", "body"), [(TEE_TDX, td_report_body()), (TEE_SGX, None)])
def test_v5_with_a_1_0_or_sgx_body(pki: Pki, tee_type: int, body: bytes | None) -> None:
    """v5 also carries the older bodies (type 2, TD 1.0; type 1, SGX), read as in v4."""
    parts = QuoteParts(pki, version=5, tee_type=tee_type)
    if body is not None:
        parts.body = body
    quote = parse_dcap_quote(parts.build())
    if tee_type == TEE_TDX:
        assert quote.td_report().tee_tcb_svn2 is None and len(quote.body) == 584
    else:
        assert quote.sgx_body().mr_enclave == b"\x11" * 32
        assert quote.report_data == b"\x33" * 64


@pytest.mark.parametrize(("tee_type", "body_type", "reason"), [
    (TEE_TDX, 4, "quote body type 4 is not 1"),
    (TEE_TDX, 1, "quote body type 1 does not fit TEE type 0x81"),
    (TEE_SGX, 2, "quote body type 2 does not fit TEE type 0x0"),
])
def test_v5_descriptor_must_name_a_known_body_of_its_tee(pki: Pki, tee_type: int,
                                                         body_type: int, reason: str) -> None:
    """An unknown body type, or one of the other TEE, is refused by name."""
    body = td_report_body() if tee_type == TEE_TDX else QuoteParts(pki).body
    parts = QuoteParts(pki, version=5, tee_type=tee_type, body=body, body_type=body_type)
    with pytest.raises(AttestationError, match=reason):
        parse_dcap_quote(parts.build())


def test_v5_declared_size_must_be_the_body_types(pki: Pki) -> None:
    """A descriptor whose size disagrees with its type is refused before anything is read."""
    data = bytearray(QuoteParts(pki, version=5, tee_type=TEE_TDX,
                                body=td_report_body(v15=True)).build())
    data[50:54] = struct.pack("<I", 584)
    with pytest.raises(AttestationError, match="declares 584 bytes, not 648"):
        parse_dcap_quote(bytes(data))
