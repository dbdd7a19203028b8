"""Tests of mesh certificates and the operator identity issued at init."""

from __future__ import annotations

from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gaiwan.attestation import operator_identity
from gaiwan.attestation.keystore import KeyFiles, load_cert
from gaiwan.attestation.mesh import measurement_of
from gaiwan.attestation.verifier import Authority
from gaiwan.config import Config

from .helpers import evidence_for, spki


def test_mesh_certificate_names_role_and_measurement(config: Config) -> None:
    """CN = role, SAN DNS <role>.mesh.gaiwan and the measurement URI, both EKUs, configured TTL."""
    key = ec.generate_private_key(ec.SECP256R1())
    evidence = evidence_for(config, "scheduler", key)
    endorsed = Authority.load(config).attest("scheduler", "simulated", evidence, spki(key))
    cert = x509.load_pem_x509_certificate(endorsed.mesh_cert_pem)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "scheduler"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["scheduler.mesh.gaiwan"]
    assert measurement_of(cert) == evidence[112:144].hex()
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(eku) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    ttl = config.section("attestation")["mesh_cert_ttl_s"]
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert timedelta(seconds=ttl) <= lifetime <= timedelta(seconds=ttl, minutes=6)
    assert endorsed.not_after == int(cert.not_valid_after_utc.timestamp())
    cert.verify_directly_issued_by(load_cert(KeyFiles(config.home).mesh_ca_cert))
    assert cert.public_key() == key.public_key()


def test_operator_identity(config: Config) -> None:
    """The operator's certificate from init is a mesh certificate with CN operator and no measurement."""
    identity = operator_identity(config)
    assert identity.role == "operator" and identity.ra_tls_cert_pem == b""
    cert = x509.load_pem_x509_certificate(identity.mesh_cert_pem)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "operator"
    assert measurement_of(cert) == ""
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(identity.mesh_ca_pem))
