"""Authority.attest end to end on DCAP evidence: synthetic SGX and TDX quotes, files of collateral,
a signed enclave_info; acceptance, then each refusal by its reason."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from gaiwan.attestation.mesh import measurement_of
from gaiwan.attestation.report import parse_report
from gaiwan.attestation.verifier import Authority, Endorsed
from gaiwan.config import Config
from gaiwan.errors import AttestationError, ConfigError
from tests.attestation.dcap_builders import NOW, Pki
from tests.attestation.dcap_platform import (
    MR_ENCLAVE,
    RTMRS,
    DcapPlatform,
    enclave_info_text,
    sgx_quote,
    td_digests,
    tdx_quote,
    write_enclave_info,
)
from tests.attestation.helpers import spki, with_backend


@pytest.fixture
def platform(config: Config) -> DcapPlatform:
    with_backend(config)
    write_enclave_info(config, enclave_info_text())
    return DcapPlatform(config).write()


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _attest(platform: DcapPlatform, evidence_type: str, evidence: bytes,
            key: ec.EllipticCurvePrivateKey, service: str | None = None,
            config: Config | None = None) -> Endorsed:
    service = service or ("frontend" if evidence_type == "tdx-dcap" else "storage")
    return Authority.load(config or platform.config).attest(service, evidence_type, evidence,
                                                           spki(key), now=NOW)


def _report(endorsed: Endorsed) -> dict[str, object]:
    return json.loads(endorsed.endorsement.report)


@pytest.mark.parametrize("version", [3, 4, 5])
def test_sgx_quote_is_endorsed(platform: DcapPlatform, version: int) -> None:
    """A genuine SGX quote of the listed enclave gets a report with its status and measurement."""
    key = _key()
    endorsed = _attest(platform, "sgx-dcap", sgx_quote(platform.pki, key, version=version), key)
    report = _report(endorsed)
    assert (report["gaiwanEvidenceType"], report["isvEnclaveQuoteStatus"]) == ("sgx-dcap", "OK")
    claims = parse_report(endorsed.endorsement.report)
    assert claims.quote.mr_enclave == MR_ENCLAVE and claims.tcb_status == "UpToDate"
    mesh = x509.load_pem_x509_certificate(endorsed.mesh_cert_pem)
    assert measurement_of(mesh) == MR_ENCLAVE.hex()


def test_tdx_quote_is_endorsed_under_its_td_digests(platform: DcapPlatform) -> None:
    """A TDX quote of the listed TD is reported under SHA-256(MRTD||RTMRs) as mr_enclave."""
    key = _key()
    endorsed = _attest(platform, "tdx-dcap", tdx_quote(platform.pki, key), key)
    claims = parse_report(endorsed.endorsement.report)
    assert (claims.quote.mr_enclave, claims.quote.mr_signer) == td_digests()
    assert claims.evidence_type == "tdx-dcap" and claims.quote_status == "OK"


def test_td_1_5_quote_v5_is_endorsed_and_a_bound_service_td_refused(
        platform: DcapPlatform) -> None:
    """A TDX 1.5 quote (v5, TD report 1.5) of the listed TD is endorsed like a v4 one; the same TD
    bound to a service TD (MRSERVICETD not zero, e.g. a migration TD) is refused."""
    key = _key()
    endorsed = _attest(platform, "tdx-dcap", tdx_quote(platform.pki, key, mr_service_td=bytes(48)),
                       key)
    quote = parse_report(endorsed.endorsement.report).quote
    assert (quote.mr_enclave, quote.mr_signer) == td_digests()
    _refused(platform, "bound to a service TD", "tdx-dcap",
             tdx_quote(platform.pki, key, mr_service_td=b"\x66" * 48), key)


def test_td_listed_by_digest_only_is_accepted(platform: DcapPlatform) -> None:
    """A table with only mr_enclave/mr_signer (no registers in clear) admits the TD too."""
    write_enclave_info(platform.config, enclave_info_text(td_in_clear=False))
    key = _key()
    assert _attest(platform, "tdx-dcap", tdx_quote(platform.pki, key), key)


def test_verified_status_goes_into_the_report(platform: DcapPlatform) -> None:
    """An accepted SWHardeningNeeded platform is reported as such (in the IAS word)."""
    platform.overrides[
        "sgx_tcb_info.json"] = platform.pki.tcb_info([(6, 13, "UpToDate"),
                                                      (5, 13, "SWHardeningNeeded")])
    platform.write()
    key = _key()
    endorsed = _attest(platform, "sgx-dcap", sgx_quote(platform.pki, key), key)
    assert _report(endorsed)["isvEnclaveQuoteStatus"] == "SW_HARDENING_NEEDED"
    assert parse_report(endorsed.endorsement.report).tcb_status == "SWHardeningNeeded"


def _refused(platform: DcapPlatform, reason: str, evidence_type: str = "sgx-dcap",
             evidence: bytes | None = None, key: ec.EllipticCurvePrivateKey | None = None,
             **kwargs: object) -> None:
    key = key or _key()
    if evidence is None:
        evidence = (tdx_quote(platform.pki, key) if evidence_type == "tdx-dcap"
                    else sgx_quote(platform.pki, key))
    with pytest.raises(AttestationError, match=reason):
        _attest(platform, evidence_type, evidence, key, **kwargs)  # type: ignore[arg-type]


def test_revoked_pck_certificate_is_refused(platform: DcapPlatform) -> None:
    """A PCK certificate on the PCK CA's CRL is refused, naming it."""
    platform.overrides["pck_processor.crl"] = platform.pki.crl("ca", revoked=(platform.pki.pck,))
    platform.write()
    _refused(platform, r"PCK certificate chain: certificate CN=Test SGX PCK Certificate "
                       r"\(serial [0-9a-f]+\) is revoked by CN=Test SGX PCK Platform CA")


