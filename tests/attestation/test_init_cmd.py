"""Tests of `gaiwan init`: files, permissions, ports, the admin hash, and refusing to overwrite."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from gaiwan.attestation.keystore import KeyFiles
from gaiwan.cli import main
from gaiwan.config import DEFAULT_PORTS, Config
from gaiwan.home import Home
from gaiwan.passwords import verify_password

PASSWORD = "correct-horse-battery-9"


def _init(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["init", "--home", str(root), *args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    root = tmp_path_factory.mktemp("init") / "home"
    code, output = _init(root, "--ports", "auto", "--admin-password", PASSWORD)
    assert code == 0, output
    return Home.at(root)


def test_every_file_has_the_right_permissions(home: Home) -> None:
    """Directories are 0700, keys and the config 0600, public client material 0644."""
    files = KeyFiles(home)
    expected_secret = [files.as_root_ca_key, files.report_signing_key, files.attestation_server_key,
                       files.mesh_ca_key, files.operator_key, files.tee_sim_key, files.signer_key,
                       files.platform_secret, files.auditor_key("local"), home.config]
    expected_public = [home.as_root_ca_cert, home.enclave_info, home.auditors / "local.public.pem",
                       home.auditors / "local.sign.sha256", files.report_signing_cert,
                       files.mesh_ca_cert, files.operator_cert, files.attestation_server_cert]
    for path in expected_secret:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for path in expected_public:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
    for path in [home.root, *(p for p in home.root.rglob("*") if p.is_dir())]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    made = {p for p in home.root.rglob("*") if p.is_file()}
    assert made == set(expected_secret) | set(expected_public)


def test_admin_password_is_only_hashed(home: Home) -> None:
    """The bootstrap admin's password appears in no file; its argon2 hash verifies it."""
    for path in home.root.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
    auth = Config.load(home).section("authentication")
    assert auth["bootstrap_admin"] == "admin"
    assert verify_password(auth["bootstrap_admin_hash"], PASSWORD)
    assert not verify_password(auth["bootstrap_admin_hash"], "teaclave")


def test_auto_ports_are_distinct(home: Home) -> None:
    """--ports auto gives every endpoint its own port."""
    config = Config.load(home)
    ports = {config.listen_address(e).rpartition(":")[2] for e in DEFAULT_PORTS}
    assert len(ports) == len(DEFAULT_PORTS)
    assert config.mode == "development"


def test_existing_platform_is_not_overwritten(home: Home) -> None:
    """A second init refuses without --force and leaves the keys alone; --if-missing exits 0."""
    before = home.as_root_ca_cert.read_bytes()
    code, output = _init(home.root)
    assert code != 0 and "already exists" in output and "--force" in output
    code, output = _init(home.root, "--if-missing")
    assert code == 0 and "left as it is" in output
    assert home.as_root_ca_cert.read_bytes() == before


def test_force_replaces_platform(tmp_path: Path) -> None:
    """--force makes new keys; --ports BASE and --mode are honoured; default password is teaclave."""
    root = tmp_path / "home"
    assert _init(root, "--ports", "auto")[0] == 0
    before = Home.at(root).as_root_ca_cert.read_bytes()
    code, output = _init(root, "--force", "--ports", "20000", "--mode", "production")
    assert code == 0, output
    home = Home.at(root)
    assert home.as_root_ca_cert.read_bytes() != before
    config = Config.load(home)
    assert config.mode == "production"
    assert [config.listen_address(e).rpartition(":")[2] for e in DEFAULT_PORTS] == [
        str(20000 + i) for i in range(len(DEFAULT_PORTS))]
    assert verify_password(config.section("authentication")["bootstrap_admin_hash"], "teaclave")


@pytest.mark.parametrize("ports", ["nope", "0", "65530"])
def test_bad_ports_are_refused(tmp_path: Path, ports: str) -> None:
    """--ports takes `auto` or a base that leaves room for every endpoint."""
    code, output = _init(tmp_path / "home", "--ports", ports)
    assert code == 2 and "--ports" in output
    assert not Home.at(tmp_path / "home").exists()
