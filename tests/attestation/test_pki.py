"""Tests of the key material made at init: hierarchies, key types and who signs what."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gaiwan.attestation.keystore import KeyFiles, load_cert, load_private_key
from gaiwan.attestation.pki import ATTESTATION_HOSTNAME
from gaiwan.config import Config


def test_as_root_signs_report_signing_and_server_certs(config: Config) -> None:
    """The AS root CA (RSA 3072, CA) issues the report-signing and attestation server certificates."""
    files = KeyFiles(config.home)
    root = x509.load_pem_x509_certificate(config.home.as_root_ca_cert.read_bytes())
    root_key = load_private_key(files.as_root_ca_key)
    assert isinstance(root_key, rsa.RSAPrivateKey) and root_key.key_size == 3072
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert (root.not_valid_after_utc - root.not_valid_before_utc).days >= 3650
    signing = load_cert(files.report_signing_cert)
    signing.verify_directly_issued_by(root)
    assert isinstance(signing.public_key(), rsa.RSAPublicKey)
    server = load_cert(files.attestation_server_cert)
    server.verify_directly_issued_by(root)
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [ATTESTATION_HOSTNAME]


def test_mesh_ca_is_separate(config: Config) -> None:
    """The mesh CA is its own self-signed P-256 CA, not under the AS root."""
    files = KeyFiles(config.home)
    mesh = load_cert(files.mesh_ca_cert)
    assert isinstance(load_private_key(files.mesh_ca_key), ec.EllipticCurvePrivateKey)
    mesh.verify_directly_issued_by(mesh)
    assert mesh.subject != x509.load_pem_x509_certificate(
        config.home.as_root_ca_cert.read_bytes()).subject


def test_hardware_stand_ins_exist(config: Config) -> None:
    """The simulated TEE key, the signer key and a 32-byte platform secret are made."""
    files = KeyFiles(config.home)
    assert isinstance(load_private_key(files.tee_sim_key), ec.EllipticCurvePrivateKey)
    assert isinstance(load_private_key(files.signer_key), rsa.RSAPrivateKey)
    assert len(files.platform_secret.read_bytes()) == 32
    assert isinstance(load_private_key(files.auditor_key("local")), rsa.RSAPrivateKey)
