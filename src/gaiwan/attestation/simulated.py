"""The simulated TEE: a software stand-in for SGX hardware, for development on any machine.

Evidence is the real 432-byte quote body followed by a DER ECDSA P-256/SHA-256 signature made with
the simulated hardware key (keys/tee_sim_key.pem), the way a quoting enclave signs a real quote.
Whoever can read the data directory can forge such evidence: that is why the evidence type is
carried into every endorsed report ("gaiwanEvidenceType") and why production mode refuses it.

The sealing key mirrors SGX's MRSIGNER-policy sealing: it derives from a per-platform secret and
the signer measurement, so a new release signed by the same key can still open sealed data.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..config import Config
from ..errors import AttestationError, ConfigError
from .keystore import KeyFiles, load_private_key, read_bytes
from .measurement import mr_signer
from .policy import SIMULATED
from .quote import QUOTE_BODY_SIZE, QuoteBody, parse_quote_body

EVIDENCE_TYPE = SIMULATED


def produce_evidence(quote: QuoteBody, hardware_key: ec.EllipticCurvePrivateKey) -> bytes:
    body = quote.to_bytes()
    return body + hardware_key.sign(body, ec.ECDSA(hashes.SHA256()))


def verify_evidence(evidence: bytes, hardware_public_key: ec.EllipticCurvePublicKey) -> QuoteBody:
    """The quote inside `evidence`, once its hardware signature checks out."""
    if len(evidence) <= QUOTE_BODY_SIZE:
        raise AttestationError("simulated evidence is too short to hold a quote and signature")
    body, signature = evidence[:QUOTE_BODY_SIZE], evidence[QUOTE_BODY_SIZE:]
    try:
        hardware_public_key.verify(signature, body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        raise AttestationError("quote signature does not verify with the TEE hardware key") from None
    return parse_quote_body(body)


def hardware_key(config: Config) -> ec.EllipticCurvePrivateKey:
    key = load_private_key(KeyFiles(config.home).tee_sim_key)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ConfigError("the simulated TEE key is not an EC key")
    return key


def seal_key(config: Config, label: bytes) -> bytes:
    """A 32-byte key only this platform's attested releases (same signer) can derive."""
    secret = read_bytes(KeyFiles(config.home).platform_secret)
    if len(secret) != 32:
        raise ConfigError("the platform secret is damaged (expected 32 bytes)")
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=mr_signer(config),
        info=b"gaiwan-seal:" + label,
    ).derive(secret)
