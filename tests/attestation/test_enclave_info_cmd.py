"""Tests of `gaiwan enclave-info`: generate, sign, verify exit codes, refresh."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gaiwan.attestation.keystore import KeyFiles, auditor_public_key_path, auditor_signature_path
from gaiwan.attestation.pki import current_enclave_info, publish_enclave_info
from gaiwan.attestation.verifier import Authority
from gaiwan.cli import main
from gaiwan.config import Config
from gaiwan.errors import AttestationError

from .helpers import evidence_for, spki


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["enclave-info", *args])
    return result.exit_code, result.output


def _rsa_key(path: Path) -> Path:
    key = rsa.generate_private_key(65537, 2048)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.with_suffix(".pub").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


def test_generate_prints_current_measurements(config: Config, tmp_path: Path) -> None:
    """generate writes what this code and configuration measure to, as init did."""
    code, output = _run("generate", "--home", str(config.home.root))
    assert code == 0 and output.encode() == current_enclave_info(config)
    code, _ = _run("generate", "--home", str(config.home.root), "-o", str(tmp_path / "e.toml"))
    assert code == 0 and (tmp_path / "e.toml").read_bytes() == config.home.enclave_info.read_bytes()


def test_verify_exit_codes(config: Config, tmp_path: Path) -> None:
    """verify exits 0 when enough auditors signed, 1 with the reason otherwise."""
    home = config.home
    info, local_pub = str(home.enclave_info), str(home.auditors / "local.public.pem")
    local_sig = str(home.auditors / "local.sign.sha256")
    code, output = _run("verify", "--enclave-info", info, "--public-keys", local_pub,
                        "--signatures", local_sig)
    assert code == 0 and "OK" in output

    second = _rsa_key(tmp_path / "bob.pem")
    sig = tmp_path / "bob.sign.sha256"
    code, _ = _run("sign", "--key", str(second), "--enclave-info", info, "-o", str(sig))
    assert code == 0
    # Teaclave style lists: --public-keys a b --signatures a b
    code, output = _run("verify", "--enclave-info", info, "--public-keys", local_pub,
                        str(second.with_suffix(".pub")), "--signatures", local_sig, str(sig),
                        "--threshold", "2")
    assert code == 0, output

    code, output = _run("verify", "--enclave-info", info, "--public-keys", local_pub,
                        "--signatures", local_sig, local_sig, "--threshold", "2")
    assert code == 1 and "1 distinct auditor(s), 2 required" in output

    code, output = _run("verify", "--enclave-info", info, "--public-keys", local_pub,
                        "--signatures", str(sig))
    assert code == 1 and "verify with no known auditor key" in output

    code, output = _run("verify", "--enclave-info", info, "--public-keys", local_pub)
    assert code == 2 and "--signatures" in output


def test_sign_into_auditor_dir(config: Config, tmp_path: Path) -> None:
    """sign --name writes client/auditors/NAME.sign.sha256; a non-RSA key is refused."""
    key = _rsa_key(tmp_path / "carol.pem")
    code, _ = _run("sign", "--home", str(config.home.root), "--key", str(key), "--name", "carol")
    assert code == 0 and (config.home.auditors / "carol.sign.sha256").is_file()
    code, output = _run("sign", "--home", str(config.home.root),
                        "--key", str(KeyFiles(config.home).tee_sim_key), "--name", "x")
    assert code == 1 and "not an RSA key" in output
    code, output = _run("sign", "--home", str(config.home.root), "--key", str(key))
    assert code == 2 and "--name" in output


def test_refresh_only_when_changed(config: Config) -> None:
    """refresh is silent when up to date and re-signs, naming what changed, after a change."""
    root = str(config.home.root)
    code, output = _run("refresh", "--home", root)
    assert code == 0 and output == ""
    config.doc["inbound"]["storage"] = ["frontend"]
    config.save()
    code, output = _run("refresh", "--home", root)
    assert code == 0 and "measurements changed for" in output
    assert "teaclave_storage_service" in output
    code, output = _run("verify", "--enclave-info", str(config.home.enclave_info), "--public-keys",
                        str(config.home.auditors / "local.public.pem"), "--signatures",
                        str(config.home.auditors / "local.sign.sha256"))
    assert code == 0


def test_refresh_renews_a_broken_signature(config: Config) -> None:
    """In development, an unchanged file with a bad signature is re-signed."""
    (config.home.auditors / "local.sign.sha256").write_bytes(b"bad")
    code, output = _run("refresh", "--home", str(config.home.root))
    assert code == 0 and "signature renewed" in output


def test_refresh_refused_in_production(config: Config) -> None:
    """Production platforms need their auditors; refresh says so and changes nothing."""
    config.doc["platform"]["mode"] = "production"
    config.save()
    before = config.home.enclave_info.read_bytes()
    code, output = _run("refresh", "--home", str(config.home.root))
    assert code == 1 and "production mode" in output and "auditors" in output
    assert config.home.enclave_info.read_bytes() == before


def _auditors(tmp_path: Path, info: str, names: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """name -> (public key path, signature path) of fresh auditors who signed `info`."""
    made = {}
    for name in names:
        key = _rsa_key(tmp_path / f"{name}.pem")
        sig = tmp_path / f"{name}.sign.sha256"
        assert _run("sign", "--key", str(key), "--enclave-info", info, "-o", str(sig))[0] == 0
        made[name] = (str(key.with_suffix(".pub")), str(sig))
    return made


def test_threshold_combinations(config: Config, tmp_path: Path) -> None:
    """1-of-2 and 2-of-3 pass; 2-of-3 with one signature twice or an unknown signer fails."""
    info = str(config.home.enclave_info)
    a = _auditors(tmp_path, info, ("ann", "ben", "cid", "eve"))
    keys = lambda *n: ["--public-keys", *(a[x][0] for x in n)]  # noqa: E731
    sigs = lambda *n: ["--signatures", *(a[x][1] for x in n)]  # noqa: E731
    base = ["verify", "--enclave-info", info]
    assert _run(*base, *keys("ann", "ben"), *sigs("ben"), "--threshold", "1")[0] == 0
    assert _run(*base, *keys("ann", "ben", "cid"), *sigs("ann", "cid"), "--threshold", "2")[0] == 0
    code, out = _run(*base, *keys("ann", "ben", "cid"), *sigs("ann", "ann"), "--threshold", "2")
    assert code == 1 and "1 distinct auditor(s), 2 required" in out
    code, out = _run(*base, *keys("ann", "ben", "cid"), *sigs("ann", "eve"), "--threshold", "2")
    assert code == 1 and "1 signature(s) verify with no known auditor key" in out


def test_services_require_the_configured_threshold(config: Config, tmp_path: Path) -> None:
    """With auditor_threshold 2 the authority refuses until a second known auditor signs."""
    config.doc["attestation"]["auditor_threshold"] = 2
    config.save()
    publish_enclave_info(config)
    key = ec.generate_private_key(ec.SECP256R1())
    attest = lambda: Authority.load(config).attest(  # noqa: E731
        "storage", "simulated", evidence_for(config, "storage", key), spki(key))
    with pytest.raises(AttestationError, match="signed by 1 distinct known auditor"):
        attest()
    bob = _rsa_key(tmp_path / "bob.pem")
    auditor_public_key_path(config.home, "bob").write_bytes(bob.with_suffix(".pub").read_bytes())
    assert _run("sign", "--key", str(bob), "--enclave-info", str(config.home.enclave_info),
                "-o", str(auditor_signature_path(config.home, "bob")))[0] == 0
    assert attest().mesh_cert_pem