def test_revoked_tcb_signer_is_refused(platform: DcapPlatform) -> None:
    """A TCB signing certificate on the root CA CRL is refused, naming it."""
    platform.overrides["root_ca.crl"] = platform.pki.crl("root", revoked=(platform.pki.tcb_signer,))
    platform.write()
    _refused(platform, "TCB signing chain: certificate CN=Test SGX TCB Signing .* is revoked")


def test_expired_crl_is_refused(platform: DcapPlatform) -> None:
    """A CRL past its nextUpdate tells nothing about today: refused."""
    platform.overrides["pck_processor.crl"] = platform.pki.crl(
        "ca", next_update=NOW - timedelta(hours=1), this_update=NOW - timedelta(days=3))
    platform.write()
    _refused(platform, "CRL of CN=Test SGX PCK Platform CA expired at")


def test_crl_signed_by_another_key_is_refused(platform: DcapPlatform) -> None:
    """A CRL naming the root as issuer but signed by another key is refused."""
    platform.overrides["root_ca.crl"] = platform.pki.crl("root", signer=_key())
    platform.write()
    _refused(platform, "CRL of CN=Test SGX Root CA does not verify with that CA's key")


@pytest.mark.parametrize(("parts", "reason"), [
    ({"qe_mr_signer": b"\x77" * 32}, "QE MRSIGNER 7777.* is not the QE identity mrsigner"),
    ({"qe_isv_prod_id": 2}, "QE ISVPRODID 2 is not the QE identity isvprodid 1"),
    ({"qe_attributes": bytes.fromhex("13" + "00" * 15)},  # DEBUG set
     "QE ATTRIBUTES 13.* under mask do not match the QE identity"),
])
def test_qe_not_matching_its_identity_is_refused(platform: DcapPlatform, parts: dict[str, object],
                                                 reason: str) -> None:
    """A quote whose QE is not Intel's QE (signer, product, attributes) is refused."""
    key = _key()
    _refused(platform, reason, evidence=sgx_quote(platform.pki, key, **parts), key=key)


def test_out_of_date_qe_is_refused_unless_accepted(platform: DcapPlatform) -> None:
    """An OutOfDate QE is refused by the default policy, and makes the platform OutOfDate."""
    key = _key()
    evidence = sgx_quote(platform.pki, key, qe_isv_svn=6)
    _refused(platform, r"QE TCB status OutOfDate \(QE ISVSVN 6\) is not accepted",
             evidence=evidence, key=key)
    platform.config.doc["attestation"]["accepted_tcb_statuses"] = ["UpToDate", "OutOfDate"]
    endorsed = _attest(platform, "sgx-dcap", evidence, key)
    assert _report(endorsed)["isvEnclaveQuoteStatus"] == "GROUP_OUT_OF_DATE"


