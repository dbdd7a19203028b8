"""The key material `gaiwan init` makes, and the local auditor's signature over enclave_info.

Two certificate hierarchies, kept apart on purpose:
- the attestation (AS) root CA (RSA 3072, like Teaclave's) signs the report-signing certificate
  and the attestation endpoint's server certificate; clients are given only its certificate;
- the mesh CA (EC P-256) certifies attested service keys for internal mutual TLS.
A compromise of one does not let an attacker forge the other's statements.
Besides: the simulated TEE's hardware key, the release signer key (MRSIGNER), the platform
sealing secret, the local auditor's key and the operator's health-check certificate.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificateIssuerPublicKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..config import Config
from ..errors import ConfigError
from ..home import SERVICES, Home
from ..rpc.interceptors import OPERATOR_ROLE
from . import enclave_info
from .keystore import (
    LOCAL_AUDITOR,
    KeyFiles,
    auditor_public_key_path,
    auditor_signature_path,
    cert_pem,
    load_private_key,
    make_private_dir,
    private_key_pem,
    write_public,
    write_secret,
)
from .measurement import measurements
from .mesh import OPERATOR_VALIDITY, issue_mesh_certificate

ATTESTATION_HOSTNAME = "attestation.gaiwan"
CA_VALIDITY = timedelta(days=3650)
RSA_BITS = 3072


def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)


def _p256() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Gaiwan"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_usage(*, sign: bool = False, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
        encipher_only=False, decipher_only=False)


def _certificate(subject: x509.Name, public_key: CertificateIssuerPublicKeyTypes,
                 issuer: x509.Name, issuer_key: CertificateIssuerPrivateKeyTypes, *, ca: bool,
                 now: datetime, extra: Sequence[x509.ExtensionType] = ()) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(issuer).public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(_key_usage(sign=True, ca=ca), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    for ext in extra:
        builder = builder.add_extension(ext, critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass(frozen=True)
class AuthorityKeys:
    """What the attestation service signs and serves with; the AS root CA's key is not among
    them: it certifies the report-signing and server keys once, when they are made."""

    root_cert: x509.Certificate
    signing_key: rsa.RSAPrivateKey
    signing_cert: x509.Certificate
    server_key: ec.EllipticCurvePrivateKey
    server_cert: x509.Certificate
    mesh_key: ec.EllipticCurvePrivateKey
    mesh_cert: x509.Certificate


def new_authority(now: datetime) -> tuple[AuthorityKeys, rsa.RSAPrivateKey]:
    """Fresh keys and certificates of both hierarchies, and the AS root CA key that signed."""
    root_key = _rsa()
    root_name = _name("Gaiwan Attestation Root CA")
    root = _certificate(root_name, root_key.public_key(), root_name, root_key, ca=True, now=now)
    signing_key = _rsa()
    signing = _certificate(_name("Gaiwan Attestation Report Signing"), signing_key.public_key(),
                           root_name, root_key, ca=False, now=now)
    server_key = _p256()
    server = _certificate(
        _name(ATTESTATION_HOSTNAME), server_key.public_key(), root_name, root_key, ca=False,
        now=now, extra=[x509.SubjectAlternativeName([x509.DNSName(ATTESTATION_HOSTNAME)]),
                        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])])
    mesh_key = _p256()
    mesh_name = _name("Gaiwan Mesh CA")
    mesh = _certificate(mesh_name, mesh_key.public_key(), mesh_name, mesh_key, ca=True, now=now)
    return AuthorityKeys(root, signing_key, signing, server_key, server, mesh_key, mesh), root_key


def publish_authority(home: Home, keys: AuthorityKeys) -> None:
    """Writes the certificates others need: the AS root (clients, services), the report-signing
    and server certificates, the mesh CA."""
    files = KeyFiles(home)
    write_public(home.as_root_ca_cert, cert_pem(keys.root_cert))
    write_public(files.report_signing_cert, cert_pem(keys.signing_cert))
    write_public(files.attestation_server_cert, cert_pem(keys.server_cert))
    write_public(files.mesh_ca_cert, cert_pem(keys.mesh_cert))


def operator_certificate(authority: AuthorityKeys, public_key: ec.EllipticCurvePublicKey,
                         now: datetime) -> x509.Certificate:
    """The operator's mesh certificate: admitted to health checks, nothing else."""
    return issue_mesh_certificate(authority.mesh_key, authority.mesh_cert, public_key, OPERATOR_ROLE,
                                  b"", OPERATOR_VALIDITY, now=now)


def create_platform_keys(home: Home, now: datetime | None = None) -> None:
    """Writes every key and certificate of a new platform (overwriting any old ones)."""
    when = now or datetime.now(timezone.utc)
    files = KeyFiles(home)
    for directory in (home.root, files.dir, files.auditor_keys, home.client, home.auditors):
        make_private_dir(directory)

    authority, root_key = new_authority(when)
    write_secret(files.as_root_ca_key, private_key_pem(root_key))
    write_secret(files.report_signing_key, private_key_pem(authority.signing_key))
    write_secret(files.attestation_server_key, private_key_pem(authority.server_key))
    write_secret(files.mesh_ca_key, private_key_pem(authority.mesh_key))
    publish_authority(home, authority)

    operator_key = _p256()
    write_secret(files.operator_key, private_key_pem(operator_key))
    operator = operator_certificate(authority, operator_key.public_key(), when)
    write_public(files.operator_cert, cert_pem(operator))

    write_secret(files.tee_sim_key, private_key_pem(_p256()))
    write_secret(files.signer_key, private_key_pem(_rsa()))
    write_secret(files.platform_secret, secrets.token_bytes(32))

    auditor_key = _rsa()
    write_secret(files.auditor_key(LOCAL_AUDITOR), private_key_pem(auditor_key))
    write_public(auditor_public_key_path(home, LOCAL_AUDITOR), auditor_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def current_enclave_info(config: Config) -> bytes:
    """The enclave_info text for the code and configuration this process runs."""
    return enclave_info.render(measurements(config, SERVICES))


def publish_enclave_info(config: Config, content: bytes | None = None) -> bytes:
    """Writes client/enclave_info.toml signed by the local auditor; returns the written bytes."""
    home = config.home
    content = current_enclave_info(config) if content is None else content
    key = load_private_key(KeyFiles(home).auditor_key(LOCAL_AUDITOR))
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError("the local auditor key is not an RSA key")
    write_public(home.enclave_info, content)
    write_public(auditor_signature_path(home, LOCAL_AUDITOR), enclave_info.sign(content, key))
    return content
