"""RA-TLS certificates in Teaclave v0.6's format (spec §3), built and verified (sans-IO).

A public endpoint serves a self-signed P-256 certificate whose FIRST extension is the Netscape
comment (OID 2.16.840.1.113730.1.13, non-critical) holding, as raw value octets with no inner
ASN.1, the JSON `{"report": [u8..], "signature": [u8..], "certs": [[u8..]..]}`. The report's
REPORTDATA is the certificate's own public key (X||Y), which binds the TLS session to the attested
enclave. Teaclave clients read `extensions[0]`, so the order matters; the SubjectAlternativeName
`<service>.ra-tls.gaiwan` comes second and only lets clients pin the certificate by name.

Certificates of Teaclave releases before v0.4 (IAS, report version 3) carry one DER certificate
as `"signing_cert": [u8..]` instead of the `certs` list; both are read, only `certs` is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ObjectIdentifier

from ..errors import AttestationError
from .enclave_info import EnclaveInfo
from .policy import Policy
from .report import ReportClaims, verify_report

NETSCAPE_COMMENT = ObjectIdentifier("2.16.840.1.113730.1.13")
RA_TLS_DOMAIN = "ra-tls.gaiwan"
RA_TLS_VALIDITY = timedelta(days=90)


def ra_tls_hostname(service: str) -> str:
    return f"{service}.{RA_TLS_DOMAIN}"


def report_data_of(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """REPORTDATA binding a P-256 key: the uncompressed point without its 0x04 prefix (X||Y)."""
    if not isinstance(public_key.curve, ec.SECP256R1):
        raise AttestationError("the bound key must be a P-256 key")
    point = public_key.public_bytes(serialization.Encoding.X962,
                                    serialization.PublicFormat.UncompressedPoint)
    return point[1:]


@dataclass(frozen=True)
class Endorsement:
    """An endorsed report as it travels: JSON report, its signature, the signing chain (DER)."""

    report: bytes
    signature: bytes
    certs: tuple[bytes, ...]

    def to_comment(self) -> bytes:
        return json.dumps({
            "report": list(self.report),
            "signature": list(self.signature),
            "certs": [list(der) for der in self.certs],
        }, separators=(",", ":")).encode()

    @classmethod
    def from_comment(cls, value: bytes) -> "Endorsement":
        try:
            doc = json.loads(value)
            if "certs" in doc:
                certs = tuple(bytes(der) for der in doc["certs"])
            else:
                certs = (bytes(doc["signing_cert"]),)
            return cls(bytes(doc["report"]), bytes(doc["signature"]), certs)
        except (UnicodeDecodeError, ValueError, TypeError, KeyError):
            raise AttestationError(
                "Netscape comment is not the JSON {report, signature, certs or signing_cert} "
                "of byte arrays") from None


def build_ra_tls_certificate(key: ec.EllipticCurvePrivateKey, endorsement: Endorsement,
                             service: str, now: datetime | None = None) -> x509.Certificate:
    when = now or datetime.now(timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Teaclave")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(when - timedelta(minutes=5))
        .not_valid_after(when + RA_TLS_VALIDITY)
        .add_extension(x509.UnrecognizedExtension(NETSCAPE_COMMENT, endorsement.to_comment()),
                       critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(ra_tls_hostname(service))]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )


def endorsement_of(cert: x509.Certificate) -> Endorsement:
    """Spec §3 step 1: the endorsement in the certificate's first extension."""
    extensions = list(cert.extensions)
    if not extensions:
        raise AttestationError("certificate has no extensions, so no attestation report")
    first = extensions[0]
    if first.oid != NETSCAPE_COMMENT:
        raise AttestationError(
            f"first certificate extension is {first.oid.dotted_string}, not the Netscape comment")
    if first.critical:
        raise AttestationError("the Netscape comment extension must not be critical")
    value = first.value
    raw = value.value if isinstance(value, x509.UnrecognizedExtension) else None
    if raw is None:
        raise AttestationError("the Netscape comment extension has no raw value")
    return Endorsement.from_comment(raw)


def verify_ra_tls_report(cert_der: bytes, as_root_ca_pem: bytes, at: datetime | None = None,
                         policy: Policy = Policy()) -> ReportClaims:
    """Spec §3 steps 1-5: the report is endorsed, acceptable, and binds this certificate's key.

    Step 6 (which service the measurements belong to) is the caller's: see
    `verify_ra_tls_certificate`, or `EnclaveInfo.service_of` when the service is not known.
    """
    try:
        cert = x509.load_der_x509_certificate(cert_der)
    except ValueError:
        raise AttestationError("server certificate is not DER X.509") from None
    endorsement = endorsement_of(cert)
    claims = verify_report(endorsement.report, endorsement.signature, endorsement.certs,
                           as_root_ca_pem, at=at, policy=policy)
    public_key = cert.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise AttestationError("server certificate key is not an EC key")
    if claims.quote.report_data != report_data_of(public_key):
        raise AttestationError("REPORTDATA is not the certificate's public key")
    return claims


def verify_ra_tls_certificate(cert_der: bytes, as_root_ca_pem: bytes, enclave_info: EnclaveInfo,
                              service: str, at: datetime | None = None,
                              policy: Policy = Policy()) -> ReportClaims:
    """Spec §3 steps 1-6 on a server's leaf certificate; the report's claims, or AttestationError.

    `as_root_ca_pem` may be PEM or DER. `at` is the time of verification (default now), `policy`
    the accepted TCB statuses, report age and whether simulated evidence counts.
    """
    claims = verify_ra_tls_report(cert_der, as_root_ca_pem, at, policy)
    enclave_info.check(service, claims.quote.mr_enclave, claims.quote.mr_signer)
    return claims
