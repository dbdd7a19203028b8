"""The attestation service's keys under Gramine-SGX: made in its enclave, kept only sealed,
certificates published at every start; a sealed file that does not open stops it, never
replaced. Other backends keep the files `gaiwan init` wrote."""

from __future__ import annotations

import stat

import pytest
from cryptography.hazmat.primitives import serialization

from gaiwan.attestation.authority_keys import load_authority_keys
from gaiwan.attestation.backends import GramineSgx
from gaiwan.attestation.keystore import KeyFiles, load_cert
from gaiwan.attestation.mesh import operator_identity
from gaiwan.config import Config
from gaiwan.errors import ConfigError

from .helpers import with_backend
from .test_backends import FakeGramine


def _spki(key: object) -> bytes:
    return key.public_key().public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_keys_are_made_in_the_enclave_and_kept_only_sealed(config: Config) -> None:
    """First start: new roots, init's private keys gone, certificates published, and the sealed
    file holds no key in the clear."""
    files = KeyFiles(config.home)
    init_root = config.home.as_root_ca_cert.read_bytes()
    init_signing = files.report_signing_key.read_bytes()
    keys = load_authority_keys(with_backend(config))

    assert not any(path.exists() for path in files.authority_private_keys)
    sealed = files.authority_sealed.read_bytes()
    assert stat.S_IMODE(files.authority_sealed.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" not in sealed and init_signing not in sealed
    assert config.home.as_root_ca_cert.read_bytes() != init_root
    assert load_cert(config.home.as_root_ca_cert) == keys.root_cert
    keys.signing_cert.verify_directly_issued_by(keys.root_cert)
    keys.server_cert.verify_directly_issued_by(keys.root_cert)
    assert load_cert(files.mesh_ca_cert) == keys.mesh_cert
    assert load_cert(files.report_signing_cert) == keys.signing_cert
    assert load_cert(files.attestation_server_cert) == keys.server_cert


def test_sealed_keys_are_the_same_after_a_restart(config: Config) -> None:
    """Later starts unseal the same keys and leave the sealed file as it was; removing it is
    how an operator starts afresh."""
    files = KeyFiles(with_backend(config).home)
    first = load_authority_keys(config)
    sealed = files.authority_sealed.read_bytes()
    config.home.as_root_ca_cert.unlink()  # published again at every start
    again = load_authority_keys(config)
    assert files.authority_sealed.read_bytes() == sealed
    assert [_spki(k) for k in (again.signing_key, again.server_key, again.mesh_key)] == \
        [_spki(k) for k in (first.signing_key, first.server_key, first.mesh_key)]
    assert load_cert(config.home.as_root_ca_cert) == first.root_cert
    files.authority_sealed.unlink()
    assert load_authority_keys(config).root_cert != first.root_cert


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "other header"])
def test_a_changed_sealed_file_stops_the_service(config: Config, damage: str) -> None:
    """Making new keys instead would let whoever can change a file replace the roots."""
    files = KeyFiles(with_backend(config).home)
    load_authority_keys(config)
    sealed = bytearray(files.authority_sealed.read_bytes())
    if damage == "flipped byte":
        sealed[-20] ^= 1
    elif damage == "truncated":
        del sealed[40:]
    else:
        sealed[0:6] = b"GAIWAN"
    files.authority_sealed.write_bytes(bytes(sealed))
    with pytest.raises(ConfigError, match="attestation_keys.sealed does not open"):
        load_authority_keys(config)
    assert files.authority_sealed.read_bytes() == bytes(sealed)  # not replaced by new keys


def test_keys_sealed_by_another_enclave_do_not_open(config: Config,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Another signer's (or CPU's) sealing key cannot open them, and the error names no key."""
    from gaiwan.attestation import sealing

    files = KeyFiles(with_backend(config).home)
    load_authority_keys(config)
    other_root = config.home.root / "other-dev-attestation"
    other = GramineSgx(other_root, FakeGramine(other_root))
    (other_root / "keys" / "_sgx_mrsigner").write_bytes(b"T" * 16)
    monkeypatch.setattr(sealing, "GramineSgx", lambda: other)
    with pytest.raises(ConfigError, match="sealed by an enclave of another signer") as info:
        load_authority_keys(config)
    assert "TTTT" not in info.value.message
    assert files.authority_sealed.exists()


def test_the_operator_keeps_its_key_under_the_new_mesh_ca(config: Config) -> None:
    """The operator's health-check certificate is reissued for its own key by the mesh CA in
    force, so `gaiwan status` keeps working."""
    files = KeyFiles(config.home)
    before = load_cert(files.operator_cert)
    keys = load_authority_keys(with_backend(config))
    after = load_cert(files.operator_cert)
    after.verify_directly_issued_by(keys.mesh_cert)
    assert _spki(after) == _spki(before)
    identity = operator_identity(config)
    assert identity.mesh_ca_pem == keys.mesh_cert.public_bytes(serialization.Encoding.PEM)
    load_authority_keys(config)
    assert load_cert(files.operator_cert) == after  # not reissued while valid under this CA


def test_other_backends_keep_the_files_init_wrote(config: Config) -> None:
    """Simulated (and tsm, whose data directory is on the guest's encrypted disk): init's files."""
    files = KeyFiles(config.home)
    keys = load_authority_keys(config)
    assert not files.authority_sealed.exists()
    assert all(path.exists() for path in files.authority_private_keys)
    assert keys.root_cert == load_cert(config.home.as_root_ca_cert)
