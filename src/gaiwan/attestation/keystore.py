"""Where the platform's key material lives under `keys/`, and the only code that reads or writes it.

Private keys are PEM PKCS#8 without a passphrase: the data directory is the simulated platform's
"hardware", protected by file permissions (files 0600, directories 0700). Keys standing in for TEE
hardware (the simulated quoting key, the platform sealing secret) are separate files so a
deployment on a real TEE simply does not have them. Public material clients need lives in
`client/` (see gaiwan.home.Home).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from ..errors import ConfigError
from ..home import Home

LOCAL_AUDITOR = "local"


@dataclass(frozen=True)
class KeyFiles:
    """The file names of every key and certificate `gaiwan init` makes."""

    home: Home

    @property
    def dir(self) -> Path:
        return self.home.keys

    @property
    def as_root_ca_key(self) -> Path:
        return self.dir / "as_root_ca.key.pem"

    @property
    def report_signing_key(self) -> Path:
        return self.dir / "report_signing.key.pem"

    @property
    def report_signing_cert(self) -> Path:
        return self.dir / "report_signing.cert.pem"

    @property
    def attestation_server_key(self) -> Path:
        return self.dir / "attestation_server.key.pem"

    @property
    def attestation_server_cert(self) -> Path:
        return self.dir / "attestation_server.cert.pem"

    @property
    def mesh_ca_key(self) -> Path:
        return self.dir / "mesh_ca.key.pem"

    @property
    def mesh_ca_cert(self) -> Path:
        return self.dir / "mesh_ca.cert.pem"

    @property
    def operator_key(self) -> Path:
        return self.dir / "operator.key.pem"

    @property
    def operator_cert(self) -> Path:
        return self.dir / "operator.cert.pem"

    @property
    def tee_sim_key(self) -> Path:
        return self.dir / "tee_sim_key.pem"

    @property
    def signer_key(self) -> Path:
        return self.dir / "signer.pem"

    @property
    def platform_secret(self) -> Path:
        return self.dir / "platform_secret"

    @property
    def authority_sealed(self) -> Path:
        """The attestation service's keys, sealed in its enclave (gramine-sgx)."""
        return self.dir / "attestation_keys.sealed"

    @property
    def authority_private_keys(self) -> tuple[Path, ...]:
        """The attestation service's private keys as `gaiwan init` writes them."""
        return (self.as_root_ca_key, self.report_signing_key, self.attestation_server_key,
                self.mesh_ca_key)

    @property
    def auditor_keys(self) -> Path:
        return self.dir / "auditors"

    def auditor_key(self, name: str) -> Path:
        return self.auditor_keys / f"{name}.key.pem"


def auditor_public_key_path(home: Home, name: str) -> Path:
    return home.auditors / f"{name}.public.pem"


def auditor_signature_path(home: Home, name: str) -> Path:
    return home.auditors / f"{name}.sign.sha256"


def make_private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def write_secret(path: Path, data: bytes) -> None:
    """Creates the file 0600 from the start, so the secret is never readable by others."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(path, 0o600)


def write_public(path: Path, data: bytes) -> None:
    """Replaces the file atomically: readers see the old or the new bytes, never a mix."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def private_key_pem(key: PrivateKeyTypes) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"missing {path}: run `gaiwan init` first") from None


def load_private_key(path: Path) -> PrivateKeyTypes:
    """A key `gaiwan init` made. RSA consistency checks (~0.1 s per key) are skipped: these files
    come from our own generator under keys/ (0600), not from a party we need to distrust."""
    try:
        return serialization.load_pem_private_key(read_bytes(path), password=None,
                                                  unsafe_skip_rsa_key_validation=True)
    except ValueError:
        raise ConfigError(f"{path} is not a PEM private key") from None


def load_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(read_bytes(path))
    except ValueError:
        raise ConfigError(f"{path} is not a PEM certificate") from None
