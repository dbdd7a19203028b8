"""Tests of DCAP quote verification: a valid chain of trust, and each tampering refused by name."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from gaiwan.attestation.dcap import TEE_TDX
from gaiwan.attestation.dcap_verify import VerifiedQuote, verify_dcap_quote
from gaiwan.attestation.policy import Policy
from gaiwan.errors import AttestationError
from tests.attestation.dcap_builders import (
    NOW,
    Pki,
    QuoteParts,
    raw_sign,
    td_report_body,
)

UP = "UpToDate"


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


def _verify(data: bytes, pki: Pki, tcb_status: str | None = UP,
            policy: Policy = Policy()) -> VerifiedQuote:
    return verify_dcap_quote(data, pki.root_pem, at=NOW, tcb_status=tcb_status, policy=policy)


def _flip(data: bytes, offset: int) -> bytes:
    out = bytearray(data)
    out[offset] ^= 0x01
    return bytes(out)


@pytest.mark.parametrize("version", [3, 4, 5])
def test_valid_sgx_quote_verifies(pki: Pki, version: int) -> None:
    """A well-formed SGX quote v3, v4 or v5 verifies and returns its body and status."""
    verified = _verify(QuoteParts(pki, version=version).build(), pki)
    assert verified.tcb_status == UP
    assert verified.quote.sgx_body().mr_enclave == b"\x11" * 32
    assert verified.pck_certificate == pki.pck


def test_valid_tdx_quote_verifies(pki: Pki) -> None:
    """A TDX quote v4 verifies with the same chain of trust, its REPORTDATA then trustworthy."""
    body = td_report_body(report_data=b"\x5a" * 64)
    verified = _verify(QuoteParts(pki, version=4, tee_type=TEE_TDX, body=body).build(), pki)
    assert verified.quote.td_report().report_data == b"\x5a" * 64


def test_valid_tdx_1_5_quote_v5_verifies(pki: Pki) -> None:
    """A TDX quote v5 with a TD report 1.5 verifies through the same chain of trust."""
    body = td_report_body(report_data=b"\x5a" * 64, v15=True)
    verified = _verify(QuoteParts(pki, version=5, tee_type=TEE_TDX, body=body).build(), pki)
    assert verified.quote.td_report().report_data == b"\x5a" * 64
    assert verified.quote.td_report().mr_service_td == b"\x66" * 48


@pytest.mark.parametrize("offset", [48, 49, 50, 53, 48 + 6 + 600, 48 + 6 + 647])
def test_v5_descriptor_and_1_5_fields_are_signed(pki: Pki, offset: int) -> None:
    """The body descriptor (a changed type or size would change how the body reads) and the
    TD 1.5 fields are covered by the quote signature."""
    data = QuoteParts(pki, version=5, tee_type=TEE_TDX, body=td_report_body(v15=True)).build()
    with pytest.raises(AttestationError):
        _verify(_flip(data, offset), pki)
    if offset >= 54:  # still parses: the signature is what refuses it
        with pytest.raises(AttestationError, match=r"quote signature \(by the attestation key\)"):
            _verify(_flip(data, offset), pki)


@pytest.mark.parametrize("offset", [20, 47, 48 + 64, 48 + 383])
def test_header_or_body_byte_breaks_quote_signature(pki: Pki, offset: int) -> None:
    """Changing a signed header or body byte makes the quote signature fail."""
    data = _flip(QuoteParts(pki).build(), offset)
    with pytest.raises(AttestationError, match=r"quote signature \(by the attestation key\)"):
        _verify(data, pki)


def test_forged_quote_signature_refused(pki: Pki) -> None:
    """A quote signature by another key is refused."""
    parts = QuoteParts(pki)
    forged = raw_sign(ec.generate_private_key(ec.SECP256R1()), parts.header() + parts.body)
    with pytest.raises(AttestationError, match=r"quote signature \(by the attestation key\)"):
        _verify(parts.build(signature=forged), pki)


def test_tampered_qe_report_refused(pki: Pki) -> None:
    """A QE report changed after the PCK key signed it is refused."""
    parts = QuoteParts(pki)
    good = parts.qe_report()
    tampered = _flip(good, 64)  # QE MRENCLAVE
    signature = raw_sign(pki.pck_key, good)
    with pytest.raises(AttestationError, match=r"QE report signature \(by the PCK key\)"):
        _verify(parts.build(qe_report=tampered, qe_signature=signature), pki)


def test_qe_report_signed_by_other_key_refused(pki: Pki) -> None:
    """A QE report signature not made by the PCK leaf key is refused."""
    parts = QuoteParts(pki)
    signature = raw_sign(pki.ca_key, parts.qe_report())
    with pytest.raises(AttestationError, match=r"QE report signature \(by the PCK key\)"):
        _verify(parts.build(qe_signature=signature), pki)


def test_auth_data_binding_refused(pki: Pki) -> None:
    """A QE report whose REPORTDATA does not hash the attestation key and auth data is refused."""
    parts = QuoteParts(pki)
    qe_report = parts.qe_report()
    parts.qe_auth_data = b"other auth data"
    with pytest.raises(AttestationError, match="QE report REPORTDATA is not SHA-256"):
        _verify(parts.build(qe_report=qe_report), pki)


def test_swapped_attestation_key_refused(pki: Pki) -> None:
    """An attestation key other than the one the QE vouched for is refused, even self-consistent."""
    parts = QuoteParts(pki)
    qe_report = parts.qe_report()
    parts.att_key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(AttestationError, match="did not vouch for this attestation key"):
        _verify(parts.build(qe_report=qe_report), pki)


def test_chain_to_another_root_refused(pki: Pki) -> None:
    """A PCK chain from another PKI does not verify against the given root."""
    other = Pki()
    data = QuoteParts(pki, certification_data=other.pck_chain_pem).build()
    with pytest.raises(AttestationError, match="PCK certificate chain: .* does not chain to"):
        _verify(data, pki)


def test_expired_pck_refused() -> None:
    """A PCK certificate expired at the verification time is refused."""
    pki = Pki(pck_not_after=NOW - timedelta(days=1))
    with pytest.raises(AttestationError,
                       match="PCK certificate chain: certificate .* is not valid at"):
        _verify(QuoteParts(pki).build(), pki)


def test_non_pck_certification_data_refused(pki: Pki) -> None:
    """Certification data other than a PEM PCK chain (type 5) is refused."""
    with pytest.raises(AttestationError, match="certification data type 3 is not a PCK"):
        _verify(QuoteParts(pki, certification_type=3).build(), pki)


def test_garbage_pck_chain_refused(pki: Pki) -> None:
    """A certification data blob that holds no PEM certificate is refused."""
    with pytest.raises(AttestationError, match="PCK certificate chain holds"):
        _verify(QuoteParts(pki, certification_data=b"not a chain").build(), pki)


def test_unaccepted_tcb_status_refused(pki: Pki) -> None:
    """A status the policy does not accept refuses an otherwise valid quote."""
    with pytest.raises(AttestationError, match="TCB status OutOfDate .* is not accepted"):
        _verify(QuoteParts(pki).build(), pki, tcb_status="OutOfDate")
    loose = Policy(accepted_statuses=frozenset({"OutOfDate"}))
    assert _verify(QuoteParts(pki).build(), pki, tcb_status="OutOfDate", policy=loose)


def test_missing_tcb_status_refused(pki: Pki) -> None:
    """Without collateral or a stated status, the quote is refused."""
    with pytest.raises(AttestationError, match="no TCB status"):
        _verify(QuoteParts(pki).build(), pki, tcb_status=None)
