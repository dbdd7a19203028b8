"""Under Gramine-SGX a service refuses what it reads from the host-visible data directory (its
security settings, the attestation root certificate, access control's policies, the attestation
service's auditor keys and Intel root) unless the manifest, and so MRENCLAVE, binds exactly that;
other backends are unaffected."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gaiwan.attestation.bound_inputs import (
    AS_ROOT_CA, AUDITORS, CONFIG, ENV, INTEL_ROOT, POLICIES, parse, require, values)
from gaiwan.attestation.collateral import collateral_dir
from gaiwan.attestation.enclave_info import sign
from gaiwan.attestation.keystore import auditor_public_key_path, auditor_signature_path
from gaiwan.attestation.verifier import Authority
from gaiwan.cli.enclave_info_cmd import command as enclave_info_command
from gaiwan.config import Config
from gaiwan.errors import AttestationError, ConfigError
from gaiwan.logs import get_logger
from gaiwan.services.access_control.service import AccessControlServicer, load_engine
from tests.attestation.dcap_builders import NOW, Pki
from tests.attestation.dcap_platform import DcapPlatform, enclave_info_text, sgx_quote, write_enclave_info
from tests.attestation.helpers import bound_env, spki, with_backend
from tests.attestation.test_gramine_manifest import TEMPLATE, render_template
from tests.support.platform import gaiwan

LOG = get_logger("test")
EXTRA_POLICY = '@id("host-permits")\npermit (principal, action, resource);\n'


def test_each_service_binds_what_it_trusts(config: Config) -> None:
    """The attestation service binds its settings, the auditors' keys and (once there is
    collateral) Intel's root; others their settings and the root they reach it by; access
    control also its policy set (which it must be given)."""
    assert set(values(config, "attestation")) == {CONFIG, AUDITORS}
    DcapPlatform(config).write()
    assert set(values(config, "attestation")) == {CONFIG, AUDITORS, INTEL_ROOT}
    assert set(values(config, "storage")) == {CONFIG, AS_ROOT_CA}
    assert set(parse(bound_env(config, "access_control"))) == {AS_ROOT_CA, CONFIG, POLICIES}
    with pytest.raises(ConfigError, match="policy set"):
        values(config, "access_control")


def test_the_config_digest_follows_the_security_view_only(config: Config) -> None:
    """Mode and inbound rules change it, per service; an endpoint (a port) does not."""
    before = values(config, "storage")[CONFIG]
    assert values(config, "scheduler")[CONFIG] != before
    config.doc["endpoints"]["storage"] = "127.0.0.1:1"
    assert values(config, "storage")[CONFIG] == before
    config.doc["inbound"]["storage"] = [*config.doc["inbound"]["storage"], "execution2"]
    assert values(config, "storage")[CONFIG] != before
    config.doc["inbound"]["storage"].pop()
    config.doc["platform"]["mode"] = "production"
    assert values(config, "storage")[CONFIG] != before


def test_other_backends_bind_nothing(config: Config) -> None:
    """Simulated: no manifest, the measurement covers the security view; nothing is required."""
    require(config, CONFIG, "00" * 32, environ={})
    require(config, CONFIG, "00" * 32, environ={ENV: "not even well formed"})


@pytest.mark.parametrize("value, message", [
    ("", "binds no digest of the security settings"),
    ("as_root_ca=" + "ab" * 32, "binds no digest of the security settings"),
    ("config=xyz", "malformed"),
    ("config=" + "ab" * 32 + ",config=" + "ab" * 32, "malformed"),
    ("config=" + "ab" * 32, "digest differs from the one this enclave was signed with"),
])
def test_gramine_refuses_unbound_malformed_or_different_inputs(config: Config, value: str,
                                                               message: str) -> None:
    with_backend(config)
    actual = values(config, "storage")[CONFIG]
    with pytest.raises(ConfigError, match=message) as info:
        require(config, CONFIG, actual, environ={ENV: value})
    assert actual not in info.value.message
    require(config, CONFIG, actual, environ={ENV: f"config={actual}"})


def test_a_policy_file_the_host_adds_is_refused_at_start_and_reload(
        config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    """Access control loads only the policy set its manifest binds: a file added later stops
    a start, and a reload to it is refused with the set in force kept."""
    with_backend(config)
    monkeypatch.setenv(ENV, bound_env(config, "access_control"))
    servicer = AccessControlServicer(load_engine(config, LOG), LOG)
    in_force = servicer.engine
    policies = config.home.root / "policies"
    policies.mkdir(exist_ok=True)
    (policies / "host.cedar").write_text(EXTRA_POLICY)
    with pytest.raises(ConfigError, match="policy files: digest differs"):
        load_engine(config, LOG)
    servicer.reload(config, 1)
    assert servicer.engine is in_force and "host-permits" not in in_force.policy_ids
    status = json.loads((config.home.run / "policies.json").read_text())
    assert "policy files: digest differs" in status["error"]
    (policies / "host.cedar").unlink()
    servicer.reload(config, 2)
    assert servicer.engine.policy_set == in_force.policy_set
    assert not json.loads((config.home.run / "policies.json").read_text())["error"]


def test_cli_prints_the_value_a_service_checks(config: Config) -> None:
    """`gaiwan enclave-info bound-inputs SERVICE` is exactly what that service accepts."""
    with_backend(config)
    result = CliRunner().invoke(enclave_info_command, ["bound-inputs", "access_control",
                                                       "--home", str(config.home.root)])
    assert result.exit_code == 0, result.output
    printed = result.output.strip()
    assert printed == bound_env(config, "access_control")
    for name, digest in parse(printed).items():
        require(config, name, digest, environ={ENV: printed})
    manifest = tomllib.loads(render_template(TEMPLATE.read_text(), bound_inputs=printed))
    assert manifest["loader"]["env"][ENV] == printed  # survives rendering into the manifest
    missing = CliRunner().invoke(enclave_info_command, ["bound-inputs", "storage", "--home",
                                                        str(config.home.root / "nowhere")])
    assert missing.exit_code != 0


def test_a_service_without_bound_inputs_does_not_start(config: Config, tmp_path: Path) -> None:
    """The real process: `gaiwan service storage` under gramine-sgx from a manifest that binds
    nothing stops before attesting, with exit code 78 and the command to run."""
    with_backend(config)
    shutil.rmtree(config.home.logs, ignore_errors=True)
    proc = gaiwan("service", "storage", "--home", str(config.home.root), "--log-stderr",
                  check=False, timeout=60)
    assert proc.returncode == 78
    assert "gaiwan enclave-info bound-inputs" in proc.stdout


@pytest.fixture
def dcap(config: Config) -> DcapPlatform:
    """A gramine-sgx platform with collateral, its attestation service's inputs bound."""
    with_backend(config)
    write_enclave_info(config, enclave_info_text())
    return DcapPlatform(config).write()


