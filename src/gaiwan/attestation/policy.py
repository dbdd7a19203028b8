"""What a verifier accepts beyond a valid signature: TCB status, advisories, report age, simulated
evidence.

A valid signature says who vouched for a quote, not that the platform is patched or that the
report is recent. The quote status vocabulary differs by era: Intel's IAS (report v3, EPID) says
`OK`, `GROUP_OUT_OF_DATE`, `SW_HARDENING_NEEDED`...; Intel's DCAP collateral (TCB info) says
`UpToDate`, `OutOfDate`, `SWHardeningNeeded`... (Intel, "Attestation Service for Intel SGX API
Documentation" rev. 6 §4.2.1; "Intel SGX DCAP ECDSA Quote Library API", TCB info v3). Teaclave's
v4 reports keep the IAS word `OK`. Everything is normalised here to the DCAP names, so one list
of accepted statuses (`[attestation] accepted_tcb_statuses`) speaks for all evidence.
The default accepts UpToDate and SWHardeningNeeded, the two statuses under which Intel considers
the platform's TCB current (the latter when the enclave was built with the advised mitigations).

A TCB status is Intel's summary; the advisory IDs of the matched TCB level (INTEL-SA-...) say
which known weaknesses remain. A status such as SWHardeningNeeded is acceptable for enclaves that
mitigate one advisory but not for those exposed to another, so `[attestation] refused_advisories`
refuses evidence and reports naming any of the listed advisories, whatever their status. IDs are
compared without regard to case: a lower-case entry must not silently refuse nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from ..config import Config
from ..errors import AttestationError, ConfigError

SIMULATED = "simulated"  # the evidence type of the software TEE (gaiwan.attestation.simulated)

UP_TO_DATE = "UpToDate"
SW_HARDENING_NEEDED = "SWHardeningNeeded"
CONFIGURATION_NEEDED = "ConfigurationNeeded"
CONFIGURATION_AND_SW_HARDENING_NEEDED = "ConfigurationAndSWHardeningNeeded"
OUT_OF_DATE = "OutOfDate"
OUT_OF_DATE_CONFIGURATION_NEEDED = "OutOfDateConfigurationNeeded"
REVOKED = "Revoked"

TCB_STATUSES = frozenset({
    UP_TO_DATE, SW_HARDENING_NEEDED, CONFIGURATION_NEEDED, CONFIGURATION_AND_SW_HARDENING_NEEDED,
    OUT_OF_DATE, OUT_OF_DATE_CONFIGURATION_NEEDED, REVOKED,
})
DEFAULT_ACCEPTED = frozenset({UP_TO_DATE, SW_HARDENING_NEEDED})
DEFAULT_MAX_AGE = timedelta(days=1)
# Clocks of verifier and attestation service may differ a little; a report from further in the
# future than this was not made by an honest attestation service.
CLOCK_SKEW = timedelta(minutes=5)

# IAS isvEnclaveQuoteStatus -> DCAP TCB status. SIGNATURE_INVALID, SIGRL_VERSION_MISMATCH and
# anything unknown have no TCB meaning: such a quote is refused whatever the policy says.
_IAS_STATUS = {
    "OK": UP_TO_DATE,
    "SW_HARDENING_NEEDED": SW_HARDENING_NEEDED,
    "CONFIGURATION_NEEDED": CONFIGURATION_NEEDED,
    "CONFIGURATION_AND_SW_HARDENING_NEEDED": CONFIGURATION_AND_SW_HARDENING_NEEDED,
    "GROUP_OUT_OF_DATE": OUT_OF_DATE,
    "GROUP_REVOKED": REVOKED,
    "KEY_REVOKED": REVOKED,
}


_REFUSED_ADVISORIES_FORMAT = ("[attestation] refused_advisories must list advisory IDs such as "
                              "\"INTEL-SA-00837\"")

_IAS_WORD = {dcap: ias for ias, dcap in _IAS_STATUS.items() if ias != "KEY_REVOKED"}


def ias_status(status: str) -> str:
    """The IAS word for a DCAP TCB status, so Teaclave clients read endorsed reports; else itself.

    OutOfDateConfigurationNeeded has no IAS word; Gaiwan clients read the DCAP word as it is.
    """
    return _IAS_WORD.get(status, status)


# An enclave (QE, TDX module) that is out of date or revoked makes the whole platform so, as in
# Intel's Quote Verification Library: the platform status is "worsened" by the component's.
_WORSENED_BY_OUT_OF_DATE = {
    UP_TO_DATE: OUT_OF_DATE,
    SW_HARDENING_NEEDED: OUT_OF_DATE,
    CONFIGURATION_NEEDED: OUT_OF_DATE_CONFIGURATION_NEEDED,
    CONFIGURATION_AND_SW_HARDENING_NEEDED: OUT_OF_DATE_CONFIGURATION_NEEDED,
}


def merge_statuses(platform: str, component: str) -> str:
    """The platform's TCB status once an enclave it relies on (status UpToDate, OutOfDate or
    Revoked) is taken into account."""
    if component == REVOKED:
        return REVOKED
    if component == OUT_OF_DATE:
        return _WORSENED_BY_OUT_OF_DATE.get(platform, platform)
    return platform


def tcb_status(quote_status: str) -> str:
    """The DCAP TCB status a report's isvEnclaveQuoteStatus means; raises when it means none."""
    if quote_status in TCB_STATUSES:
        return quote_status
    try:
        return _IAS_STATUS[quote_status]
    except KeyError:
        raise AttestationError(f"quote status {quote_status} is not a TCB status") from None


