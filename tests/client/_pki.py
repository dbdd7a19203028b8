"""Certificates and client files built in memory, following spec §3, for the client's tests."""

from __future__ import annotations

import base64
import datetime
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from gaiwan.attestation import enclave_info
from gaiwan.attestation.quote import QuoteBody

NETSCAPE_COMMENT = x509.ObjectIdentifier("2.16.840.1.113730.1.13")
MR_ENCLAVE = bytes(range(32))
MR_SIGNER = bytes(range(32, 64))
_NOW = datetime.datetime.now(datetime.timezone.utc)
_RSA = {}


def rsa_key(label: str) -> rsa.RSAPrivateKey:
    """RSA keys are slow to make; one per label per test run."""
    if label not in _RSA:
        _RSA[label] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _RSA[label]


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject: str, key, issuer: str, issuer_key, ca: bool) -> x509.Certificate:
    return (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(_NOW - datetime.timedelta(days=1))
            .not_valid_after(_NOW + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(issuer_key, hashes.SHA256()))


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class Authority:
    """An attestation-service root CA and the report-signing certificate it issued."""

    root: x509.Certificate
    signer_key: rsa.RSAPrivateKey
    signer: x509.Certificate

    @classmethod
    def make(cls, label: str = "as") -> "Authority":
        root_key, signer_key = rsa_key(f"{label}-root"), rsa_key(f"{label}-signer")
        root = _cert(f"{label} root CA", root_key, f"{label} root CA", root_key, ca=True)
        signer = _cert(f"{label} report signer", signer_key, f"{label} root CA", root_key, ca=False)
        return cls(root, signer_key, signer)


@dataclass
class Leaf:
    key_pem: bytes
    cert_pem: bytes
    cert_der: bytes


def ra_tls_leaf(authority: Authority, service: str = "frontend", *, mr_enclave: bytes = MR_ENCLAVE,
                mr_signer: bytes = MR_SIGNER, report_data: bytes | None = None,
                status: str = "OK", signer_key: rsa.RSAPrivateKey | None = None,
                comment_first: bool = True, evidence_type: str = "") -> Leaf:
    """A self-signed P-256 RA-TLS certificate like a Gaiwan public endpoint presents."""
    key = ec.generate_private_key(ec.SECP256R1())
    nums = key.public_key().public_numbers()
    xy = nums.x.to_bytes(32, "big") + nums.y.to_bytes(32, "big")
    quote = QuoteBody(mr_enclave=mr_enclave, mr_signer=mr_signer,
                      report_data=xy if report_data is None else report_data).to_bytes()
    report = json.dumps({"id": "1", "timestamp": _NOW.isoformat(), "version": 4,
                         "isvEnclaveQuoteStatus": status,
                         "isvEnclaveQuoteBody": base64.b64encode(quote).decode(),
                         "gaiwanEvidenceType": evidence_type}).encode()
    signature = (signer_key or authority.signer_key).sign(report, padding.PKCS1v15(), hashes.SHA256())
    comment = json.dumps({"report": list(report), "signature": list(signature),
                          "certs": [list(authority.signer.public_bytes(serialization.Encoding.DER))]})
    extensions = [
        (x509.UnrecognizedExtension(NETSCAPE_COMMENT, comment.encode()), False),
        (x509.SubjectAlternativeName([x509.DNSName(f"{service}.ra-tls.gaiwan")]), False),
    ]
    if not comment_first:
        extensions.reverse()
    builder = (x509.CertificateBuilder().subject_name(_name("Teaclave")).issuer_name(_name("Teaclave"))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(_NOW - datetime.timedelta(days=1))
               .not_valid_after(_NOW + datetime.timedelta(days=1)))
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical=critical)
    cert = builder.sign(key, hashes.SHA256())
    return Leaf(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()),
                pem(cert), cert.public_bytes(serialization.Encoding.DER))


def enclave_info_bytes(services: tuple[str, ...] = ("frontend", "authentication"),
                       mr_enclave: bytes = MR_ENCLAVE, mr_signer: bytes = MR_SIGNER) -> bytes:
    return enclave_info.render({s: (mr_enclave, mr_signer) for s in services})


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def write_client_dir(directory: Path, authority: Authority, *, info: bytes | None = None,
                     signers: tuple[str, ...] = ("alice",), known: tuple[str, ...] = ("alice",)) -> Path:
    """A home's client/ folder: root CA, enclave_info, and auditors' keys (`known`) and
    signatures (`signers`, each signing with its own key)."""
    info = enclave_info_bytes() if info is None else info
    auditors = directory / "auditors"
    auditors.mkdir(parents=True, exist_ok=True)
    (directory / "as_root_ca_cert.pem").write_bytes(pem(authority.root))
    (directory / "enclave_info.toml").write_bytes(info)
    for name in known:
        (auditors / f"{name}.public.pem").write_bytes(public_pem(rsa_key(f"auditor-{name}")))
    for name in signers:
        (auditors / f"{name}.sign.sha256").write_bytes(
            enclave_info.sign(info, rsa_key(f"auditor-{name}")))
    return directory
