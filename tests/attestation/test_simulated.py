"""Tests of the simulated TEE: evidence signing and checking, and the sealing key."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from gaiwan.attestation import seal_key
from gaiwan.attestation.keystore import KeyFiles, write_secret
from gaiwan.attestation.quote import QuoteBody
from gaiwan.attestation.simulated import hardware_key, produce_evidence, verify_evidence
from gaiwan.config import Config
from gaiwan.errors import AttestationError, ConfigError

QUOTE = QuoteBody(b"\x01" * 32, b"\x02" * 32, b"\x03" * 64)


def test_evidence_verifies_with_the_hardware_key() -> None:
    """Evidence is the quote body then a signature, and verifies back to the same quote."""
    key = ec.generate_private_key(ec.SECP256R1())
    evidence = produce_evidence(QUOTE, key)
    assert evidence[:432] == QUOTE.to_bytes()
    assert verify_evidence(evidence, key.public_key()) == QUOTE


def test_evidence_from_another_hardware_key_is_refused() -> None:
    """A quote signed by a key other than the platform's TEE key is not evidence."""
    evidence = produce_evidence(QUOTE, ec.generate_private_key(ec.SECP256R1()))
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(AttestationError, match="does not verify with the TEE hardware key"):
        verify_evidence(evidence, other)


def test_tampered_quote_is_refused() -> None:
    """Changing one byte of the signed quote breaks the evidence."""
    key = ec.generate_private_key(ec.SECP256R1())
    evidence = bytearray(produce_evidence(QUOTE, key))
    evidence[120] ^= 1
    with pytest.raises(AttestationError, match="does not verify"):
        verify_evidence(bytes(evidence), key.public_key())


def test_truncated_evidence_is_refused() -> None:
    """Evidence without a signature is refused before any parsing."""
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(AttestationError, match="too short"):
        verify_evidence(QUOTE.to_bytes(), key.public_key())


def test_hardware_key_is_the_init_key(config: Config) -> None:
    """The simulated hardware key is the P-256 key init wrote to keys/tee_sim_key.pem."""
    assert isinstance(hardware_key(config).curve, ec.SECP256R1)


def test_seal_key_is_stable_and_label_bound(config: Config) -> None:
    """The sealing key is 32 bytes, the same on every call, different per label."""
    key = seal_key(config, b"storage")
    assert len(key) == 32
    assert seal_key(config, b"storage") == key
    assert seal_key(config, b"jwt") != key


def test_seal_key_depends_on_platform_secret(config: Config) -> None:
    """Another platform secret gives another sealing key; a damaged secret is refused."""
    before = seal_key(config, b"storage")
    path = KeyFiles(config.home).platform_secret
    write_secret(path, os.urandom(32))
    assert seal_key(config, b"storage") != before
    write_secret(path, b"short")
    with pytest.raises(ConfigError, match="damaged"):
        seal_key(config, b"storage")