def test_qe_identity_with_bad_signature_is_refused(platform: DcapPlatform) -> None:
    """A QE identity changed after signing is refused."""
    doc = platform.pki.qe_identity().replace(b'"isvprodid":1', b'"isvprodid":2')
    platform.overrides["qe_identity.json"] = doc
    platform.write()
    _refused(platform, "QE identity signature does not verify")


def test_qe_identity_signed_by_another_key_is_refused(platform: DcapPlatform) -> None:
    """A QE identity not signed by the TCB signing key is refused."""
    platform.overrides["qe_identity.json"] = platform.pki.qe_identity(signer=_key())
    platform.write()
    _refused(platform, "QE identity signature does not verify")


def test_td_measurement_not_in_enclave_info_is_refused(platform: DcapPlatform) -> None:
    """A TD with another MRTD or RTMR is refused, naming the register."""
    key = _key()
    _refused(platform, "MRTD " + "45" * 48 + " of frontend is not the one in enclave_info",
             "tdx-dcap", tdx_quote(platform.pki, key, mr_td=b"\x45" * 48), key)
    key = _key()
    rtmrs = (*RTMRS[:3], b"\x99" * 48)
    _refused(platform, "RTMR3 " + "99" * 48 + " of frontend is not the one in enclave_info",
             "tdx-dcap", tdx_quote(platform.pki, key, rtmrs=rtmrs), key)


def test_td_listed_by_digest_only_refuses_other_registers(platform: DcapPlatform) -> None:
    """Without registers in clear, a different TD fails on the mr_enclave digest."""
    write_enclave_info(platform.config, enclave_info_text(td_in_clear=False))
    key = _key()
    _refused(platform, "mr_enclave .* of frontend is not the one in enclave_info", "tdx-dcap",
             tdx_quote(platform.pki, key, rtmrs=(*RTMRS[:3], b"\x99" * 48)), key)


def test_sgx_measurement_not_in_enclave_info_is_refused(platform: DcapPlatform) -> None:
    """An SGX quote of an unlisted enclave is refused."""
    key = _key()
    _refused(platform, "mr_enclave " + "12" * 32 + " of storage is not the one",
             evidence=sgx_quote(platform.pki, key, mr_enclave=b"\x12" * 32), key=key)


@pytest.mark.parametrize("evidence_type", ["sgx-dcap", "tdx-dcap"])
def test_report_data_not_binding_the_key_is_refused(platform: DcapPlatform,
                                                    evidence_type: str) -> None:
    """A genuine quote over one key does not certify another."""
    key = _key()
    evidence = (tdx_quote(platform.pki, key) if evidence_type == "tdx-dcap"
                else sgx_quote(platform.pki, key))
    _refused(platform, "REPORTDATA of the quote is not the public key to certify", evidence_type,
             evidence, _key())


def test_unknown_evidence_type_is_refused(platform: DcapPlatform) -> None:
    """Types the service cannot verify (EPID, SEV-SNP via tsm) are refused by name."""
    _refused(platform, "unknown evidence type 'sgx-epid'", "sgx-epid", b"quote")
    _refused(platform, "unknown evidence type 'tsm-sev_guest'", "tsm-sev_guest", b"report")


def test_quote_of_the_other_tee_is_refused(platform: DcapPlatform) -> None:
    """A TDX quote sent as sgx-dcap (or the reverse) is refused, so the stamped type is true."""
    key = _key()
    _refused(platform, "evidence of type sgx-dcap holds a TDX quote", "sgx-dcap",
             tdx_quote(platform.pki, key), key)
    _refused(platform, "evidence of type tdx-dcap holds an SGX quote", "tdx-dcap",
             sgx_quote(platform.pki, key), key)


def test_quote_from_another_pki_is_refused(platform: DcapPlatform) -> None:
    """A quote whose PCK chain is not Intel's (here: the test root's) is refused."""
    key = _key()
    _refused(platform, "PCK certificate chain: .* does not chain to",
             evidence=sgx_quote(Pki(), key), key=key)


