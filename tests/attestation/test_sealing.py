"""Sealing keys: from Gramine's MRSIGNER key under gramine-sgx, else from the platform secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from gaiwan.attestation import seal_key
from gaiwan.attestation import simulated
from gaiwan.attestation.backends import GramineSgx
from gaiwan.config import Config
from gaiwan.errors import ConfigError

from .helpers import with_backend
from .test_backends import FakeGramine


def test_simulated_backend_uses_the_platform_secret(config: Config) -> None:
    assert seal_key(config, b"storage") == simulated.seal_key(config, b"storage")


def test_gramine_key_comes_from_the_enclave_sealing_key(config: Config, tmp_path: Path) -> None:
    """Not from the platform secret (the host can read that file), per label, and bound to the
    MRSIGNER key the enclave gets: another signer's enclave derives another key."""
    platform_key = simulated.seal_key(config, b"storage")
    root = tmp_path / "dev-attestation"
    gramine = GramineSgx(root, FakeGramine(root))
    key = seal_key(with_backend(config), b"storage", gramine)
    assert len(key) == 32 and key != platform_key
    assert seal_key(config, b"storage", gramine) == key
    assert seal_key(config, b"other", gramine) != key
    (root / "keys" / "_sgx_mrsigner").write_bytes(b"T" * 16)
    assert seal_key(config, b"storage", gramine) != key


def test_gramine_without_sealing_key_is_a_config_error(config: Config, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot derive the sealing key from Gramine"):
        seal_key(with_backend(config), b"storage", GramineSgx(tmp_path / "absent"))
