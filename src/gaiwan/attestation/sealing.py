"""Where a service's sealing keys come from: the TEE when it has one, else the platform secret.

Under Gramine-SGX the key derives from the enclave's MRSIGNER sealing key
(/dev/attestation/keys/_sgx_mrsigner): only enclaves signed with the same key, on the same CPU,
can derive it, and the host, which sees the data directory, cannot. MRSIGNER rather than
MRENCLAVE so that a new release signed by the operator can open what the previous one sealed.

The simulated TEE, and tsm (TDX and SEV-SNP guests have no sealing key of their own), derive it
from keys/platform_secret (gaiwan.attestation.simulated.seal_key); on a TDX or SEV-SNP guest the
data directory must then sit on a disk that only the attested guest can unlock.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..config import Config
from ..errors import AttestationError, ConfigError
from . import simulated
from .backends import GramineSgx
from .collateral import backend_name

GRAMINE_POLICY = "_sgx_mrsigner"


def seal_key(config: Config, label: bytes, gramine: GramineSgx | None = None) -> bytes:
    """A 32-byte key for `label` (e.g. b"storage"), from the configured backend's root of
    sealing; `gramine` replaces /dev/attestation (tests pass a fake of its files)."""
    if backend_name(config) != "gramine-sgx":
        return simulated.seal_key(config, label)
    try:
        material = (gramine or GramineSgx()).sealing_key(GRAMINE_POLICY)
    except AttestationError as exc:
        raise ConfigError(f"cannot derive the sealing key from Gramine: {exc.message}") from None
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"gaiwan-gramine-sealing",
                info=b"gaiwan-seal:" + label).derive(material)
