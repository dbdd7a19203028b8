"""Tests of enclave_info: the file format, auditor signatures, thresholds and every refusal."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gaiwan.attestation import enclave_info
from gaiwan.errors import AttestationError
from tests.fixtures import teaclave_fixture

MEASURED = {"frontend": (b"\x01" * 32, b"\x02" * 32), "storage": (b"\x03" * 32, b"\x02" * 32)}
CONTENT = enclave_info.render(MEASURED)


@pytest.fixture(scope="module")
def keys() -> list[rsa.RSAPrivateKey]:
    return [rsa.generate_private_key(65537, 2048) for _ in range(3)]


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def _auditors(root: Path, keys: dict[str, rsa.RSAPrivateKey | None],
              signers: dict[str, rsa.RSAPrivateKey], content: bytes = CONTENT) -> Path:
    """A client/auditors directory: public keys for `keys`, signatures by `signers`."""
    root.mkdir()
    for name, key in keys.items():
        if key is not None:
            (root / f"{name}.public.pem").write_bytes(_pem(key))
    for name, key in signers.items():
        (root / f"{name}.sign.sha256").write_bytes(enclave_info.sign(content, key))
    return root


def test_render_is_teaclave_format() -> None:
    """Tables are teaclave_<service>_service with lower-case hex, the layout of Teaclave's file."""
    text = CONTENT.decode()
    assert text.startswith('[teaclave_frontend_service]\nmr_enclave = "' + "01" * 32 + '"\n')
    assert 'mr_signer  = "' + "02" * 32 + '"' in text
    info = enclave_info.parse(CONTENT)
    assert info.expect("storage").mr_enclave == b"\x03" * 32


def test_teaclave_fixture_layout_parses_as_toml() -> None:
    """Teaclave's own file has the same tables; its placeholder values are refused as non-hex."""
    content = teaclave_fixture("enclave_info.toml").read_bytes()
    with pytest.raises(AttestationError, match="teaclave_authentication_service needs mr_enclave"):
        enclave_info.parse(content)


def test_check_reports_which_measurement_differs() -> None:
    """A quote whose measurement is not listed is refused, naming the field and the service."""
    info = enclave_info.parse(CONTENT)
    info.check("frontend", b"\x01" * 32, b"\x02" * 32)
    with pytest.raises(AttestationError, match="mr_enclave .* of frontend is not the one"):
        info.check("frontend", b"\x09" * 32, b"\x02" * 32)
    with pytest.raises(AttestationError, match="mr_signer .* of frontend is not the one"):
        info.check("frontend", b"\x01" * 32, b"\x09" * 32)
    with pytest.raises(AttestationError, match="no table teaclave_management_service"):
        info.check("management", b"\x01" * 32, b"\x02" * 32)


def test_verify_counts_distinct_known_keys(keys: list[rsa.RSAPrivateKey]) -> None:
    """Two auditors signing meet threshold 2; the same key twice counts once."""
    a, b, _ = keys
    sig_a, sig_b = enclave_info.sign(CONTENT, a), enclave_info.sign(CONTENT, b)
    assert enclave_info.verify(CONTENT, [_pem(a), _pem(b)], [sig_a, sig_b], 2) == 2
    with pytest.raises(AttestationError, match="from 1 distinct auditor"):
        enclave_info.verify(CONTENT, [_pem(a), _pem(b)], [sig_a, sig_a], 2)
    with pytest.raises(AttestationError, match="from 1 distinct auditor"):
        enclave_info.verify(CONTENT, [_pem(a), _pem(a)], [sig_a, sig_a], 2)


def test_verify_ignores_unknown_keys(keys: list[rsa.RSAPrivateKey]) -> None:
    """A valid signature by a key not in the known list does not count."""
    a, _, stranger = keys
    with pytest.raises(AttestationError, match="1 signature.s. verify with no known auditor key"):
        enclave_info.verify(CONTENT, [_pem(a)], [enclave_info.sign(CONTENT, stranger)], 1)


def test_verify_refuses_changed_content(keys: list[rsa.RSAPrivateKey]) -> None:
    """A signature covers the exact bytes: one changed byte and it no longer counts."""
    a = keys[0]
    with pytest.raises(AttestationError, match="from 0 distinct auditor"):
        enclave_info.verify(CONTENT + b"\n", [_pem(a)], [enclave_info.sign(CONTENT, a)], 1)


def test_auditor_dir_accepts_enough_signatures(tmp_path: Path, keys: list[rsa.RSAPrivateKey]) -> None:
    """Signature files paired by name with public keys verify; the good names are returned."""
    a, b, _ = keys
    root = _auditors(tmp_path / "aud", {"alice": a, "bob": b}, {"alice": a, "bob": b})
    assert enclave_info.verify_auditor_dir(CONTENT, root, 2) == ["alice", "bob"]


def test_auditor_dir_missing_signature(tmp_path: Path, keys: list[rsa.RSAPrivateKey]) -> None:
    """An auditor who has not signed is named when the threshold is not met."""
    a = keys[0]
    root = _auditors(tmp_path / "aud", {"alice": a}, {})
    with pytest.raises(AttestationError, match="auditor 'alice' has no signature"):
        enclave_info.verify_auditor_dir(CONTENT, root, 1)


def test_auditor_dir_bad_signature(tmp_path: Path, keys: list[rsa.RSAPrivateKey]) -> None:
    """A signature over other bytes is reported as not verifying."""
    a = keys[0]
    root = _auditors(tmp_path / "aud", {"alice": a}, {"alice": a}, content=b"other")
    with pytest.raises(AttestationError, match="signature of auditor 'alice' does not verify"):
        enclave_info.verify_auditor_dir(CONTENT, root, 1)


def test_auditor_dir_unknown_signer(tmp_path: Path, keys: list[rsa.RSAPrivateKey]) -> None:
    """A signature file with no public key beside it is by no known auditor and does not count."""
    a, _, stranger = keys
    root = _auditors(tmp_path / "aud", {"alice": None}, {"mallory": stranger})
    with pytest.raises(AttestationError, match="mallory.sign.sha256 is by no known auditor"):
        enclave_info.verify_auditor_dir(CONTENT, root, 1)


def test_auditor_dir_below_threshold(tmp_path: Path, keys: list[rsa.RSAPrivateKey]) -> None:
    """One valid signature of two required is refused, saying how many there are."""
    a, b, _ = keys
    root = _auditors(tmp_path / "aud", {"alice": a, "bob": b}, {"alice": a})
    with pytest.raises(AttestationError, match="signed by 1 distinct known auditor.s., 2 required"):
        enclave_info.verify_auditor_dir(CONTENT, root, 2)


def test_auditor_dir_same_key_under_two_names(tmp_path: Path, keys: list[rsa.RSAPrivateKey]) -> None:
    """One key filed under two auditor names still counts once."""
    a = keys[0]
    root = _auditors(tmp_path / "aud", {"alice": a, "alias": a}, {"alice": a, "alias": a})
    with pytest.raises(AttestationError, match="signed by 1 distinct known auditor"):
        enclave_info.verify_auditor_dir(CONTENT, root, 2)


def test_load_verified_refuses_missing_file(tmp_path: Path) -> None:
    """No enclave_info file is an attestation failure, not a crash."""
    with pytest.raises(AttestationError, match="no enclave_info"):
        enclave_info.load_verified(tmp_path / "enclave_info.toml", tmp_path, 1)
