"""Tests of the simulated measurements: code hash, per-service MRENCLAVE, MRSIGNER."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from gaiwan.attestation.keystore import KeyFiles, load_private_key
from gaiwan.attestation.measurement import hash_tree, measurements, mr_enclave, mr_signer
from gaiwan.config import Config
from gaiwan.home import SERVICES


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


def test_hash_tree_covers_paths_and_contents(tmp_path: Path) -> None:
    """Renaming a file or changing a byte changes the hash; the same tree hashes the same."""
    a = hash_tree(_tree(tmp_path / "a", {"x.py": b"1", "sub/y.toml": b"2"}))
    assert a == hash_tree(_tree(tmp_path / "b", {"sub/y.toml": b"2", "x.py": b"1"}))
    assert a != hash_tree(_tree(tmp_path / "c", {"z.py": b"1", "sub/y.toml": b"2"}))
    assert a != hash_tree(_tree(tmp_path / "d", {"x.py": b"1", "sub/y.toml": b"3"}))
    # path/content boundaries cannot be shifted to forge the same stream
    assert hash_tree(_tree(tmp_path / "e", {"ab": b"c"})) != hash_tree(_tree(tmp_path / "f", {"a": b"bc"}))


def test_hash_tree_skips_bytecode(tmp_path: Path) -> None:
    """__pycache__ and .pyc files do not enter the measurement (they differ between hosts)."""
    plain = hash_tree(_tree(tmp_path / "a", {"m.py": b"code"}))
    noisy = hash_tree(_tree(tmp_path / "b", {"m.py": b"code", "__pycache__/m.cpython-311.pyc": b"x",
                                             "old.pyc": b"y"}))
    assert plain == noisy


def test_every_service_has_its_own_measurement(config: Config) -> None:
    """No two services share an MRENCLAVE, so one role's evidence never passes for another's."""
    values = {mr_enclave(config, s) for s in SERVICES}
    assert len(values) == len(SERVICES)


def test_trusted_configuration_is_measured(config: Config) -> None:
    """Mode and inbound rules change the measurement; ports do not."""
    before = mr_enclave(config, "storage")
    doc = {**config.doc, "platform": {"mode": "production"}}
    assert mr_enclave(replace(config, doc=doc), "storage") != before
    doc = {**config.doc, "inbound": {**config.doc["inbound"], "storage": ["frontend"]}}
    assert mr_enclave(replace(config, doc=doc), "storage") != before
    doc = {**config.doc, "endpoints": {**config.doc["endpoints"], "storage": "127.0.0.1:1"}}
    assert mr_enclave(replace(config, doc=doc), "storage") == before


def test_the_attestation_policy_is_measured_in_the_service_that_enforces_it(config: Config) -> None:
    """Relaxing the accepted TCB statuses or the refused advisories changes the attestation
    service's measurement; the other services' stay (they do not enforce them)."""
    before = {s: mr_enclave(config, s) for s in ("attestation", "storage")}
    for key, value in (("accepted_tcb_statuses", ["UpToDate", "OutOfDate"]),
                       ("refused_advisories", ["INTEL-SA-00837"]), ("mesh_cert_ttl_s", 60)):
        doc = {**config.doc, "attestation": {**config.doc["attestation"], key: value}}
        assert mr_enclave(replace(config, doc=doc), "attestation") != before["attestation"], key
        assert mr_enclave(replace(config, doc=doc), "storage") == before["storage"], key


def test_mr_signer_is_hash_of_signer_public_key(config: Config) -> None:
    """MRSIGNER is SHA-256 over the DER public key of keys/signer.pem, the same for all services."""
    key = load_private_key(KeyFiles(config.home).signer_key)
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    assert mr_signer(config) == hashlib.sha256(der).digest()
    assert {signer for _, signer in measurements(config, SERVICES).values()} == {mr_signer(config)}
