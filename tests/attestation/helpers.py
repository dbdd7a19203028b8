"""Shared builders for attestation tests: real evidence and endorsements from a test platform."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from gaiwan.attestation.measurement import mr_enclave, mr_signer
from gaiwan.attestation.quote import QuoteBody
from gaiwan.attestation.ratls import report_data_of
from gaiwan.attestation.simulated import hardware_key, produce_evidence
from gaiwan.config import Config


def spki(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def evidence_for(config: Config, service: str, key: ec.EllipticCurvePrivateKey,
                 hardware: ec.EllipticCurvePrivateKey | None = None,
                 enclave: bytes | None = None, report_data: bytes | None = None) -> bytes:
    """Simulated evidence as a service would make it, with any one part overridable."""
    quote = QuoteBody(
        mr_enclave=enclave if enclave is not None else mr_enclave(config, service),
        mr_signer=mr_signer(config),
        report_data=report_data if report_data is not None else report_data_of(key.public_key()),
    )
    return produce_evidence(quote, hardware or hardware_key(config))


def other_root() -> tuple[rsa.RSAPrivateKey, x509.Certificate, rsa.RSAPrivateKey, x509.Certificate]:
    """An unrelated CA and a report-signing certificate under it: (root key, root, key, cert)."""
    now = datetime.now(timezone.utc)

    def cert(name: str, key: rsa.RSAPrivateKey, issuer: str, issuer_key: rsa.RSAPrivateKey,
             ca: bool) -> x509.Certificate:
        return (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
                .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
                .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                .sign(issuer_key, hashes.SHA256()))

    root_key = rsa.generate_private_key(65537, 2048)
    key = rsa.generate_private_key(65537, 2048)
    return (root_key, cert("Other Root", root_key, "Other Root", root_key, True), key,
            cert("Other Signer", key, "Other Root", root_key, False))


def with_backend(config: Config, backend: str = "gramine-sgx") -> Config:
    """The platform switched to `backend`, saved as an operator's edit would be."""
    config.doc["attestation"]["backend"] = backend
    config.save()
    return config


def bound_env(config: Config, *services: str) -> str:
    """GAIWAN_BOUND_INPUTS of a manifest rendered for `services` from the files as they are now.
    With several (an attestation server run in-process shares the environment of the service
    under test), the inputs both bind (their settings) are the last one's."""
    from gaiwan.attestation import bound_inputs
    from gaiwan.services.access_control import PolicyEngine
    from gaiwan.services.access_control.service import policy_files

    bound: dict[str, str] = {}
    for service in services:
        policy_set = (PolicyEngine.load(*policy_files(config)).policy_set
                      if service == "access_control" else "")
        bound.update(bound_inputs.values(config, service, policy_set))
    return bound_inputs.render(bound)
