"""Tests of the policy's DCAP rules read from config: `[attestation] refused_advisories`, read and
applied, and `min_tcb_evaluation_data_number`, read (applied in test_qe_identity)."""

from __future__ import annotations

import pytest

from gaiwan.attestation.policy import Policy
from gaiwan.config import Config
from gaiwan.errors import AttestationError, ConfigError


def test_no_advisory_is_refused_by_default(config: Config) -> None:
    """Without the setting, advisories are reported, not refused."""
    policy = Policy.from_config(config)
    assert policy.refused_advisories == frozenset()
    policy.check_advisories(("INTEL-SA-00837",), "the quote's platform")


def test_configured_advisories_are_refused_whatever_their_case(config: Config) -> None:
    """Listed IDs are refused, named; a lower-case entry refuses too, rather than nothing."""
    config.doc["attestation"]["refused_advisories"] = ["INTEL-SA-00837", "intel-sa-00615"]
    policy = Policy.from_config(config)
    policy.check_advisories(("INTEL-SA-00334",), "the quote's platform")
    with pytest.raises(AttestationError, match=r"^the quote's platform is affected by advisory "
                                               r"INTEL-SA-00615, refused by the policy "
                                               r"\(\[attestation\] refused_advisories\)$"):
        policy.check_advisories(("INTEL-SA-00334", "INTEL-SA-00615"), "the quote's platform")
    with pytest.raises(AttestationError, match="affected by advisories INTEL-SA-00837, "
                                               "INTEL-SA-00615, refused"):
        policy.check_advisories(("INTEL-SA-00837", "INTEL-SA-00615"), "the quote's platform")


@pytest.mark.parametrize("value", ["INTEL-SA-00837", ["INTEL-SA-00837", 837], [""], [["x"]]])
def test_malformed_setting_is_a_config_error(config: Config, value: object) -> None:
    """refused_advisories must be a list of non-empty advisory ID strings."""
    config.doc["attestation"]["refused_advisories"] = value
    with pytest.raises(ConfigError, match=r"\[attestation\] refused_advisories must list "
                                          r"advisory IDs such as \"INTEL-SA-00837\""):
        Policy.from_config(config)


def test_minimum_tcb_evaluation_is_read_from_config(config: Config) -> None:
    """Absent, any evaluation is accepted (0); set, it reaches the policy."""
    assert Policy.from_config(config).min_tcb_evaluation_data_number == 0
    config.doc["attestation"]["min_tcb_evaluation_data_number"] = 18
    assert Policy.from_config(config).min_tcb_evaluation_data_number == 18


@pytest.mark.parametrize("value", [-1, True, "18", 1.5])
def test_minimum_tcb_evaluation_must_be_a_whole_number(config: Config, value: object) -> None:
    """A bad minimum is a configuration error naming the key, not a silent 0."""
    config.doc["attestation"]["min_tcb_evaluation_data_number"] = value
    with pytest.raises(ConfigError, match=r"\[attestation\] min_tcb_evaluation_data_number must"):
        Policy.from_config(config)
