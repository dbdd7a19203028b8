"""What the simulated TEE measures: the code a service runs and the settings it trusts.

MRENCLAVE analogue: SHA-256 over a domain tag, the code hash of the installed `gaiwan` package and
the service's security view of the configuration (gaiwan.config.Config.security_view). The service
name is inside that view, so every service has its own measurement and a certificate for one role
cannot be obtained with another role's evidence. Changing any package file, the mode or an inbound
rule changes the measurement, which then has to be signed into enclave_info again.

MRSIGNER analogue: SHA-256 of the release signing public key (DER SubjectPublicKeyInfo), the
identity of whoever built the release; the sealing key derives from it so an upgrade signed by the
same key keeps access to sealed data.

Rejected: hashing only `*.py` files (data files such as policies change behaviour too), and
hashing the running interpreter's memory (not reproducible by an auditor).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from ..config import Config
from .keystore import KeyFiles, load_private_key

_DOMAIN = b"gaiwan-mr-enclave\0"


def package_dir() -> Path:
    import gaiwan

    return Path(gaiwan.__file__).resolve().parent


def hash_tree(root: Path) -> bytes:
    """SHA-256 over every file under `root` (sorted by relative path), each as path and content.

    Each entry is length-prefixed so no two different trees can produce the same byte stream.
    """
    files = sorted(
        (p for p in root.rglob("*")
         if p.is_file() and "__pycache__" not in p.relative_to(root).parts and p.suffix != ".pyc"),
        key=lambda p: p.relative_to(root).as_posix(),
    )
    digest = hashlib.sha256()
    for path in files:
        name = path.relative_to(root).as_posix().encode()
        content = path.read_bytes()
        digest.update(len(name).to_bytes(8, "big") + name)
        digest.update(len(content).to_bytes(8, "big") + content)
    return digest.digest()


@functools.lru_cache(maxsize=1)
def code_hash() -> bytes:
    """The hash of the installed package, once per process: what this process actually loaded."""
    return hash_tree(package_dir())


def mr_enclave(config: Config, service: str) -> bytes:
    return hashlib.sha256(_DOMAIN + code_hash() + config.security_view(service)).digest()


def mr_signer_of(public_key_der: bytes) -> bytes:
    return hashlib.sha256(public_key_der).digest()


def mr_signer(config: Config) -> bytes:
    key = load_private_key(KeyFiles(config.home).signer_key)
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return mr_signer_of(der)


def measurements(config: Config, services: tuple[str, ...]) -> dict[str, tuple[bytes, bytes]]:
    """(mr_enclave, mr_signer) of each service, as enclave_info lists them."""
    signer = mr_signer(config)
    return {service: (mr_enclave(config, service), signer) for service in services}
