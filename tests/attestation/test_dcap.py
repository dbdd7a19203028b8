"""Tests of the DCAP quote parser: SGX v3/v4 and TDX v4 layouts, and malformed quotes."""

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
    (0, 5, "quote version 5 is not 3 or 4"),
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
