"""Mesh certificates: the passport a service gets once its evidence is verified.

grpcio cannot run a custom certificate verifier per connection, so services cannot check each
other's RA-TLS evidence on internal channels. Instead the attestation service verifies the
evidence once and the mesh CA certifies the attested key for a role: subject CN = role (what the
server interceptor checks against the inbound rules), SAN DNS `<role>.mesh.gaiwan` (what client
channels pin) and SAN URIs `gaiwan:measurement:<hex>` and `gaiwan:evidence:<type>` (what was attested, and by
which kind of evidence, so an auditor probing an internal endpoint sees both). Certificates are
short-lived (config [attestation] mesh_cert_ttl_s), renewed before expiry by each service, and
serve both ends of mutual TLS.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..config import Config
from ..rpc.identity import EVIDENCE_URI_PREFIX, MEASUREMENT_URI_PREFIX, ServiceIdentity, mesh_hostname
from ..rpc.interceptors import OPERATOR_ROLE
from .keystore import KeyFiles, read_bytes

OPERATOR_VALIDITY = timedelta(days=3650)


def mesh_ttl(config: Config) -> timedelta:
    return timedelta(seconds=int(config.section("attestation").get("mesh_cert_ttl_s", 86400)))


def issue_mesh_certificate(
    ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate,
    public_key: CertificatePublicKeyTypes, role: str, measurement: bytes,
    validity: timedelta, now: datetime | None = None, evidence_type: str = "",
) -> x509.Certificate:
    when = now or datetime.now(timezone.utc)
    names: list[x509.GeneralName] = [x509.DNSName(mesh_hostname(role))]
    if measurement:
        names.append(x509.UniformResourceIdentifier(MEASUREMENT_URI_PREFIX + measurement.hex()))
    if evidence_type:
        names.append(x509.UniformResourceIdentifier(EVIDENCE_URI_PREFIX + evidence_type))
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, role)]))
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(when - timedelta(minutes=5))
        .not_valid_after(when + validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=True, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def _uri_value(cert: x509.Certificate, prefix: str) -> str:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ""
    for uri in san.get_values_for_type(x509.UniformResourceIdentifier):
        if uri.startswith(prefix):
            return uri[len(prefix):]
    return ""


def measurement_of(cert: x509.Certificate) -> str:
    """The attested measurement (hex) a mesh certificate carries; empty when it carries none."""
    return _uri_value(cert, MEASUREMENT_URI_PREFIX)


def evidence_type_of(cert: x509.Certificate) -> str:
    """The kind of evidence the attestation service verified before issuing the certificate."""
    return _uri_value(cert, EVIDENCE_URI_PREFIX)


def operator_identity(config: Config) -> ServiceIdentity:
    """The operator's mesh identity from `gaiwan init`: admitted to health checks, nothing else."""
    files = KeyFiles(config.home)
    return ServiceIdentity(
        role=OPERATOR_ROLE,
        key_pem=read_bytes(files.operator_key),
        mesh_cert_pem=read_bytes(files.operator_cert),
        mesh_ca_pem=read_bytes(files.mesh_ca_cert),
    )