def _attest(authority: Authority, pki: Pki) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    authority.attest("storage", "sgx-dcap", sgx_quote(pki, key), spki(key), now=NOW)


def test_an_auditor_the_host_adds_is_refused(dcap: DcapPlatform) -> None:
    """A host that adds its own auditor key (to sign an enclave_info of its choosing) makes the
    attestation service refuse every attestation, not trust the new key."""
    authority = Authority.load(dcap.config)
    _attest(authority, dcap.pki)
    home = dcap.config.home
    host_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    auditor_public_key_path(home, "host").write_bytes(host_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    auditor_signature_path(home, "host").write_bytes(sign(home.enclave_info.read_bytes(), host_key))
    with pytest.raises(AttestationError, match="auditors' public keys .*: digest differs"):
        _attest(authority, dcap.pki)


def test_an_intel_root_the_host_swaps_is_refused(dcap: DcapPlatform) -> None:
    """Collateral of the host's own 'Intel' root, with quotes it forged under it: refused per
    attestation, and the attestation service does not start on it."""
    authority = Authority.load(dcap.config)
    forged = Pki()
    directory = collateral_dir(dcap.config)
    for name, data in DcapPlatform(dcap.config, forged).contents().items():
        if data is not None:
            (directory / name).write_bytes(data)
    with pytest.raises(AttestationError, match="DCAP evidence cannot be verified: Intel's root"):
        _attest(authority, forged)
    with pytest.raises(ConfigError, match="Intel's root certificate of the DCAP collateral: digest differs"):
        Authority.load(dcap.config)
