"""Where the attestation service's keys come from: its files, or, under Gramine-SGX, its enclave.

Whoever holds the mesh CA key can certify any process as any service, and whoever holds the
report-signing key can vouch for any quote. `gaiwan init` writes both into `keys/`, which is
right where the data directory is protected like the TEE itself (the simulated TEE; a tsm guest's
encrypted disk) but not under Gramine, where the host reads the data directory. There the
attestation service makes its own keys at its first start, inside its enclave, and keeps them
only sealed (`keys/attestation_keys.sealed`, AES-256-GCM under its sealing key,
gaiwan.attestation.sealing); the AS root CA key signs the new certificates and is dropped. What
`gaiwan init` made for it is deleted, unused. At every start the certificates are written out
again from the sealed keys (the AS root for clients and services, the mesh CA, the operator's
health-check certificate), so they are always the ones in force.

A sealed file that does not open (changed, or sealed by another signer or on another CPU) stops
the service: making new keys instead would let whoever can delete a file replace the
platform's roots. To start afresh, remove it; every service's manifest must then bind the new
AS root (gaiwan.attestation.bound_inputs).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..config import Config
from ..errors import ConfigError
from ..logs import get_logger
from .collateral import backend_name
from .keystore import (
    KeyFiles,
    cert_pem,
    load_cert,
    load_private_key,
    private_key_pem,
    read_bytes,
    write_public,
    write_secret,
)
from .pki import AuthorityKeys, new_authority, operator_certificate, publish_authority
from .sealing import seal_key

_LABEL = b"attestation-keys"
_HEADER = b"gaiwan-attestation-keys-1\n"
_NONCE = 12
_KEYS = ("signing_key", "server_key", "mesh_key")
_CERTS = ("root_cert", "signing_cert", "server_cert", "mesh_cert")


def load_authority_keys(config: Config) -> AuthorityKeys:
    """The attestation service's keys for the configured backend (see the module's docs)."""
    if backend_name(config) == "gramine-sgx":
        return _sealed(config)
    files = KeyFiles(config.home)
    signing_key = load_private_key(files.report_signing_key)
    server_key = load_private_key(files.attestation_server_key)
    mesh_key = load_private_key(files.mesh_ca_key)
    if not isinstance(signing_key, rsa.RSAPrivateKey):
        raise ConfigError("the report signing key is not an RSA key")
    if not isinstance(server_key, ec.EllipticCurvePrivateKey):
        raise ConfigError("the attestation server key is not an EC key")
    if not isinstance(mesh_key, ec.EllipticCurvePrivateKey):
        raise ConfigError("the mesh CA key is not an EC key")
    return AuthorityKeys(load_cert(config.home.as_root_ca_cert), signing_key,
                         load_cert(files.report_signing_cert), server_key,
                         load_cert(files.attestation_server_cert), mesh_key,
                         load_cert(files.mesh_ca_cert))


def _sealed(config: Config) -> AuthorityKeys:
    files = KeyFiles(config.home)
    aead = AESGCM(seal_key(config, _LABEL))
    if files.authority_sealed.exists():
        keys = _open(aead, read_bytes(files.authority_sealed), str(files.authority_sealed))
    else:
        keys, _ = new_authority(datetime.now(timezone.utc))
        nonce = os.urandom(_NONCE)
        write_secret(files.authority_sealed,
                     _HEADER + nonce + aead.encrypt(nonce, _serialize(keys), _HEADER))
        get_logger("attestation").info("attestation keys made in the enclave and sealed")
    for path in files.authority_private_keys:
        path.unlink(missing_ok=True)
    publish_authority(config.home, keys)
    _reissue_operator(files, keys)
    return keys


def _reissue_operator(files: KeyFiles, keys: AuthorityKeys) -> None:
    """The operator keeps its key; its health-check certificate comes from the mesh CA in force."""
    try:
        operator = load_cert(files.operator_cert)
    except ConfigError:
        return  # no operator on this host
    try:
        operator.verify_directly_issued_by(keys.mesh_cert)
        return
    except (ValueError, TypeError, InvalidSignature):
        pass
    public_key = operator.public_key()
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        renewed = operator_certificate(keys, public_key, datetime.now(timezone.utc))
        write_public(files.operator_cert, cert_pem(renewed))


def _serialize(keys: AuthorityKeys) -> bytes:
    doc = {name: private_key_pem(getattr(keys, name)).decode() for name in _KEYS}
    doc.update({name: cert_pem(getattr(keys, name)).decode() for name in _CERTS})
    return json.dumps(doc).encode()


def _open(aead: AESGCM, sealed: bytes, where: str) -> AuthorityKeys:
    body = sealed[len(_HEADER):]
    try:
        if not sealed.startswith(_HEADER):
            raise InvalidTag
        doc = json.loads(aead.decrypt(body[:_NONCE], body[_NONCE:], _HEADER))
    except (InvalidTag, ValueError):
        raise ConfigError(
            f"{where} does not open: changed, or sealed by an enclave of another signer or on "
            "another CPU; restore it, or remove it to have the attestation service make new "
            "keys (every service's manifest then binds the new AS root)") from None
    keys = {name: serialization.load_pem_private_key(doc[name].encode(), password=None,
                                                     unsafe_skip_rsa_key_validation=True)
            for name in _KEYS}
    certs = {name: x509.load_pem_x509_certificate(doc[name].encode()) for name in _CERTS}
    return AuthorityKeys(**certs, **keys)  # type: ignore[arg-type]
