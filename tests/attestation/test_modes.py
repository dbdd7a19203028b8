"""Tests of platform modes: development is visible everywhere, production refuses simulated evidence."""

from __future__ import annotations

from dataclasses import replace

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gaiwan.attestation import Policy, verify_ra_tls_certificate
from gaiwan.attestation.enclave_info import parse
from gaiwan.attestation.ratls import build_ra_tls_certificate
from gaiwan.attestation.verifier import Authority
from gaiwan.cli import main
from gaiwan.client import TrustAnchors
from gaiwan.config import Config
from gaiwan.errors import AttestationError

from .helpers import evidence_for, spki


def _dev_certificate(config: Config) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    endorsed = Authority.load(config).attest("frontend", "simulated",
                                             evidence_for(config, "frontend", key), spki(key))
    return build_ra_tls_certificate(key, endorsed.endorsement, "frontend").public_bytes(
        serialization.Encoding.DER)


def test_every_endorsed_report_carries_the_mode(config: Config) -> None:
    """A development platform's reports say development and simulated, as clients see them."""
    claims = verify_ra_tls_certificate(_dev_certificate(config), config.home.as_root_ca_cert.read_bytes(),
                                       parse(config.home.enclave_info.read_bytes()), "frontend")
    assert (claims.mode, claims.evidence_type) == ("development", "simulated")


def test_sdk_of_a_production_home_refuses_simulated_reports(config: Config) -> None:
    """A client whose home says production refuses a simulated report, saying so."""
    der = _dev_certificate(config)
    config.doc["platform"]["mode"] = "production"
    config.save()
    trust = TrustAnchors.from_home(config.home)
    assert trust.policy.allow_simulated is False
    with pytest.raises(AttestationError, match="simulated evidence, which production mode refuses"):
        verify_ra_tls_certificate(der, trust.as_root_ca_pem, parse(config.home.enclave_info.read_bytes()),
                                  "frontend", policy=trust.policy)


def test_policy_follows_the_configuration(config: Config) -> None:
    """Accepted statuses and maximum age come from [attestation]; simulated only in development."""
    config.doc["attestation"].update(accepted_tcb_statuses=["UpToDate"], report_max_age_s=60)
    policy = Policy.from_config(config)
    assert policy.accepted_statuses == {"UpToDate"} and policy.max_age.total_seconds() == 60
    assert policy.allow_simulated
    assert not Policy.from_config(replace(config, doc={**config.doc,
                                                       "platform": {"mode": "production"}})).allow_simulated


def test_status_shows_the_mode(config: Config) -> None:
    """`gaiwan status` names the mode even when nothing is running."""
    result = CliRunner().invoke(main, ["status", "--home", str(config.home.root), "--timeout", "0.2"])
    assert "mode: development" in result.output
