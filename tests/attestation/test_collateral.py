"""Tests of DCAP collateral from files and the backend setting: what is needed, and errors."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from gaiwan.attestation.collateral import load_collateral
from gaiwan.attestation.enclave_info import parse
from gaiwan.attestation.verifier import Authority
from gaiwan.config import Config
from gaiwan.errors import AttestationError, ConfigError
from tests.attestation.dcap_builders import NOW, Pki
from tests.attestation.dcap_platform import DcapPlatform, enclave_info_text, sgx_quote
from tests.attestation.helpers import spki, with_backend


@pytest.mark.parametrize("backend", ["gramine-sgx", "tsm"])
def test_dcap_backend_without_collateral_cannot_start(config: Config, backend: str) -> None:
    """No collateral directory with a DCAP backend: ConfigError naming the file and the doc."""
    with pytest.raises(ConfigError, match=r"dcap/intel_root_ca.pem is missing: backend "
                                          rf"{backend} needs Intel's collateral"):
        Authority.load(with_backend(config, backend))


def test_simulated_backend_needs_no_collateral(config: Config) -> None:
    """A development platform on the simulated TEE starts without collateral."""
    assert load_collateral(config) is None
    assert Authority.load(config)


def test_tsm_needs_the_tdx_files_only(config: Config) -> None:
    """The tsm backend needs TDX TCB info and TD QE identity; SGX files may be absent."""
    with_backend(config, "tsm")
    DcapPlatform(config, overrides={"sgx_tcb_info.json": None, "qe_identity.json": None}).write()
    loaded = load_collateral(config)
    assert loaded is not None and not loaded.sgx_tcb_infos and loaded.tdx_tcb_infos
    DcapPlatform(config, overrides={"td_qe_identity.json": None}).write()
    with pytest.raises(ConfigError, match="td_qe_identity.json is missing"):
        load_collateral(config)


@pytest.mark.parametrize(("name", "reason"), [
    ("root_ca.crl", "root_ca.crl is missing"),
    ("tcb_signing_chain.pem", "tcb_signing_chain.pem is missing"),
    ("pck_processor.crl", "pck_processor.crl or .*pck_platform.crl is missing"),
])
def test_each_missing_file_is_named(config: Config, name: str, reason: str) -> None:
    """Every required file that is missing is named in the error."""
    DcapPlatform(with_backend(config, "gramine-sgx"), overrides={name: None}).write()
    with pytest.raises(ConfigError, match=reason):
        Authority.load(config)


def test_half_a_pair_is_refused(config: Config) -> None:
    """TCB info without its QE identity is an incomplete download: refused even if unneeded."""
    DcapPlatform(with_backend(config, "gramine-sgx"), overrides={"td_qe_identity.json": None}).write()
    with pytest.raises(ConfigError, match="td_qe_identity.json is missing while .*tdx_tcb_info"):
        load_collateral(config)


def test_per_fmspc_tcb_info_without_its_qe_identity_is_refused(config: Config) -> None:
    """A TCB info in tdx_tcb_info/ without td_qe_identity.json is half a pair too."""
    pki = Pki()
    DcapPlatform(with_backend(config, "gramine-sgx"), pki, overrides={
        "tdx_tcb_info.json": None, "td_qe_identity.json": None,
        f"tdx_tcb_info/{pki.fmspc.hex()}.json": pki.tdx_tcb_info([(5, 13, 2, "UpToDate")]),
    }).write()
    with pytest.raises(ConfigError, match=r"td_qe_identity.json is missing while "
                                          r".*tdx_tcb_info/00906ed50000.json is there"):
        load_collateral(config)


def test_qe_identity_without_any_tcb_info_is_refused(config: Config) -> None:
    """A QE identity with neither the single TCB info file nor a per-FMSPC one is refused."""
    DcapPlatform(with_backend(config, "gramine-sgx"), overrides={"tdx_tcb_info.json": None}).write()
    with pytest.raises(ConfigError, match=r"tdx_tcb_info.json is missing \(and .*tdx_tcb_info "
                                          r"holds no <fmspc>.json\) while .*td_qe_identity.json"):
        load_collateral(config)
    DcapPlatform(with_backend(config, "gramine-sgx"), overrides={"sgx_tcb_info.json": None}).write()
    with pytest.raises(ConfigError, match=r"DCAP collateral .*sgx_tcb_info.json is missing "
                                          r"\(and .*sgx_tcb_info holds no <fmspc>.json\)$"):
        Authority.load(config)


def test_collateral_lists_the_tcb_info_of_every_fmspc(config: Config) -> None:
    """Single files and per-FMSPC files are all loaded, each under its FMSPC."""
    pki = Pki()
    other = bytes.fromhex("30606a000000")
    DcapPlatform(with_backend(config, "gramine-sgx"), pki, overrides={
        f"sgx_tcb_info/{other.hex()}.json": pki.tcb_info([(5, 13, "UpToDate")], fmspc=other),
    }).write()
    loaded = load_collateral(config)
    assert loaded is not None
    assert sorted(loaded.sgx_tcb_infos.documents) == ["00906ed50000", "30606a000000"]
    assert list(loaded.tdx_tcb_infos.documents) == ["00906ed50000"]


@pytest.mark.parametrize(("name", "reason"), [
    ("intel_root_ca.pem", "intel_root_ca.pem: not a PEM or DER certificate"),
    ("root_ca.crl", "root_ca.crl: root_ca.crl is not a PEM, DER or hex DER CRL"),
    ("tcb_signing_chain.pem", "tcb_signing_chain.pem: the TCB signing chain holds a malformed"),
])
def test_malformed_file_is_named(config: Config, name: str, reason: str) -> None:
    """A file that is not what its name says stops the start, naming it."""
    DcapPlatform(with_backend(config, "gramine-sgx"), overrides={name: b"junk"}).write()
    with pytest.raises(ConfigError, match=reason):
        Authority.load(config)


def test_collateral_dir_is_configurable(config: Config, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`[attestation.dcap] collateral_dir` moves the directory (absolute or home-relative)."""
    config.doc["attestation"]["dcap"] = {"collateral_dir": str(tmp_path / "pcs")}
    DcapPlatform(with_backend(config, "gramine-sgx")).write()
    assert (tmp_path / "pcs" / "intel_root_ca.pem").is_file()
    assert load_collateral(config) is not None


