"""Tests of the Gramine-SGX and configfs-tsm backends against fakes of their file interfaces."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from gaiwan.attestation.backends import GramineSgx, OsFiles, Tsm
from gaiwan.errors import AttestationError

DATA = bytes(range(64))


class FakeGramine(OsFiles):
    """/dev/attestation in a temp dir: `quote` follows the last `user_report_data` written."""

    def __init__(self, root: Path, kind: bytes = b"dcap") -> None:
        (root / "keys").mkdir(parents=True)
        (root / "attestation_type").write_bytes(kind)
        (root / "keys" / "_sgx_mrsigner").write_bytes(b"S" * 16)
        (root / "keys" / "_sgx_mrenclave").write_bytes(b"E" * 16)

    def write(self, path: Path, data: bytes) -> None:
        super().write(path, data)
        if path.name == "user_report_data":
            super().write(path.with_name("quote"), b"QUOTE:" + data)


class FakeTsm(OsFiles):
    """configfs-tsm in a temp dir: mkdir populates a report, inblob writes bump `generation`."""

    def __init__(self, provider: bytes = b"tdx_guest", racer: bool = False) -> None:
        self.provider = provider
        self.racer = racer  # another writer writes inblob whenever we read outblob
        self.lock = threading.Lock()

    def mkdir(self, path: Path) -> None:
        super().mkdir(path)
        for name, value in (("provider", self.provider), ("generation", b"0\n"),
                            ("inblob", b""), ("outblob", b"")):
            (path / name).write_bytes(value)

    def write(self, path: Path, data: bytes) -> None:
        with self.lock:
            super().write(path, data)
            if path.name == "inblob":
                generation = int((path.parent / "generation").read_bytes()) + 1
                super().write(path.parent / "generation", f"{generation}\n".encode())
                super().write(path.parent / "outblob", b"TDQUOTE:" + data)

    def read(self, path: Path) -> bytes:
        data = super().read(path)
        if self.racer and path.name == "outblob":
            self.write(path.parent / "inblob", b"\xff" * 64)
        return data

    def rmdir(self, path: Path) -> None:
        shutil.rmtree(path)


def test_gramine_quote_binds_report_data(tmp_path: Path) -> None:
    """Writing user_report_data then reading quote yields the quote for those bytes."""
    backend = GramineSgx(tmp_path, FakeGramine(tmp_path))
    evidence = backend.quote(DATA)
    assert evidence.data == b"QUOTE:" + DATA and evidence.provider == "dcap"
    assert evidence.evidence_type == "sgx-dcap"
    epid = GramineSgx(tmp_path / "epid", FakeGramine(tmp_path / "epid", b"epid")).quote(DATA)
    assert epid.evidence_type == "sgx-epid"


def test_gramine_sealing_keys(tmp_path: Path) -> None:
    """Sealing keys come from keys/_sgx_mrsigner (default) or keys/_sgx_mrenclave."""
    backend = GramineSgx(tmp_path, FakeGramine(tmp_path))
    assert backend.sealing_key() == b"S" * 16
    assert backend.sealing_key("_sgx_mrenclave") == b"E" * 16
    with pytest.raises(AttestationError, match="unknown Gramine sealing policy"):
        backend.sealing_key("other")


def test_gramine_refuses_without_remote_attestation(tmp_path: Path) -> None:
    """attestation_type none, or no /dev/attestation at all, is refused with the reason."""
    with pytest.raises(AttestationError, match="type is 'none'"):
        GramineSgx(tmp_path, FakeGramine(tmp_path, b"none")).quote(DATA)
    with pytest.raises(AttestationError, match="not running under Gramine-SGX"):
        GramineSgx(tmp_path / "absent").quote(DATA)
    with pytest.raises(AttestationError, match="must be 64 bytes"):
        GramineSgx(tmp_path).quote(b"short")


def test_gramine_concurrent_quotes_stay_paired(tmp_path: Path) -> None:
    """Threads asking at once each get the quote of their own report data."""
    backend = GramineSgx(tmp_path, FakeGramine(tmp_path))
    results: dict[int, bytes] = {}

    def ask(i: int) -> None:
        results[i] = backend.quote(bytes([i]) * 64).data

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[i] == b"QUOTE:" + bytes([i]) * 64 for i in range(16))


def test_tsm_report_per_request(tmp_path: Path) -> None:
    """Each request makes its own report directory, reads outblob and provider, then removes it."""
    evidence = Tsm(tmp_path, FakeTsm()).quote(DATA)
    assert evidence.data == b"TDQUOTE:" + DATA and evidence.provider == "tdx_guest"
    assert evidence.evidence_type == "tdx-dcap"
    assert list(tmp_path.iterdir()) == []


def test_tsm_other_provider_is_typed_by_provider(tmp_path: Path) -> None:
    """Evidence of a non-TDX provider is not called tdx-dcap, so the service refuses it by type."""
    evidence = Tsm(tmp_path, FakeTsm(provider=b"sev_guest")).quote(DATA)
    assert evidence.evidence_type == "tsm-sev_guest"


def test_tsm_concurrent_writer_is_detected(tmp_path: Path) -> None:
    """A writer changing generation under us makes the backend refuse rather than return its quote."""
    with pytest.raises(AttestationError, match="generation of gaiwan-.* kept changing"):
        Tsm(tmp_path, FakeTsm(racer=True)).quote(DATA)
    assert list(tmp_path.iterdir()) == []


def test_tsm_absent(tmp_path: Path) -> None:
    """No configfs-tsm: refused with the reason."""
    with pytest.raises(AttestationError, match="no configfs-tsm on this host"):
        Tsm(tmp_path / "absent").quote(DATA)