def test_debug_enclave_refused_in_production(platform: DcapPlatform) -> None:
    """A debug enclave or TD is accepted in development only."""
    key = _key()
    debug_sgx = sgx_quote(platform.pki, key, attributes=bytes([0x02]) + bytes(15))
    assert _attest(platform, "sgx-dcap", debug_sgx, key)
    prod = replace(platform.config, doc={**platform.config.doc, "platform": {"mode": "production"}})
    with pytest.raises(AttestationError, match="from a debug enclave, refused in production mode"):
        _attest(platform, "sgx-dcap", debug_sgx, key, config=prod)
    td_key = _key()
    debug_td = tdx_quote(platform.pki, td_key, td_attributes=b"\x01" + bytes(7))
    with pytest.raises(AttestationError, match="from a debug TD, refused in production mode"):
        _attest(platform, "tdx-dcap", debug_td, td_key, config=prod)


def test_production_accepts_dcap_and_still_refuses_simulated(platform: DcapPlatform) -> None:
    """Production mode takes real quotes and refuses simulated evidence as before."""
    prod = replace(platform.config, doc={**platform.config.doc, "platform": {"mode": "production"}})
    key = _key()
    endorsed = _attest(platform, "sgx-dcap", sgx_quote(platform.pki, key), key, config=prod)
    assert _report(endorsed)["gaiwanMode"] == "production"
    with pytest.raises(AttestationError, match="simulated evidence is refused in production"):
        _attest(platform, "simulated", b"x" * 500, key, config=prod)


def test_missing_collateral_stops_the_authority(platform: DcapPlatform) -> None:
    """With a DCAP backend, missing collateral is a ConfigError at start, naming the file."""
    platform.overrides["qe_identity.json"] = None
    platform.write()
    with pytest.raises(ConfigError, match=r"DCAP collateral .*dcap/qe_identity.json is missing"):
        Authority.load(platform.config)


def test_collateral_removed_later_refuses_dcap(platform: DcapPlatform) -> None:
    """Collateral gone after start refuses DCAP evidence with the reason (re-read per request)."""
    authority = Authority.load(platform.config)
    (platform.config.home.root / "dcap" / "root_ca.crl").unlink()
    key = _key()
    with pytest.raises(AttestationError, match="DCAP evidence cannot be verified: DCAP "
                                               "collateral .*root_ca.crl is missing"):
        authority.attest("storage", "sgx-dcap", sgx_quote(platform.pki, key), spki(key), now=NOW)


def test_report_body_is_the_quote_body(platform: DcapPlatform) -> None:
    """The report's isvEnclaveQuoteBody holds the enclave's REPORTDATA: the bound key."""
    key = _key()
    endorsed = _attest(platform, "sgx-dcap", sgx_quote(platform.pki, key), key)
    body = base64.b64decode(str(_report(endorsed)["isvEnclaveQuoteBody"]))
    assert body[368:432] == parse_report(endorsed.endorsement.report).quote.report_data


OTHER_FMSPC = bytes.fromhex("30606a000000")


def test_each_fmspc_is_verified_against_its_own_tcb_info(platform: DcapPlatform) -> None:
    """Two CPU families in one directory: each quote gets the status of its own FMSPC's levels."""
    other = platform.pki.other_platform(OTHER_FMSPC)
    platform.overrides.update({
        f"sgx_tcb_info/{OTHER_FMSPC.hex()}.json": other.tcb_info([(5, 13, "SWHardeningNeeded")]),
        f"tdx_tcb_info/{OTHER_FMSPC.hex()}.json": other.tdx_tcb_info(
            [(5, 13, 2, "SWHardeningNeeded")]),
    })
    platform.write()
    statuses = {}
    for pki in (platform.pki, other):
        for evidence_type, make in (("sgx-dcap", sgx_quote), ("tdx-dcap", tdx_quote)):
            key = _key()
            endorsed = _attest(platform, evidence_type, make(pki, key), key)
            statuses[pki.fmspc.hex(), evidence_type] = _report(endorsed)["isvEnclaveQuoteStatus"]
    assert statuses == {("00906ed50000", "sgx-dcap"): "OK", ("00906ed50000", "tdx-dcap"): "OK",
                        ("30606a000000", "sgx-dcap"): "SW_HARDENING_NEEDED",
                        ("30606a000000", "tdx-dcap"): "SW_HARDENING_NEEDED"}


