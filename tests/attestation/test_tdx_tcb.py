"""Tests of TDX TCB status: TEE_TCB_SVN against TDX TCB levels, and the TDX module's identity."""

from __future__ import annotations

import pytest

from gaiwan.attestation.dcap import TEE_TDX
from gaiwan.attestation.dcap_verify import verify_dcap_quote
from gaiwan.attestation.policy import Policy, merge_statuses
from gaiwan.errors import AttestationError
from tests.attestation.dcap_builders import NOW, Pki, QuoteParts, td_report_body

LEVELS = [(5, 13, 4, "UpToDate"), (5, 13, 2, "OutOfDate")]
ANY = Policy(accepted_statuses=frozenset({"UpToDate", "OutOfDate", "Revoked"}))


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


def _status(pki: Pki, tcb_info: bytes, tee_tcb_svn: bytes, seam_signer: bytes = bytes(48),
            v15: bool = False) -> str:
    """v15: a TD report 1.5 in a quote v5 (its TEE_TCB_SVN2 differs from TEE_TCB_SVN)."""
    body = td_report_body(tee_tcb_svn=tee_tcb_svn, mr_signer_seam=seam_signer, v15=v15)
    quote = QuoteParts(pki, version=5 if v15 else 4, tee_type=TEE_TDX, body=body).build()
    return verify_dcap_quote(quote, pki.root_pem, at=NOW, tcb_info=tcb_info, policy=ANY,
                             tcb_info_chain=pki.tcb_chain_pem()).tcb_status


def _svn(major: int, value: int, isv: int | None = None) -> bytes:
    return bytes([value if isv is None else isv, major]) + bytes([value] * 14)


def test_tee_tcb_svn_picks_the_level(pki: Pki) -> None:
    """The first level whose TDX components the TD's TEE_TCB_SVN reaches gives the status."""
    info = pki.tdx_tcb_info(LEVELS)
    assert _status(pki, info, _svn(0, 4)) == "UpToDate"
    assert _status(pki, info, _svn(0, 3)) == "OutOfDate"
    with pytest.raises(AttestationError, match="PCK certificate's and TD's TCB is below every"):
        _status(pki, info, _svn(0, 1))


def test_td_1_5_levels_follow_tee_tcb_svn(pki: Pki) -> None:
    """A TD report 1.5 is matched by its TEE_TCB_SVN, as Intel's verifier does, not by
    TEE_TCB_SVN2 (all 0x08 here, which would reach every level)."""
    info = pki.tdx_tcb_info(LEVELS)
    assert _status(pki, info, _svn(0, 4), v15=True) == "UpToDate"
    assert _status(pki, info, _svn(0, 3), v15=True) == "OutOfDate"
    with pytest.raises(AttestationError, match="PCK certificate's and TD's TCB is below every"):
        _status(pki, info, _svn(0, 1), v15=True)


def test_module_signer_must_match(pki: Pki) -> None:
    """A TDX module signed by another MRSIGNERSEAM than the TCB info's is refused."""
    with pytest.raises(AttestationError, match="MRSIGNERSEAM .* is not the tdxModule mrsigner"):
        _status(pki, pki.tdx_tcb_info(LEVELS), _svn(0, 4), seam_signer=b"\x01" * 48)


def test_module_identity_for_major_version(pki: Pki) -> None:
    """Module major version 1 uses identity TDX_01: its level for the module ISVSVN is merged in."""
    identity = {"id": "TDX_01", "mrsigner": "00" * 48, "attributes": "0000000000000000",
                "attributesMask": "FFFFFFFFFFFFFFFF",
                "tcbLevels": [{"tcb": {"isvsvn": 3}, "tcbStatus": "UpToDate"},
                              {"tcb": {"isvsvn": 1}, "tcbStatus": "OutOfDate"}]}
    info = pki.tdx_tcb_info(LEVELS, module_identities=[identity])
    assert _status(pki, info, _svn(1, 4, isv=3)) == "UpToDate"
    assert _status(pki, info, _svn(1, 4, isv=2)) == "OutOfDate"
    with pytest.raises(AttestationError, match="TDX module ISVSVN 0 is below every TCB level"):
        _status(pki, info, _svn(1, 4, isv=0))
    with pytest.raises(AttestationError, match="TCB info has no TDX module identity TDX_02"):
        _status(pki, info, _svn(2, 4))


def test_sgx_tcb_info_for_a_td_is_refused(pki: Pki) -> None:
    """SGX TCB info does not rate a TD, nor TDX TCB info an enclave."""
    with pytest.raises(AttestationError, match="TCB info is for SGX, the quote is TDX"):
        _status(pki, pki.tcb_info([(5, 13, "UpToDate")]), _svn(0, 4))
    with pytest.raises(AttestationError, match="TCB info is for TDX, the quote is SGX"):
        verify_dcap_quote(QuoteParts(pki).build(), pki.root_pem, at=NOW,
                          tcb_info=pki.tdx_tcb_info(LEVELS), tcb_info_chain=pki.tcb_chain_pem())


@pytest.mark.parametrize(("platform", "component", "merged"), [
    ("UpToDate", "UpToDate", "UpToDate"),
    ("UpToDate", "OutOfDate", "OutOfDate"),
    ("SWHardeningNeeded", "OutOfDate", "OutOfDate"),
    ("ConfigurationNeeded", "OutOfDate", "OutOfDateConfigurationNeeded"),
    ("OutOfDate", "Revoked", "Revoked"),
])
def test_component_status_worsens_the_platform(platform: str, component: str,
                                               merged: str) -> None:
    """An out-of-date or revoked QE or TDX module makes the platform so."""
    assert merge_statuses(platform, component) == merged


def test_module_level_advisories_join_the_platform_levels(pki: Pki) -> None:
    """A TDX_01 module level's advisory IDs are added to those of the platform's TCB level."""
    identity = {"id": "TDX_01", "mrsigner": "00" * 48, "attributes": "0000000000000000",
                "attributesMask": "FFFFFFFFFFFFFFFF",
                "tcbLevels": [{"tcb": {"isvsvn": 3}, "tcbStatus": "UpToDate",
                               "advisoryIDs": ["INTEL-SA-00837", "INTEL-SA-01010"]}]}
    info = pki.tdx_tcb_info(LEVELS, module_identities=[identity],
                            advisories=[["INTEL-SA-00837"]])
    body = td_report_body(tee_tcb_svn=_svn(1, 4, isv=3))
    quote = QuoteParts(pki, version=4, tee_type=TEE_TDX, body=body).build()
    verified = verify_dcap_quote(quote, pki.root_pem, at=NOW, tcb_info=info, policy=ANY,
                                 tcb_info_chain=pki.tcb_chain_pem())
    assert verified.advisory_ids == ("INTEL-SA-00837", "INTEL-SA-01010")
    identity["tcbLevels"][0]["advisoryIDs"] = "INTEL-SA-01010"  # type: ignore[index]
    with pytest.raises(AttestationError, match="TDX module identity TDX_01 is malformed"):
        _status(pki, pki.tdx_tcb_info(LEVELS, module_identities=[identity]), _svn(1, 4, isv=3))