@dataclass(frozen=True)
class Policy:
    """The verifier's acceptance rules; `max_age` None means reports never go stale."""

    accepted_statuses: frozenset[str] = field(default=DEFAULT_ACCEPTED)
    max_age: timedelta | None = DEFAULT_MAX_AGE
    allow_simulated: bool = True
    refused_advisories: frozenset[str] = frozenset()
    # DCAP collateral (TCB info, QE identity) older than this TCB evaluation is refused: after a
    # TCB recovery, collateral issued before it keeps rating affected platforms UpToDate until
    # its nextUpdate, a month later. 0: any.
    min_tcb_evaluation_data_number: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.accepted_statuses) - TCB_STATUSES
        if unknown:
            raise ConfigError(f"unknown TCB status(es) {sorted(unknown)}; known: {sorted(TCB_STATUSES)}")
        refused = list(self.refused_advisories)
        if not all(isinstance(a, str) and a.strip() for a in refused):
            raise ConfigError(_REFUSED_ADVISORIES_FORMAT)
        object.__setattr__(self, "refused_advisories",
                           frozenset(a.strip().upper() for a in refused))
        minimum = self.min_tcb_evaluation_data_number
        if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 0:
            raise ConfigError("[attestation] min_tcb_evaluation_data_number must be a whole "
                              "number, 0 or more")

    def check_status(self, quote_status: str) -> str:
        status = tcb_status(quote_status)
        if status not in self.accepted_statuses:
            raise AttestationError(
                f"TCB status {status} (quote status {quote_status}) is not accepted "
                f"(accepted: {', '.join(sorted(self.accepted_statuses))})")
        return status

    def check_advisories(self, advisory_ids: Iterable[str], what: str) -> None:
        """Refuses `what` (the quote, the report) when it names an advisory the policy refuses."""
        hit = [a for a in advisory_ids if a.upper() in self.refused_advisories]
        if hit:
            raise AttestationError(
                f"{what} is affected by advisor{'ies' if len(hit) > 1 else 'y'} {', '.join(hit)}, "
                f"refused by the policy ([attestation] refused_advisories)")

    def check_age(self, age: timedelta) -> None:
        if age < -CLOCK_SKEW:
            raise AttestationError(f"report is dated {-age.total_seconds():.0f} s in the future")
        if self.max_age is not None and age > self.max_age:
            raise AttestationError(
                f"report is {age.total_seconds():.0f} s old, older than the maximum "
                f"{self.max_age.total_seconds():.0f} s")

    @classmethod
    def from_config(cls, config: Config) -> "Policy":
        """The platform's policy: simulated evidence only in development mode."""
        section = config.section("attestation")
        statuses = section.get("accepted_tcb_statuses", sorted(DEFAULT_ACCEPTED))
        max_age = section.get("report_max_age_s", DEFAULT_MAX_AGE.total_seconds())
        refused = section.get("refused_advisories", [])
        if not isinstance(refused, list) or not all(isinstance(a, str) for a in refused):
            raise ConfigError(_REFUSED_ADVISORIES_FORMAT)
        return cls(frozenset(str(s) for s in statuses),
                   timedelta(seconds=float(max_age)) if max_age else None,
                   allow_simulated=config.development, refused_advisories=frozenset(refused),
                   min_tcb_evaluation_data_number=section.get(
                       "min_tcb_evaluation_data_number", 0))
