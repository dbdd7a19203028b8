"""Tests of RA-TLS certificates: Teaclave's fixture, Gaiwan's own, and each spec §3 refusal."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gaiwan.attestation import EnclaveInfo, Measurement, verify_ra_tls_certificate
from gaiwan.attestation.enclave_info import parse, render
from gaiwan.attestation.measurement import mr_enclave, mr_signer
from gaiwan.attestation.ratls import (
    NETSCAPE_COMMENT,
    Endorsement,
    build_ra_tls_certificate,
    endorsement_of,
)
from gaiwan.attestation.verifier import Authority
from gaiwan.config import Config
from gaiwan.errors import AttestationError
from tests.fixtures import teaclave_fixture

from .helpers import evidence_for, other_root, spki


def _fixture() -> tuple[bytes, x509.Certificate, EnclaveInfo]:
    der = teaclave_fixture("tls_ra_cert_v4.der").read_bytes()
    cert = x509.load_der_x509_certificate(der)
    raw = base64.b64decode(json.loads(endorsement_of(cert).report)["isvEnclaveQuoteBody"])
    info = EnclaveInfo({"teaclave_frontend_service": Measurement(raw[112:144], raw[176:208])})
    return der, cert, info


def test_teaclave_fixture_verifies_against_dcap_root() -> None:
    """Teaclave's v4 RA-TLS certificate passes spec §3 steps 1-6 against its DCAP root CA."""
    der, cert, info = _fixture()
    root = teaclave_fixture("dcap_root_ca_cert.der").read_bytes()
    claims = verify_ra_tls_certificate(der, root, info, "frontend",
                                       at=cert.not_valid_before_utc + timedelta(hours=1))
    assert claims.quote_status == "OK" and claims.evidence_type == ""


def test_teaclave_fixture_fails_against_ias_root() -> None:
    """The same certificate does not verify against Intel's IAS root: wrong trust anchor."""
    der, cert, info = _fixture()
    root = teaclave_fixture("ias_root_ca_cert.der").read_bytes()
    with pytest.raises(AttestationError, match="does not chain to the attestation root CA"):
        verify_ra_tls_certificate(der, root, info, "frontend",
                                  at=cert.not_valid_before_utc + timedelta(hours=1))


def test_teaclave_fixture_refused_for_other_measurements() -> None:
    """With an enclave_info listing other measurements, the fixture is refused (step 6)."""
    der, cert, _ = _fixture()
    root = teaclave_fixture("dcap_root_ca_cert.der").read_bytes()
    info = parse(render({"frontend": (b"\x00" * 32, b"\x00" * 32)}))
    with pytest.raises(AttestationError, match="mr_enclave .* is not the one in enclave_info"):
        verify_ra_tls_certificate(der, root, info, "frontend",
                                  at=cert.not_valid_before_utc + timedelta(hours=1))


def _gaiwan_cert(config: Config, service: str = "frontend",
                 cert_key: ec.EllipticCurvePrivateKey | None = None) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    endorsed = Authority.load(config).attest(service, "simulated",
                                             evidence_for(config, service, key), spki(key))
    cert = build_ra_tls_certificate(cert_key or key, endorsed.endorsement, service)
    return cert.public_bytes(serialization.Encoding.DER)


def _info(config: Config) -> EnclaveInfo:
    return parse(config.home.enclave_info.read_bytes())


def test_gaiwan_certificate_verifies(config: Config) -> None:
    """A Gaiwan RA-TLS certificate passes the same verifier with the platform's AS root CA."""
    der = _gaiwan_cert(config)
    claims = verify_ra_tls_certificate(der, config.home.as_root_ca_cert.read_bytes(),
                                       _info(config), "frontend")
    assert claims.quote.mr_enclave == mr_enclave(config, "frontend")
    assert claims.quote.mr_signer == mr_signer(config)
    assert claims.evidence_type == "simulated"


def test_gaiwan_certificate_extension_order(config: Config) -> None:
    """Extension 0 is the non-critical Netscape comment holding raw JSON; extension 1 the SAN."""
    cert = x509.load_der_x509_certificate(_gaiwan_cert(config))
    first, second = list(cert.extensions)
    assert first.oid == NETSCAPE_COMMENT and not first.critical
    assert set(json.loads(first.value.value)) == {"report", "signature", "certs"}
    assert second.value.get_values_for_type(x509.DNSName) == ["frontend.ra-tls.gaiwan"]
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    cert.verify_directly_issued_by(cert)  # self-signed


def test_measurement_not_in_enclave_info_is_refused(config: Config) -> None:
    """A certificate for one service does not pass as another service's endpoint."""
    der = _gaiwan_cert(config, "frontend")
    with pytest.raises(AttestationError, match="mr_enclave .* of authentication is not the one"):
        verify_ra_tls_certificate(der, config.home.as_root_ca_cert.read_bytes(), _info(config),
                                  "authentication")


def test_report_data_must_be_the_certificate_key(config: Config) -> None:
    """A genuine report moved into a certificate for another key is refused (step 5)."""
    der = _gaiwan_cert(config, cert_key=ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(AttestationError, match="REPORTDATA is not the certificate's public key"):
        verify_ra_tls_certificate(der, config.home.as_root_ca_cert.read_bytes(), _info(config),
                                  "frontend")


def test_report_under_another_root_is_refused(config: Config) -> None:
    """A client given another platform's AS root CA refuses this platform's certificate."""
    _, root, _, _ = other_root()
    with pytest.raises(AttestationError, match="does not chain"):
        verify_ra_tls_certificate(_gaiwan_cert(config), root.public_bytes(serialization.Encoding.PEM),
                                  _info(config), "frontend")


def _plain_cert(extensions: list[tuple[x509.ExtensionType, bool]]) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
               .public_key(key.public_key()).serial_number(1)
               .not_valid_before(datetime.now(timezone.utc) - timedelta(days=1))
               .not_valid_after(datetime.now(timezone.utc) + timedelta(days=1)))
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


@pytest.mark.parametrize(("extensions", "reason"), [
    ([], "no extensions"),
    ([(x509.SubjectAlternativeName([x509.DNSName("a")]), False),
      (x509.UnrecognizedExtension(NETSCAPE_COMMENT, b"{}"), False)], "not the Netscape comment"),
    ([(x509.UnrecognizedExtension(NETSCAPE_COMMENT, b"not json"), False)], "is not the JSON"),
    ([(x509.UnrecognizedExtension(NETSCAPE_COMMENT, b'{"report":[1]}'), False)], "is not the JSON"),
    ([(x509.UnrecognizedExtension(NETSCAPE_COMMENT, Endorsement(b"{}", b"", ()).to_comment()),
       True)], "must not be critical"),
])
def test_malformed_certificates_are_refused(extensions: list[tuple[x509.ExtensionType, bool]],
                                            reason: str) -> None:
    """Certificates without a well-formed first-extension report are refused with the reason."""
    root = teaclave_fixture("dcap_root_ca_cert.der").read_bytes()
    with pytest.raises(AttestationError, match=reason):
        verify_ra_tls_certificate(_plain_cert(extensions), root, EnclaveInfo({}), "frontend")


def test_non_certificate_is_refused() -> None:
    """Bytes that are not a certificate are refused, not crashed on."""
    with pytest.raises(AttestationError, match="not DER X.509"):
        verify_ra_tls_certificate(b"junk", b"", EnclaveInfo({}), "frontend")
