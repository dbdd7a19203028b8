"""Tests of CRL checks on the PCK chain and the TCB signing chain (DER, PEM, hex DER)."""

from __future__ import annotations

import binascii
from datetime import timedelta

import pytest

from gaiwan.attestation.dcap_verify import verify_dcap_quote
from gaiwan.errors import AttestationError
from tests.attestation.dcap_builders import NOW, Pki, QuoteParts


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


def _verify(pki: Pki, crls: list[bytes], with_tcb_chain: bool = False) -> None:
    verify_dcap_quote(QuoteParts(pki).build(), pki.root_pem, at=NOW, tcb_status="UpToDate",
                      crls=crls, tcb_info_chain=pki.tcb_chain_pem() if with_tcb_chain else None)


@pytest.mark.parametrize("encoding", ["der", "pem", "hex"])
def test_current_crls_in_any_encoding_pass(pki: Pki, encoding: str) -> None:
    """CRLs revoking nothing, as DER, PEM or hex DER, let a valid quote through."""
    crls = [pki.crl("root", encoding="pem" if encoding == "pem" else "der"),
            pki.crl("ca", encoding="pem" if encoding == "pem" else "der")]
    if encoding == "hex":
        crls = [binascii.hexlify(c) for c in crls]
    _verify(pki, crls, with_tcb_chain=True)


def test_revoked_intermediate_ca_is_refused(pki: Pki) -> None:
    """The PCK CA on the root CA CRL is refused, naming it."""
    with pytest.raises(AttestationError, match="PCK certificate chain: certificate CN=Test SGX "
                                               "PCK Platform CA .* is revoked by CN=Test SGX Root"):
        _verify(pki, [pki.crl("root", revoked=(pki.ca,)), pki.crl("ca")])


def test_missing_crl_is_refused(pki: Pki) -> None:
    """Without the PCK CA's CRL, whether the PCK certificate is revoked is unknown: refused."""
    with pytest.raises(AttestationError, match="no CRL from CN=Test SGX PCK Platform CA, so "
                                               "whether CN=Test SGX PCK Certificate is revoked"):
        _verify(pki, [pki.crl("root")])


def test_crl_not_yet_valid_is_refused(pki: Pki) -> None:
    """A CRL from the future (thisUpdate after the verification time) is refused."""
    future = pki.crl("ca", this_update=NOW + timedelta(hours=1))
    with pytest.raises(AttestationError, match="CRL of CN=Test SGX PCK Platform CA is not valid yet"):
        _verify(pki, [pki.crl("root"), future])


def test_crl_of_another_pki_with_the_same_name_is_refused(pki: Pki) -> None:
    """A CRL under the same issuer name but from another PKI does not verify."""
    other = Pki()
    with pytest.raises(AttestationError, match="CRL of CN=Test SGX PCK Platform CA does not verify"):
        _verify(pki, [pki.crl("root"), other.crl("ca")])


def test_garbage_crl_is_refused(pki: Pki) -> None:
    """Bytes that are no CRL are refused as such."""
    with pytest.raises(AttestationError, match="CRL is not a PEM, DER or hex DER CRL"):
        _verify(pki, [b"not a crl"])
