"""Tests of the SGX quote body layout: build, parse, offsets, and Teaclave's own quote."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography import x509

from gaiwan.attestation.quote import (
    MR_ENCLAVE,
    MR_SIGNER,
    QUOTE_BODY_SIZE,
    REPORT_DATA,
    QuoteBody,
    parse_quote_body,
)
from gaiwan.errors import AttestationError
from tests.fixtures import teaclave_fixture


def _quote() -> QuoteBody:
    return QuoteBody(mr_enclave=bytes(range(32)), mr_signer=bytes(range(100, 132)),
                     report_data=bytes(range(64, 128)), isv_prod_id=7, isv_svn=3,
                     cpu_svn=b"\x01" * 16, attributes=b"\x02" * 16)


def test_round_trip_keeps_every_field() -> None:
    """A quote survives to_bytes then parse unchanged, in exactly 432 bytes."""
    quote = _quote()
    raw = quote.to_bytes()
    assert len(raw) == QUOTE_BODY_SIZE == 432
    assert parse_quote_body(raw) == quote


def test_measurements_sit_at_sgx_offsets() -> None:
    """MRENCLAVE, MRSIGNER and REPORTDATA are at 112, 176 and 368 as Teaclave clients read them."""
    raw = _quote().to_bytes()
    assert raw[MR_ENCLAVE] == raw[112:144] == bytes(range(32))
    assert raw[MR_SIGNER] == raw[176:208] == bytes(range(100, 132))
    assert raw[REPORT_DATA] == raw[368:432] == bytes(range(64, 128))
    assert raw[48:64] == b"\x01" * 16  # cpu_svn opens the report body
    assert raw[96:112] == b"\x02" * 16  # attributes
    assert raw[304:306] == b"\x07\x00" and raw[306:308] == b"\x03\x00"  # isv_prod_id, isv_svn


def test_unused_fields_are_zero() -> None:
    """A quote built from measurements only is zeros everywhere else in the report body."""
    raw = QuoteBody(b"\xaa" * 32, b"\xbb" * 32, b"\xcc" * 64).to_bytes()
    body = bytearray(raw[48:])
    body[64:96] = bytes(32)
    body[128:160] = bytes(32)
    body[320:384] = bytes(64)
    assert body == bytes(384)


@pytest.mark.parametrize("size", [0, 431, 433])
def test_wrong_length_is_refused(size: int) -> None:
    """Anything but 432 bytes is not a quote body."""
    with pytest.raises(AttestationError, match="expected 432"):
        parse_quote_body(bytes(size))


def test_field_sizes_are_enforced() -> None:
    """A measurement of the wrong size cannot be put into a quote."""
    with pytest.raises(ValueError, match="mr_enclave"):
        QuoteBody(b"short", bytes(32), bytes(64))


def test_teaclave_quote_parses_byte_exact() -> None:
    """The quote inside Teaclave's v4 RA-TLS fixture parses and re-serializes to the same bytes."""
    cert = x509.load_der_x509_certificate(teaclave_fixture("tls_ra_cert_v4.der").read_bytes())
    comment = json.loads(cert.extensions[0].value.value)
    raw = base64.b64decode(json.loads(bytes(comment["report"]))["isvEnclaveQuoteBody"])
    quote = parse_quote_body(raw)
    assert quote.version == 3
    assert quote.mr_enclave == raw[112:144]
    assert quote.to_bytes() == raw
