"""A real TDX quote and Intel's real collateral (tests/attestation/data/README.md).

Synthetic quotes (dcap_builders) prove the verifier consistent with itself; these prove it reads
what Intel's hardware and PCS actually produce: the quote layout with its padding, the PCK chain
up to Intel's SGX Root CA, the QE report, the attestation-key binding, the signed QE identity and
TCB info with Intel's JSON canonical form, and the TCB level matching. The platform of this
quote reports SEAMLDR ACM SVN 3 (its PCK certificate's component 8) while the March 2025 TCB info
requires 5 in every level, so Intel's rules place it below every level: the full verification
must say so, after every signature has held.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cryptography import x509

from gaiwan.attestation.chain import split_pem_chain
from gaiwan.attestation.dcap import parse_dcap_quote
from gaiwan.attestation.dcap_verify import verify_dcap_quote
from gaiwan.attestation.policy import Policy
from gaiwan.attestation.tcb_info import platform_tcb
from gaiwan.errors import AttestationError

DATA = Path(__file__).resolve().parent / "data"
IN_WINDOW = datetime(2025, 3, 20, tzinfo=timezone.utc)


def _quote() -> bytes:
    return bytes.fromhex((DATA / "tdx-quote.hex").read_text().strip().removeprefix("0x"))


def _collateral() -> dict[str, str]:
    return dict(json.loads((DATA / "tdx_quote_collateral.json").read_text()))


def _signed(key: str, body: str, signature: str) -> bytes:
    """Intel's PCS form: the body exactly as signed, next to its signature."""
    return ('{"%s":%s,"signature":"%s"}' % (key, body, signature)).encode()


def _tcb_info(c: dict[str, str]) -> bytes:
    return _signed("tcbInfo", c["tcb_info"], c["tcb_info_signature"])


def _qe_identity(c: dict[str, str]) -> bytes:
    return _signed("enclaveIdentity", c["qe_identity"], c["qe_identity_signature"])


def _chain(c: dict[str, str]) -> bytes:
    return c["tcb_info_issuer_chain"].encode()


def _intel_root(c: dict[str, str]) -> x509.Certificate:
    return split_pem_chain(_chain(c), "TCB signing chain")[-1]


def _root_pem(c: dict[str, str]) -> bytes:
    chain = _chain(c)
    return chain[chain.index(b"-----BEGIN CERTIFICATE-----", 1):]


def test_the_quote_parses_as_a_padded_tdx_quote_chained_to_intels_root() -> None:
    raw = _quote()
    assert raw[-70:] == bytes(70)  # the buffer as handed out, zero-padded
    quote = parse_dcap_quote(raw)
    assert quote.is_tdx
    pck_chain = split_pem_chain(quote.qe.certification_data, "PCK certificate chain")
    root = _intel_root(_collateral())
    assert root.subject.rfc4514_string().endswith("CN=Intel SGX Root CA")
    assert pck_chain[-1] == root  # the quote's chain ends in the same Intel root
    assert platform_tcb(pck_chain[0]).fmspc.hex() == "b0c06f000000"


def test_every_signature_and_the_qe_identity_hold() -> None:
    """PCK chain, QE report, key binding, quote signature, TCB signing chain and the TD QE
    identity all verify on real data (the TCB status here is given, not derived)."""
    c = _collateral()
    verified = verify_dcap_quote(_quote(), _root_pem(c), at=IN_WINDOW,
                                 qe_identity=_qe_identity(c), tcb_info_chain=_chain(c),
                                 tcb_status="UpToDate")
    assert verified.qe_tcb_status == "UpToDate"
    assert verified.tcb_status == "UpToDate"
    assert verified.advisory_ids == ()  # Intel's UpToDate TD QE level lists no advisory
    assert "Intel SGX PCK Certificate" in verified.pck_certificate.subject.rfc4514_string()


def test_intels_tcb_info_places_this_platform_below_every_level() -> None:
    c = _collateral()
    with pytest.raises(AttestationError, match="below every TCB level"):
        verify_dcap_quote(_quote(), _root_pem(c), at=IN_WINDOW, tcb_info=_tcb_info(c),
                          tcb_info_chain=_chain(c), qe_identity=_qe_identity(c))


def test_the_tcb_info_of_the_quotes_fmspc_is_the_one_asked_for() -> None:
    """Looked up by the PCK certificate's FMSPC (as with several TCB infos), Intel's TCB info is
    asked for b0c06f000000 and places the platform below every level all the same, even for a
    policy refusing an advisory (INTEL-SA-00837) that the OutOfDate level lists."""
    c = _collateral()
    asked: list[str] = []

    def pick(fmspc: bytes) -> bytes:
        asked.append(fmspc.hex())
        return _tcb_info(c)

    strict = Policy(refused_advisories=frozenset({"INTEL-SA-00837"}))
    with pytest.raises(AttestationError, match="below every TCB level"):
        verify_dcap_quote(_quote(), _root_pem(c), at=IN_WINDOW, tcb_info_for=pick, policy=strict,
                          tcb_info_chain=_chain(c), qe_identity=_qe_identity(c))
    assert asked == ["b0c06f000000"]


@pytest.mark.parametrize(("offset", "reason"), [
    (48 + 100, "quote signature"),  # a byte of the TD report body
    (48 + 584 + 4 + 64 + 64 + 200, "QE report signature"),  # a byte of the QE report
])
def test_a_flipped_byte_of_real_evidence_is_refused(offset: int, reason: str) -> None:
    c = _collateral()
    quote = bytearray(_quote())
    quote[offset] ^= 0x01
    with pytest.raises(AttestationError, match=reason):
        verify_dcap_quote(bytes(quote), _root_pem(c), at=IN_WINDOW, tcb_status="UpToDate")


def test_tampered_or_stale_collateral_is_refused() -> None:
    c = _collateral()
    tampered = dict(c, qe_identity=c["qe_identity"].replace('"isvprodid":2', '"isvprodid":3'))
    with pytest.raises(AttestationError, match="signature"):
        verify_dcap_quote(_quote(), _root_pem(c), at=IN_WINDOW, tcb_status="UpToDate",
                          qe_identity=_qe_identity(tampered), tcb_info_chain=_chain(c))
    after_next_update = datetime(2025, 4, 20, tzinfo=timezone.utc)
    with pytest.raises(AttestationError, match="QE identity"):
        verify_dcap_quote(_quote(), _root_pem(c), at=after_next_update, tcb_status="UpToDate",
                          qe_identity=_qe_identity(c), tcb_info_chain=_chain(c))
