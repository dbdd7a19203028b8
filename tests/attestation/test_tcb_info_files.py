"""Tests of TCB info files by FMSPC: what loads, which document a quote gets, and each refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gaiwan.attestation.tcb_info_files import fmspc_of, load_tcb_infos
from gaiwan.errors import AttestationError, ConfigError
from tests.attestation.dcap_builders import FMSPC, Pki

OTHER = bytes.fromhex("30606a000000")
LEVELS = [(5, 13, "UpToDate")]
TDX_LEVELS = [(5, 13, 2, "UpToDate")]
REAL = Path(__file__).resolve().parent / "data" / "tdx_quote_collateral.json"


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


def _put(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_single_file_and_per_fmspc_files_load_by_fmspc(pki: Pki, tmp_path: Path) -> None:
    """The single file and each <fmspc>.json are held under their FMSPC, chosen per quote."""
    single = pki.tcb_info(LEVELS)
    other = pki.tcb_info(LEVELS, fmspc=OTHER)
    _put(tmp_path, f"sgx_tcb_info/{OTHER.hex()}.json", other)
    _put(tmp_path, "sgx_tcb_info/README", b"not collateral, not read")
    infos = load_tcb_infos(tmp_path, "SGX", single)
    assert (infos.for_fmspc(FMSPC), infos.for_fmspc(OTHER)) == (single, other)


def test_directory_alone_is_enough(pki: Pki, tmp_path: Path) -> None:
    """Without the single file, the per-FMSPC files are the TCB info."""
    _put(tmp_path, f"tdx_tcb_info/{FMSPC.hex()}.json", pki.tdx_tcb_info(TDX_LEVELS))
    assert load_tcb_infos(tmp_path, "TDX", None)
    assert not load_tcb_infos(tmp_path, "SGX", None)


def test_unknown_fmspc_is_refused_naming_it(pki: Pki, tmp_path: Path) -> None:
    """A quote of a family without TCB info is refused, naming its FMSPC and the file to add."""
    infos = load_tcb_infos(tmp_path, "SGX", pki.tcb_info(LEVELS))
    with pytest.raises(AttestationError, match=r"no SGX TCB info for FMSPC 30606a000000 in the "
                                               r"DCAP collateral \(it holds 00906ed50000\): add "
                                               r"sgx_tcb_info/30606a000000.json"):
        infos.for_fmspc(OTHER)


def test_file_whose_fmspc_disagrees_with_its_name_is_refused(pki: Pki, tmp_path: Path) -> None:
    """sgx_tcb_info/<a>.json holding the TCB info of <b> stops the load, naming the file."""
    _put(tmp_path, f"sgx_tcb_info/{OTHER.hex()}.json", pki.tcb_info(LEVELS))
    with pytest.raises(ConfigError, match=r"sgx_tcb_info/30606a000000.json holds TCB info for "
                                          r"FMSPC 00906ed50000, not the 30606a000000 its name"):
        load_tcb_infos(tmp_path, "SGX", None)


@pytest.mark.parametrize("name", ["00906ED50000.json", "00906ed5.json", "latest.json"])
def test_file_not_named_by_lower_case_fmspc_is_refused(pki: Pki, tmp_path: Path,
                                                       name: str) -> None:
    """A .json in the directory must be named <12 lower-case hex digits>.json."""
    _put(tmp_path, f"sgx_tcb_info/{name}", pki.tcb_info(LEVELS))
    with pytest.raises(ConfigError, match=rf"sgx_tcb_info/{name}: the file name must be the "
                                          r"FMSPC in lower-case hex"):
        load_tcb_infos(tmp_path, "SGX", None)


def test_two_files_for_one_fmspc_are_refused(pki: Pki, tmp_path: Path) -> None:
    """The single file and a per-FMSPC file for the same FMSPC: which is current is a guess."""
    _put(tmp_path, f"sgx_tcb_info/{FMSPC.hex()}.json", pki.tcb_info(LEVELS))
    with pytest.raises(ConfigError, match=r"sgx_tcb_info.json and .*sgx_tcb_info/00906ed50000."
                                          r"json both hold SGX TCB info for FMSPC 00906ed50000"):
        load_tcb_infos(tmp_path, "SGX", pki.tcb_info(LEVELS))


def test_tcb_info_of_the_other_tee_is_refused(pki: Pki, tmp_path: Path) -> None:
    """TDX TCB info in the SGX directory (or the SGX file) is a misplaced download."""
    _put(tmp_path, f"sgx_tcb_info/{FMSPC.hex()}.json", pki.tdx_tcb_info(TDX_LEVELS))
    with pytest.raises(ConfigError, match=r"sgx_tcb_info/00906ed50000.json: TCB info is for "
                                          r"TDX, not SGX"):
        load_tcb_infos(tmp_path, "SGX", None)
    with pytest.raises(ConfigError, match=r"tdx_tcb_info.json: TCB info is for SGX, not TDX"):
        load_tcb_infos(tmp_path, "TDX", pki.tcb_info(LEVELS))


@pytest.mark.parametrize(("data", "reason"), [
    (b"junk", "TCB info is not a signed tcbInfo JSON document"),
    (b'{"tcbInfo":{"id":"SGX","fmspc":"00906ED5"},"signature":"00"}',
     "TCB info fmspc '00906ED5' is not 12 hex digits"),
    (b'{"tcbInfo":{"id":"SGX"},"signature":"00"}', "TCB info fmspc None is not 12 hex digits"),
])
def test_malformed_tcb_info_is_refused_naming_the_file(tmp_path: Path, data: bytes,
                                                       reason: str) -> None:
    """A file that is not a TCB info document with an FMSPC stops the load, naming it."""
    with pytest.raises(ConfigError, match=rf"sgx_tcb_info.json: {reason}"):
        load_tcb_infos(tmp_path, "SGX", data)


def test_directory_name_taken_by_a_file_is_refused(pki: Pki, tmp_path: Path) -> None:
    """sgx_tcb_info as a plain file (say, a misnamed download) is refused, not ignored."""
    _put(tmp_path, "sgx_tcb_info", pki.tcb_info(LEVELS))
    with pytest.raises(ConfigError, match=r"sgx_tcb_info is not a directory"):
        load_tcb_infos(tmp_path, "SGX", None)


def test_intels_real_tdx_tcb_info_has_the_form_expected() -> None:
    """Intel's own TDX TCB info document passes the load-time form check, under its FMSPC."""
    c = json.loads(REAL.read_text())
    doc = ('{"tcbInfo":%s,"signature":"%s"}' % (c["tcb_info"], c["tcb_info_signature"])).encode()
    assert fmspc_of(Path("tdx_tcb_info/b0c06f000000.json"), doc, "TDX") == "b0c06f000000"