def test_unknown_backend_is_refused(config: Config) -> None:
    """A backend name that is none of the three is a ConfigError."""
    with pytest.raises(ConfigError, match="backend 'sgx' is not one of simulated, gramine-sgx, tsm"):
        Authority.load(with_backend(config, "sgx"))


def test_dcap_evidence_without_collateral_on_simulated_platform(config: Config) -> None:
    """A simulated platform without collateral refuses DCAP evidence with the reason."""
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(AttestationError, match="DCAP evidence cannot be verified: DCAP "
                                               "collateral .*intel_root_ca.pem is missing"):
        Authority.load(config).attest("storage", "sgx-dcap", sgx_quote(Pki(), key), spki(key),
                                      now=NOW)


def test_enclave_info_td_registers_must_be_complete_and_consistent() -> None:
    """TD registers in clear are all five or none, 48 bytes, and hash to mr_enclave."""
    text = enclave_info_text()
    info = parse(text.encode())
    assert "teaclave_frontend_service" in info.td
    with pytest.raises(AttestationError, match="lists mr_td, rtmr0, rtmr1, rtmr2: a TD needs all"):
        parse("\n".join(line for line in text.splitlines() if not line.startswith("rtmr3")).encode())
    with pytest.raises(AttestationError, match=r"mr_enclave is not SHA-256\(mr_td \|\| rtmr0"):
        parse(text.replace("rtmr3 = \"63", "rtmr3 = \"64").encode())
    with pytest.raises(AttestationError, match="TD registers must be 48 bytes"):
        parse(text.replace('mr_td = "', 'mr_td = "00').encode())
