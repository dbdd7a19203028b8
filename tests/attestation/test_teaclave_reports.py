"""Tests of Teaclave's historical report layouts (v3 IAS, v4 DCAP) and each class of tampering."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from cryptography import x509

from gaiwan.attestation import EnclaveInfo, Measurement, verify_ra_tls_certificate
from gaiwan.attestation.policy import OUT_OF_DATE, UP_TO_DATE, Policy
from gaiwan.attestation.ratls import NETSCAPE_COMMENT, Endorsement, endorsement_of, report_data_of
from gaiwan.attestation.report import verify_report
from gaiwan.errors import AttestationError, ConfigError
from tests.fixtures import teaclave_fixture

from .test_ratls import _plain_cert

ROOTS = {"v4": "dcap_root_ca_cert.der", "v3": "ias_root_ca_cert.der"}
OTHER = {"v4": "ias_root_ca_cert.der", "v3": "dcap_root_ca_cert.der"}
LENIENT = Policy(accepted_statuses=frozenset({UP_TO_DATE, OUT_OF_DATE}))


def _load(layout: str) -> tuple[bytes, x509.Certificate, Endorsement, datetime]:
    der = teaclave_fixture(f"tls_ra_cert_{layout}.der").read_bytes()
    cert = x509.load_der_x509_certificate(der)
    return der, cert, endorsement_of(cert), cert.not_valid_before_utc + timedelta(hours=1)


def _root(layout: str, table: dict[str, str] = ROOTS) -> bytes:
    return teaclave_fixture(table[layout]).read_bytes()


def _info(endorsement: Endorsement) -> EnclaveInfo:
    body = base64.b64decode(json.loads(endorsement.report)["isvEnclaveQuoteBody"])
    return EnclaveInfo({"teaclave_frontend_service": Measurement(body[112:144], body[176:208])})


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]


@pytest.mark.parametrize("layout", ["v3", "v4"])
def test_fixture_verifies_against_its_root(layout: str) -> None:
    """Each layout verifies end to end against its own root, measurements and key extracted."""
    der, cert, endorsement, at = _load(layout)
    claims = verify_ra_tls_certificate(der, _root(layout), _info(endorsement), "frontend", at=at,
                                       policy=LENIENT)
    assert claims.version == int(layout[1])
    assert claims.quote.report_data == report_data_of(cert.public_key())
    assert _info(endorsement).service_of(claims.quote.mr_enclave, claims.quote.mr_signer) == "frontend"
    assert claims.evidence_type == "" and claims.age(at) < timedelta(hours=2)


@pytest.mark.parametrize("layout", ["v3", "v4"])
def test_fixture_fails_against_the_other_root(layout: str) -> None:
    """Each layout is refused under the other root: the trust anchor decides."""
    der, _, endorsement, at = _load(layout)
    with pytest.raises(AttestationError, match="does not chain to the attestation root CA"):
        verify_ra_tls_certificate(der, _root(layout, OTHER), _info(endorsement), "frontend",
                                  at=at, policy=LENIENT)


def test_v3_group_out_of_date_is_refused_by_default() -> None:
    """IAS's GROUP_OUT_OF_DATE means TCB OutOfDate, which the default policy refuses."""
    der, _, endorsement, at = _load("v3")
    with pytest.raises(AttestationError,
                       match=r"TCB status OutOfDate \(quote status GROUP_OUT_OF_DATE\) is not accepted"):
        verify_ra_tls_certificate(der, _root("v3"), _info(endorsement), "frontend", at=at)


@pytest.mark.parametrize("layout", ["v3", "v4"])
@pytest.mark.parametrize(("part", "reason"), [
    ("report", "report signature does not verify with the signing certificate"),
    ("signature", "report signature does not verify with the signing certificate"),
    ("chain", "does not chain to the attestation root CA"),
])
def test_tampered_byte_is_refused(layout: str, part: str, reason: str) -> None:
    """One flipped byte in the report, its signature or its signing chain fails that check."""
    _, _, e, at = _load(layout)
    report, signature, certs = e.report, e.signature, list(e.certs)
    if part == "report":
        report = _flip(report, report.index(b"isvEnclaveQuoteBody") + 30)
    elif part == "signature":
        signature = _flip(signature, len(signature) // 2)
    else:
        certs[0] = _flip(certs[0], len(certs[0]) - 3)  # inside the certificate's signature
    with pytest.raises(AttestationError, match=reason):
        verify_report(report, signature, certs, _root(layout), at=at, policy=LENIENT)


@pytest.mark.parametrize("layout", ["v3", "v4"])
def test_report_moved_to_another_key_is_refused(layout: str) -> None:
    """A genuine endorsement in a certificate for another key fails the REPORTDATA binding."""
    _, _, e, at = _load(layout)
    moved = _plain_cert([(x509.UnrecognizedExtension(NETSCAPE_COMMENT, e.to_comment()), False)])
    with pytest.raises(AttestationError, match="REPORTDATA is not the certificate's public key"):
        verify_ra_tls_certificate(moved, _root(layout), _info(e), "frontend", at=at,
                                  policy=LENIENT)


def test_report_older_than_the_maximum_is_refused() -> None:
    """A report older than the policy's maximum age is refused, saying how old it is."""
    der, _, e, at = _load("v4")
    with pytest.raises(AttestationError, match=r"report is 176400 s old, older than the maximum 86400 s"):
        verify_ra_tls_certificate(der, _root("v4"), _info(e), "frontend", at=at + timedelta(days=2))
    verify_ra_tls_certificate(der, _root("v4"), _info(e), "frontend", at=at + timedelta(days=2),
                              policy=replace(Policy(), max_age=timedelta(days=3)))


def test_report_from_the_future_is_refused() -> None:
    """A report dated after the verification time (beyond clock skew) is refused."""
    der, _, e, at = _load("v4")
    with pytest.raises(AttestationError, match="in the future"):
        verify_ra_tls_certificate(der, _root("v4"), _info(e), "frontend", at=at - timedelta(hours=2))


def test_unknown_status_in_policy_is_a_config_error() -> None:
    """A misspelt TCB status in the configuration is refused, not silently ignored."""
    with pytest.raises(ConfigError, match="unknown TCB status"):
        Policy(accepted_statuses=frozenset({"UpToDat"}))


def test_v3_fixture_keeps_its_signing_cert_layout() -> None:
    """The v3 certificate holds `signing_cert` (one DER), read as a one-certificate chain."""
    _, cert, e, _ = _load("v3")
    comment = json.loads(cert.extensions[0].value.value)
    assert "signing_cert" in comment and "certs" not in comment
    assert e.certs == (bytes(comment["signing_cert"]),)
