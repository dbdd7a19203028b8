"""Evidence backends for real TEEs: Gramine's /dev/attestation and Linux configfs-tsm.

Both are file interfaces, so each backend is a short sequence of reads and writes through a
`Files` object; the real one is the operating system, tests pass a fake that lays out a temp
directory like the real tree and answers writes the way the kernel or Gramine does.

Gramine-SGX (Gramine docs, "Attestation and Secret Provisioning", /dev/attestation):
`attestation_type` reads `none`, `epid` or `dcap`; writing 64 bytes to `user_report_data` and then
reading `quote` returns an SGX quote whose REPORTDATA is those bytes; `keys/_sgx_mrenclave` and
`keys/_sgx_mrsigner` read 16-byte sealing keys bound to the enclave or to its signer. The files
are global to the enclave, so a lock keeps one write-read pair at a time within the process.

configfs-tsm (Linux Documentation/ABI/testing/configfs-tsm, since 6.7): `mkdir
/sys/kernel/config/tsm/report/<name>` creates a report; write up to 64 bytes to `inblob`, read
the evidence from `outblob`, the TEE from `provider` (`tdx_guest`, `sev_guest`, ...). `generation`
counts writes to the report's inputs; if it changed between our write and our read, another writer
raced us and the outblob may not be ours: the backend retries, then gives up with that reason.
Each request uses its own report directory, removed afterwards.

Evidence types say what the bytes are (gaiwan.attestation.dcap_evidence): Gramine's dcap quotes
are `sgx-dcap`, its EPID quotes `sgx-epid`; tsm's TDX quotes are `tdx-dcap`, other providers'
evidence `tsm-<provider>`. The attestation service verifies sgx-dcap and tdx-dcap only.
"""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..errors import AttestationError

GRAMINE_ROOT = Path("/dev/attestation")
TSM_ROOT = Path("/sys/kernel/config/tsm/report")
REPORT_DATA_SIZE = 64
TSM_ATTEMPTS = 3
SEALING_POLICIES = ("_sgx_mrenclave", "_sgx_mrsigner")


class Backend(Protocol):
    def quote(self, report_data: bytes) -> "Evidence": ...


class Files(Protocol):
    def read(self, path: Path) -> bytes: ...
    def write(self, path: Path, data: bytes) -> None: ...
    def mkdir(self, path: Path) -> None: ...
    def rmdir(self, path: Path) -> None: ...


class OsFiles:
    """The real file system: unbuffered whole-file reads and writes, as pseudo-files expect."""

    def read(self, path: Path) -> bytes:
        with open(path, "rb", buffering=0) as f:
            return f.read()

    def write(self, path: Path, data: bytes) -> None:
        with open(path, "wb", buffering=0) as f:
            f.write(data)

    def mkdir(self, path: Path) -> None:
        os.mkdir(path)

    def rmdir(self, path: Path) -> None:
        os.rmdir(path)


@dataclass(frozen=True)
class Evidence:
    """What a backend produced: its type (as the attestation service knows it) and the bytes."""

    evidence_type: str
    data: bytes
    provider: str = ""


def _check_report_data(report_data: bytes) -> None:
    if len(report_data) != REPORT_DATA_SIZE:
        raise AttestationError(f"report data must be {REPORT_DATA_SIZE} bytes, not {len(report_data)}")


def gramine_evidence_type(attestation_type: str) -> str:
    return f"sgx-{attestation_type}"


def tsm_evidence_type(provider: str) -> str:
    return "tdx-dcap" if provider == "tdx_guest" else f"tsm-{provider}"


class GramineSgx:
    """Quotes and sealing keys from inside a Gramine-SGX enclave."""

    def __init__(self, root: Path = GRAMINE_ROOT, files: Files | None = None) -> None:
        self._root = root
        self._files = files or OsFiles()
        self._lock = threading.Lock()

    def _read(self, name: str) -> bytes:
        try:
            return self._files.read(self._root / name)
        except FileNotFoundError:
            raise AttestationError(
                f"{self._root / name} does not exist: not running under Gramine-SGX with "
                "remote attestation enabled (sgx.remote_attestation)") from None

    def quote(self, report_data: bytes) -> Evidence:
        _check_report_data(report_data)
        kind = self._read("attestation_type").decode(errors="replace").strip()
        if kind not in ("dcap", "epid"):
            raise AttestationError(f"Gramine attestation type is {kind!r}, not dcap or epid")
        with self._lock:
            self._files.write(self._root / "user_report_data", report_data)
            quote = self._read("quote")
        if not quote:
            raise AttestationError("Gramine returned an empty quote")
        return Evidence(gramine_evidence_type(kind), quote, kind)

    def sealing_key(self, policy: str = "_sgx_mrsigner") -> bytes:
        """The enclave's 16-byte sealing key for `policy` (bound to MRSIGNER by default)."""
        if policy not in SEALING_POLICIES:
            raise AttestationError(f"unknown Gramine sealing policy {policy!r}")
        key = self._read(f"keys/{policy}")
        if len(key) != 16:
            raise AttestationError(f"Gramine sealing key {policy} is {len(key)} bytes, not 16")
        return key


class Tsm:
    """Evidence from the Linux configfs-tsm report interface (TDX, SEV-SNP guests)."""

    def __init__(self, root: Path = TSM_ROOT, files: Files | None = None) -> None:
        self._root = root
        self._files = files or OsFiles()

    def quote(self, report_data: bytes) -> Evidence:
        _check_report_data(report_data)
        if not self._root.is_dir():
            raise AttestationError(f"{self._root} does not exist: no configfs-tsm on this host")
        report = self._root / f"gaiwan-{os.getpid()}-{secrets.token_hex(8)}"
        self._files.mkdir(report)
        try:
            provider = self._files.read(report / "provider").decode().strip()
            for _ in range(TSM_ATTEMPTS):
                self._files.write(report / "inblob", report_data)
                before = self._generation(report)
                outblob = self._files.read(report / "outblob")
                if self._generation(report) == before:
                    if not outblob:
                        raise AttestationError(f"{provider} returned empty evidence")
                    return Evidence(tsm_evidence_type(provider), outblob, provider)
            raise AttestationError(
                f"configfs-tsm generation of {report.name} kept changing: another writer is "
                f"using this report ({TSM_ATTEMPTS} attempts)")
        finally:
            self._files.rmdir(report)

    def _generation(self, report: Path) -> int:
        text = self._files.read(report / "generation").decode().strip()
        try:
            return int(text)
        except ValueError:
            raise AttestationError(f"configfs-tsm generation {text!r} is not a number") from None