def test_per_fmspc_files_alone_serve_a_platform(platform: DcapPlatform) -> None:
    """Without sgx_tcb_info.json, sgx_tcb_info/<fmspc>.json is enough to start and verify."""
    platform.overrides.update({"sgx_tcb_info.json": None,
                               f"sgx_tcb_info/{platform.pki.fmspc.hex()}.json":
                                   platform.pki.tcb_info([(5, 13, "UpToDate")])})
    platform.write()
    key = _key()
    assert _report(_attest(platform, "sgx-dcap", sgx_quote(platform.pki, key), key))


def test_quote_of_an_fmspc_without_tcb_info_is_refused(platform: DcapPlatform) -> None:
    """A quote of a CPU family the collateral does not cover is refused, naming its FMSPC."""
    stranger = platform.pki.other_platform(bytes.fromhex("50806F000000"))
    key = _key()
    _refused(platform, r"no SGX TCB info for FMSPC 50806f000000 in the DCAP collateral",
             evidence=sgx_quote(stranger, key), key=key)
    key = _key()
    _refused(platform, r"no TDX TCB info for FMSPC 50806f000000 in the DCAP collateral",
             "tdx-dcap", tdx_quote(stranger, key), key)


def test_tcb_info_misnamed_for_its_fmspc_stops_the_authority(platform: DcapPlatform) -> None:
    """sgx_tcb_info/<fmspc>.json holding another FMSPC's TCB info is a ConfigError at load."""
    platform.overrides[f"sgx_tcb_info/{OTHER_FMSPC.hex()}.json"] = platform.pki.tcb_info(
        [(5, 13, "UpToDate")], fmspc=bytes.fromhex("00906ED50001"))
    platform.write()
    with pytest.raises(ConfigError, match=r"DCAP collateral .*dcap/sgx_tcb_info/30606a000000.json "
                                          r"holds TCB info for FMSPC 00906ed50001, not the "
                                          r"30606a000000 its name says"):
        Authority.load(platform.config)


def _with_advisories(platform: DcapPlatform) -> None:
    platform.overrides.update({
        "sgx_tcb_info.json": platform.pki.tcb_info(
            [(6, 13, "UpToDate"), (5, 13, "SWHardeningNeeded")],
            advisories=[[], ["INTEL-SA-00615", "INTEL-SA-00837"]]),
        "qe_identity.json": platform.pki.qe_identity(advisories=[["INTEL-SA-00767"]]),
    })
    platform.write()


def test_advisories_of_the_accepted_level_are_in_the_report(platform: DcapPlatform) -> None:
    """The TCB level's and the QE level's advisory IDs go into the endorsed report, IAS style."""
    _with_advisories(platform)
    key = _key()
    endorsed = _attest(platform, "sgx-dcap", sgx_quote(platform.pki, key), key)
    report = _report(endorsed)
    assert report["isvEnclaveQuoteStatus"] == "SW_HARDENING_NEEDED"
    assert report["advisoryIDs"] == ["INTEL-SA-00615", "INTEL-SA-00837", "INTEL-SA-00767"]
    assert report["advisoryURL"] == "https://security-center.intel.com"
    assert parse_report(endorsed.endorsement.report).advisory_ids == (
        "INTEL-SA-00615", "INTEL-SA-00837", "INTEL-SA-00767")


def test_report_without_advisories_has_no_advisory_keys(platform: DcapPlatform) -> None:
    """An UpToDate level without advisories leaves the report as Teaclave's v4 layout was."""
    key = _key()
    report = _report(_attest(platform, "tdx-dcap", tdx_quote(platform.pki, key), key))
    assert "advisoryIDs" not in report and "advisoryURL" not in report


def test_quote_affected_by_a_refused_advisory_is_refused(platform: DcapPlatform) -> None:
    """`[attestation] refused_advisories` refuses an accepted status naming a listed advisory."""
    _with_advisories(platform)
    platform.config.doc["attestation"]["refused_advisories"] = ["INTEL-SA-00837"]
    _refused(platform, r"the quote's platform is affected by advisory INTEL-SA-00837, refused "
                       r"by the policy \(\[attestation\] refused_advisories\)")
    platform.config.doc["attestation"]["refused_advisories"] = ["INTEL-SA-00767"]  # the QE's
    _refused(platform, "the quote's platform is affected by advisory INTEL-SA-00767")
    platform.config.doc["attestation"]["refused_advisories"] = ["INTEL-SA-00161"]  # not listed
    key = _key()
    assert _attest(platform, "sgx-dcap", sgx_quote(platform.pki, key), key)
