"""Tests of endorsed reports: Teaclave v0.6 format, Gaiwan marks, and each verification refusal."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gaiwan.attestation.chain import verify_chain
from gaiwan.attestation.keystore import KeyFiles, load_private_key
from gaiwan.attestation.policy import Policy
from gaiwan.attestation.quote import QuoteBody
from gaiwan.attestation.ratls import Endorsement
from gaiwan.attestation.report import build_report, parse_report, sign_report, verify_report
from gaiwan.attestation.verifier import Authority
from gaiwan.config import Config
from gaiwan.errors import AttestationError

from .helpers import evidence_for, other_root, spki

QUOTE = QuoteBody(b"\x01" * 32, b"\x02" * 32, b"\x03" * 64)


def _endorse(config: Config) -> Endorsement:
    key = ec.generate_private_key(ec.SECP256R1())
    return Authority.load(config).attest(
        "frontend", "simulated", evidence_for(config, "frontend", key), spki(key)).endorsement


def _root(config: Config) -> bytes:
    return config.home.as_root_ca_cert.read_bytes()


def test_report_has_teaclave_fields_and_gaiwan_marks() -> None:
    """The JSON report has Teaclave v0.6's keys plus the evidence type and mode marks."""
    doc = json.loads(build_report(QUOTE, "simulated", "development"))
    assert doc["version"] == 4 and doc["isvEnclaveQuoteStatus"] == "OK"
    assert {"id", "timestamp", "isvEnclaveQuoteBody"} <= doc.keys()
    assert doc["gaiwanEvidenceType"] == "simulated" and doc["gaiwanMode"] == "development"
    assert parse_report(build_report(QUOTE, "simulated", "development")).quote == QUOTE


def test_platform_report_verifies(config: Config) -> None:
    """A report endorsed by the attestation authority verifies against the AS root CA."""
    e = _endorse(config)
    claims = verify_report(e.report, e.signature, e.certs, _root(config))
    assert claims.evidence_type == "simulated" and claims.mode == "development"
    assert claims.quote_status == "OK" and claims.version == 4


def test_report_signed_under_another_root_is_refused(config: Config) -> None:
    """A report whose signing chain ends at another CA is refused."""
    _, root, key, cert = other_root()
    report = build_report(QUOTE, "simulated", "development")
    der = cert.public_bytes(serialization.Encoding.DER)
    with pytest.raises(AttestationError, match="does not chain to the attestation root CA"):
        verify_report(report, sign_report(report, key), [der], _root(config))
    verify_report(report, sign_report(report, key), [der],
                  root.public_bytes(serialization.Encoding.PEM))  # fine under its own root


def test_tampered_report_is_refused(config: Config) -> None:
    """One changed byte of the report breaks its signature."""
    e = _endorse(config)
    report = e.report.replace(b'"OK"', b'"Ok"')
    with pytest.raises(AttestationError, match="report signature does not verify"):
        verify_report(report, e.signature, e.certs, _root(config))


def test_report_without_signing_cert_is_refused(config: Config) -> None:
    """No chain, no trust."""
    e = _endorse(config)
    with pytest.raises(AttestationError, match="no signing certificate"):
        verify_report(e.report, e.signature, [], _root(config))
    with pytest.raises(AttestationError, match="malformed certificate"):
        verify_report(e.report, e.signature, [b"junk"], _root(config))


@pytest.mark.parametrize(("change", "reason"), [
    ({"version": 2}, "version 2 is not one of 3, 4"),
    ({"isvEnclaveQuoteStatus": "GROUP_OUT_OF_DATE"}, "TCB status OutOfDate .* is not accepted"),
    ({"isvEnclaveQuoteStatus": "SIGNATURE_INVALID"}, "SIGNATURE_INVALID is not a TCB status"),
    ({"timestamp": "yesterday"}, "not an ISO 8601 time"),
    ({"isvEnclaveQuoteBody": "!!"}, "not base64"),
    ({"isvEnclaveQuoteBody": "AAAA"}, "expected 432"),
    ({"id": None}, "field id is missing"),
    ({"advisoryIDs": "INTEL-SA-00837"}, "field advisoryIDs is not a list of strings"),
    ({"advisoryIDs": [837]}, "field advisoryIDs is not a list of strings"),
])
def test_bad_report_content_is_refused(config: Config, change: dict[str, object], reason: str) -> None:
    """Properly signed reports with a wrong version, status or quote are still refused."""
    doc = json.loads(build_report(QUOTE, "simulated", "development"))
    doc.update(change)
    report = json.dumps(doc).encode()
    key = load_private_key(KeyFiles(config.home).report_signing_key)
    with pytest.raises(AttestationError, match=reason):
        verify_report(report, sign_report(report, key), _endorse(config).certs, _root(config))


def test_simulated_evidence_can_be_refused(config: Config) -> None:
    """A verifier that requires hardware evidence refuses a report marked simulated."""
    e = _endorse(config)
    with pytest.raises(AttestationError, match="simulated evidence"):
        verify_report(e.report, e.signature, e.certs, _root(config),
                      policy=Policy(allow_simulated=False))


def test_chain_is_checked_at_the_given_time(config: Config) -> None:
    """The signing chain must be valid at the verification time."""
    certs = [x509.load_der_x509_certificate(d) for d in _endorse(config).certs]
    root = x509.load_pem_x509_certificate(_root(config))
    verify_chain(certs, root)
    with pytest.raises(AttestationError, match="not valid at"):
        verify_chain(certs, root, at=datetime.now(timezone.utc) + timedelta(days=4000))


def test_advisories_go_into_the_report_as_ias_put_them() -> None:
    """advisoryIDs and advisoryURL as in Intel IAS reports; both absent when there are none."""
    doc = json.loads(build_report(QUOTE, "sgx-dcap", "production",
                                  quote_status="SW_HARDENING_NEEDED",
                                  advisory_ids=("INTEL-SA-00615", "INTEL-SA-00837")))
    assert doc["advisoryIDs"] == ["INTEL-SA-00615", "INTEL-SA-00837"]
    assert doc["advisoryURL"] == "https://security-center.intel.com"
    plain = json.loads(build_report(QUOTE, "sgx-dcap", "production"))
    assert "advisoryIDs" not in plain and "advisoryURL" not in plain
    claims = parse_report(build_report(QUOTE, "sgx-dcap", "production",
                                       advisory_ids=("INTEL-SA-00837",)))
    assert claims.advisory_ids == ("INTEL-SA-00837",)
    assert parse_report(build_report(QUOTE, "sgx-dcap", "production")).advisory_ids == ()


def test_report_naming_a_refused_advisory_is_refused(config: Config) -> None:
    """A relying party refusing an advisory refuses reports that name it, whatever the status."""
    report = build_report(QUOTE, "simulated", "development", advisory_ids=("INTEL-SA-00837",))
    key = load_private_key(KeyFiles(config.home).report_signing_key)
    signature, certs = sign_report(report, key), _endorse(config).certs
    assert verify_report(report, signature, certs, _root(config),
                         policy=Policy(refused_advisories=frozenset({"INTEL-SA-00615"})))
    with pytest.raises(AttestationError, match=r"the report's platform is affected by advisory "
                                               r"INTEL-SA-00837, refused by the policy"):
        verify_report(report, signature, certs, _root(config),
                      policy=Policy(refused_advisories=frozenset({"INTEL-SA-00837"})))
