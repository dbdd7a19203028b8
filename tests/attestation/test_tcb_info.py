"""Tests of TCB status from signed TCB info collateral and the PCK certificate's SGX extension."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gaiwan.attestation.dcap_verify import verify_dcap_quote
from gaiwan.attestation.policy import Policy
from gaiwan.attestation.tcb_info import platform_tcb
from gaiwan.errors import AttestationError
from tests.attestation.dcap_builders import FMSPC, NOW, Pki, QuoteParts

LEVELS = [(7, 13, "UpToDate"), (5, 13, "SWHardeningNeeded"), (3, 10, "OutOfDate")]


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki(svns=(5,) * 16, pce_svn=13)


def _status(pki: Pki, tcb_info: bytes, chain: bytes | None = None) -> str:
    verified = verify_dcap_quote(QuoteParts(pki).build(), pki.root_pem, at=NOW, tcb_info=tcb_info,
                                 tcb_info_chain=chain or pki.tcb_chain_pem())
    return verified.tcb_status


def test_platform_tcb_read_from_pck(pki: Pki) -> None:
    """FMSPC, the 16 component SVNs and PCESVN come out of the PCK SGX extension."""
    tcb = platform_tcb(pki.pck)
    assert (tcb.fmspc, tcb.sgx_svns, tcb.pce_svn) == (FMSPC, (5,) * 16, 13)


def test_first_reached_level_gives_status(pki: Pki) -> None:
    """The platform gets the status of the newest level it reaches."""
    assert _status(pki, pki.tcb_info(LEVELS)) == "SWHardeningNeeded"


def test_lower_pcesvn_falls_to_older_level() -> None:
    """A PCESVN below a level's skips it, and an unaccepted status is then refused."""
    low = Pki(svns=(5,) * 16, pce_svn=12)
    with pytest.raises(AttestationError, match="TCB status OutOfDate"):
        _status(low, low.tcb_info(LEVELS))


def test_below_every_level_refused(pki: Pki) -> None:
    """A platform under every listed level is refused."""
    with pytest.raises(AttestationError, match="below every TCB level"):
        _status(pki, pki.tcb_info([(9, 13, "UpToDate")]))


def test_tampered_tcb_info_refused(pki: Pki) -> None:
    """A TCB info changed after signing is refused."""
    info = pki.tcb_info(LEVELS).replace(b"OutOfDate", b"UpToDate!")
    with pytest.raises(AttestationError, match="TCB info signature does not verify"):
        _status(pki, info)


def test_tcb_info_signer_from_another_root_refused(pki: Pki) -> None:
    """A TCB info signed under another root is refused."""
    other = Pki()
    with pytest.raises(AttestationError, match="TCB info issuer chain: .* does not chain to"):
        _status(pki, other.tcb_info(LEVELS), other.tcb_chain_pem())


def test_stale_tcb_info_refused(pki: Pki) -> None:
    """A TCB info past its nextUpdate is refused."""
    with pytest.raises(AttestationError, match="TCB info expired"):
        _status(pki, pki.tcb_info(LEVELS, next_update=NOW - timedelta(days=1)))


def test_other_fmspc_refused(pki: Pki) -> None:
    """A TCB info for another platform family (FMSPC) is refused."""
    with pytest.raises(AttestationError, match="TCB info is for FMSPC"):
        _status(pki, pki.tcb_info(LEVELS, fmspc=bytes(6)))


def test_repeated_tcb_info_key_uses_the_signed_one(pki: Pki) -> None:
    """A second, unsigned tcbInfo appended to the document is not the one evaluated."""
    genuine = pki.tcb_info([(9, 13, "UpToDate")])
    forged = pki.tcb_info([(1, 1, "UpToDate")])
    unsigned = forged[len(b'{"tcbInfo":'):forged.index(b',"signature"')]
    doc = genuine[:-1] + b',"tcbInfo":' + unsigned + b"}"
    with pytest.raises(AttestationError, match="below every TCB level"):
        _status(pki, doc)


def test_matched_level_gives_its_advisories(pki: Pki) -> None:
    """The advisory IDs of the level the platform reaches come out, not those of other levels."""
    info = pki.tcb_info(LEVELS, advisories=[["INTEL-SA-00001"],
                                            ["INTEL-SA-00615", "INTEL-SA-00837"],
                                            ["INTEL-SA-00999"]])
    verified = verify_dcap_quote(QuoteParts(pki).build(), pki.root_pem, at=NOW, tcb_info=info,
                                 tcb_info_chain=pki.tcb_chain_pem())
    assert verified.advisory_ids == ("INTEL-SA-00615", "INTEL-SA-00837")
    up_to_date = verify_dcap_quote(QuoteParts(pki).build(), pki.root_pem, at=NOW,
                                   tcb_info=pki.tcb_info(LEVELS),
                                   tcb_info_chain=pki.tcb_chain_pem())
    assert up_to_date.advisory_ids == ()


def test_refused_advisory_of_the_matched_level_is_refused(pki: Pki) -> None:
    """An accepted status does not save a level whose advisory the policy refuses."""
    info = pki.tcb_info(LEVELS, advisories=[[], ["INTEL-SA-00837"]])
    with pytest.raises(AttestationError, match="the quote's platform is affected by advisory "
                                               "INTEL-SA-00837, refused by the policy"):
        verify_dcap_quote(QuoteParts(pki).build(), pki.root_pem, at=NOW, tcb_info=info,
                          tcb_info_chain=pki.tcb_chain_pem(),
                          policy=Policy(refused_advisories=frozenset({"INTEL-SA-00837"})))


def test_malformed_advisory_ids_are_refused(pki: Pki) -> None:
    """advisoryIDs that are not a list of strings make the level malformed."""
    info = pki.tcb_info(LEVELS, advisories=[[], [837]])  # type: ignore[list-item]
    with pytest.raises(AttestationError, match="TCB info holds a malformed TCB level"):
        _status(pki, info)


def test_tcb_info_for_picks_the_document_of_the_pck_fmspc(pki: Pki) -> None:
    """With `tcb_info_for`, the verifier asks for the TCB info of the PCK certificate's FMSPC."""
    asked: list[bytes] = []

    def pick(fmspc: bytes) -> bytes:
        asked.append(fmspc)
        return pki.tcb_info(LEVELS)

    verified = verify_dcap_quote(QuoteParts(pki).build(), pki.root_pem, at=NOW,
                                 tcb_info_for=pick, tcb_info_chain=pki.tcb_chain_pem())
    assert (asked, verified.tcb_status) == ([FMSPC], "SWHardeningNeeded")
    with pytest.raises(ValueError, match="give tcb_info or tcb_info_for, not both"):
        verify_dcap_quote(QuoteParts(pki).build(), pki.root_pem, at=NOW, tcb_info_for=pick,
                          tcb_info=pki.tcb_info(LEVELS), tcb_info_chain=pki.tcb_chain_pem())
    with pytest.raises(AttestationError, match="given without its issuer chain"):
        verify_dcap_quote(QuoteParts(pki).build(), pki.root_pem, at=NOW, tcb_info_for=pick)
