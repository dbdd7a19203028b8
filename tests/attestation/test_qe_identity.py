"""Tests of the QE identity check in quote verification (beyond the end-to-end refusals)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gaiwan.attestation.dcap import TEE_TDX
from gaiwan.attestation.dcap_verify import VerifiedQuote, verify_dcap_quote
from gaiwan.attestation.policy import Policy
from gaiwan.attestation.signed_json import check_current
from gaiwan.errors import AttestationError
from tests.attestation.dcap_builders import NOW, Pki, QuoteParts, td_report_body


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


def _verify(pki: Pki, identity: bytes, parts: QuoteParts | None = None,
            chain: bytes | None = None, policy: Policy = Policy()) -> VerifiedQuote:
    return verify_dcap_quote((parts or QuoteParts(pki)).build(), pki.root_pem, at=NOW,
                             tcb_status="UpToDate", qe_identity=identity, policy=policy,
                             tcb_info_chain=chain or pki.tcb_chain_pem())


def test_matching_qe_gets_its_level_status(pki: Pki) -> None:
    """The QE's status is that of the highest level its ISVSVN reaches."""
    assert _verify(pki, pki.qe_identity()).qe_tcb_status == "UpToDate"
    loose = Policy(accepted_statuses=frozenset({"UpToDate", "OutOfDate"}))
    verified = _verify(pki, pki.qe_identity(), QuoteParts(pki, qe_isv_svn=7), policy=loose)
    assert (verified.qe_tcb_status, verified.tcb_status) == ("OutOfDate", "OutOfDate")


def test_qe_below_every_level_is_refused(pki: Pki) -> None:
    """A QE older than every listed level is refused."""
    with pytest.raises(AttestationError, match="QE ISVSVN 5 is below every TCB level"):
        _verify(pki, pki.qe_identity(), QuoteParts(pki, qe_isv_svn=5))


def test_identity_for_the_other_qe_is_refused(pki: Pki) -> None:
    """An SGX quote needs the QE identity, a TDX quote the TD_QE identity."""
    with pytest.raises(AttestationError, match="QE identity is for TD_QE, this quote needs QE"):
        _verify(pki, pki.qe_identity(id="TD_QE"))
    tdx = QuoteParts(pki, version=4, tee_type=TEE_TDX, body=td_report_body())
    with pytest.raises(AttestationError, match="QE identity is for QE, this quote needs TD_QE"):
        _verify(pki, pki.qe_identity(), tdx)


def test_expired_identity_is_refused(pki: Pki) -> None:
    """A QE identity past its nextUpdate is refused."""
    with pytest.raises(AttestationError, match="QE identity expired at"):
        _verify(pki, pki.qe_identity(next_update=NOW - timedelta(seconds=1)))


def test_identity_signed_under_another_root_is_refused(pki: Pki) -> None:
    """A QE identity whose issuer chain is not under the root is refused."""
    other = Pki()
    with pytest.raises(AttestationError, match="QE identity issuer chain: .* does not chain to"):
        _verify(pki, other.qe_identity(), chain=other.tcb_chain_pem())


def test_malformed_identity_is_refused(pki: Pki) -> None:
    """A document without the v2 fields, or not JSON, is refused as such."""
    with pytest.raises(AttestationError, match="QE identity is not a signed enclaveIdentity"):
        _verify(pki, b"{}")
    doc = pki._signed("enclaveIdentity", {"id": "QE", "version": 2}, None)
    with pytest.raises(AttestationError, match=r"QE identity is malformed"):
        _verify(pki, doc)


def test_identity_without_chain_is_refused(pki: Pki) -> None:
    """Collateral without its issuer chain cannot be checked: refused."""
    with pytest.raises(AttestationError, match="without its issuer chain"):
        verify_dcap_quote(QuoteParts(pki).build(), pki.root_pem, at=NOW, tcb_status="UpToDate",
                          qe_identity=pki.qe_identity())


def test_qe_level_advisories_come_out_after_the_platforms(pki: Pki) -> None:
    """The advisory IDs of the QE's level join those of the TCB level, each once, in order."""
    loose = Policy(accepted_statuses=frozenset({"UpToDate", "OutOfDate"}))
    identity = pki.qe_identity(advisories=[["INTEL-SA-00001"], ["INTEL-SA-00615",
                                                                "INTEL-SA-00837"]])
    verified = verify_dcap_quote(
        QuoteParts(pki, qe_isv_svn=7).build(), pki.root_pem, at=NOW, policy=loose,
        qe_identity=identity, tcb_info=pki.tcb_info([(5, 13, "UpToDate")],
                                                    advisories=[["INTEL-SA-00837"]]),
        tcb_info_chain=pki.tcb_chain_pem())
    assert verified.advisory_ids == ("INTEL-SA-00837", "INTEL-SA-00615")
    strict = Policy(accepted_statuses=loose.accepted_statuses,
                    refused_advisories=frozenset({"INTEL-SA-00615"}))
    with pytest.raises(AttestationError, match="affected by advisory INTEL-SA-00615"):
        _verify(pki, identity, QuoteParts(pki, qe_isv_svn=7), policy=strict)


def test_malformed_qe_advisory_ids_are_refused(pki: Pki) -> None:
    """advisoryIDs that are not a list of strings make the identity malformed."""
    with pytest.raises(AttestationError, match="QE identity is malformed"):
        _verify(pki, pki.qe_identity(advisories=[["INTEL-SA-00001", ""]]))


def _with_collateral(pki: Pki, policy: Policy, tcb_evaluation: int = 17,
                     qe_evaluation: int = 17) -> VerifiedQuote:
    return verify_dcap_quote(
        QuoteParts(pki).build(), pki.root_pem, at=NOW, policy=policy,
        qe_identity=pki.qe_identity(evaluation=qe_evaluation),
        tcb_info=pki.tcb_info([(5, 13, "UpToDate")], evaluation=tcb_evaluation),
        tcb_info_chain=pki.tcb_chain_pem())


def test_collateral_of_an_older_tcb_evaluation_is_refused(pki: Pki) -> None:
    """With a minimum TCB evaluation (after a TCB recovery), TCB info or QE identity issued for
    an older one is refused, though signed and unexpired; at or above it, both verify."""
    policy = Policy(min_tcb_evaluation_data_number=18)
    with pytest.raises(AttestationError, match="TCB info is of TCB evaluation 17, older than "
                                               "the policy's minimum 18"):
        _with_collateral(pki, policy, tcb_evaluation=17, qe_evaluation=18)
    with pytest.raises(AttestationError, match="QE identity is of TCB evaluation 17"):
        _with_collateral(pki, policy, tcb_evaluation=18, qe_evaluation=17)
    assert _with_collateral(pki, policy, tcb_evaluation=18, qe_evaluation=19).tcb_status \
        == "UpToDate"
    assert _with_collateral(pki, Policy()).tcb_status == "UpToDate"  # 0: any evaluation



def test_collateral_without_an_evaluation_number_is_refused_under_a_minimum() -> None:
    """Collateral that does not say its TCB evaluation cannot show it is recent enough."""
    body = {"issueDate": "2026-01-01T00:00:00Z", "nextUpdate": "2099-01-01T00:00:00Z"}
    check_current(body, "TCB info", NOW)  # no minimum: nothing to show
    with pytest.raises(AttestationError, match="TCB info has no tcbEvaluationDataNumber, and "
                                               "the policy asks for at least 18"):
        check_current(body, "TCB info", NOW, min_evaluation=18)
