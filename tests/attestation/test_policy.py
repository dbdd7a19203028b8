"""Tests of the policy's advisory rule: `[attestation] refused_advisories` read and applied."""

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
