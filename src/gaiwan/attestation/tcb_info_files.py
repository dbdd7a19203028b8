"""TCB info files by FMSPC: which of Intel's TCB info documents applies to a quote.

Intel issues one TCB info per FMSPC (the platform family the PCK certificate names), so a fleet
mixing CPU families needs several. Besides the single `sgx_tcb_info.json` / `tdx_tcb_info.json`
of a one-family platform, the collateral directory may hold `sgx_tcb_info/<fmspc>.json` and
`tdx_tcb_info/<fmspc>.json`, the FMSPC in lower-case hex as Intel's PCS `tcb?fmspc=` query
takes it, so that adding a family is adding a file named after it.

Each quote gets the document of its PCK certificate's FMSPC. Choosing is a lookup, not a trust
decision: gaiwan.attestation.tcb_info still checks the signed fmspc against the certificate.
At load only the form is checked (a `tcbInfo` JSON document of the right TEE whose fmspc is 12
hex digits and, in the directories, its file name), so that a misplaced or misnamed download
stops the start naming the file instead of refusing quotes later; signatures and dates are
checked per quote, at its time. Two files for one FMSPC are refused: which of them is current
would be a guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import AttestationError, ConfigError
from .signed_json import signed_body

_FMSPC = re.compile(r"[0-9a-fA-F]{12}")
_FILE_NAME = re.compile(r"[0-9a-f]{12}\.json")


def single_name(kind: str) -> str:
    """The one-family file of a TEE kind ("SGX", "TDX"): sgx_tcb_info.json, tdx_tcb_info.json."""
    return f"{kind.lower()}_tcb_info.json"


def directory_name(kind: str) -> str:
    """The per-FMSPC directory of a TEE kind: sgx_tcb_info, tdx_tcb_info."""
    return f"{kind.lower()}_tcb_info"


@dataclass(frozen=True)
class TcbInfos:
    """One TEE kind's TCB info documents by FMSPC (lower-case hex), with the file of each."""

    kind: str
    documents: Mapping[str, tuple[Path, bytes]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.documents)

    @property
    def files(self) -> list[Path]:
        return [path for path, _ in self.documents.values()]

    def for_fmspc(self, fmspc: bytes) -> bytes:
        """The document for a PCK certificate's FMSPC; AttestationError naming it when none."""
        key = fmspc.hex()
        if key not in self.documents:
            held = ", ".join(sorted(self.documents)) or "none"
            raise AttestationError(
                f"no {self.kind} TCB info for FMSPC {key} in the DCAP collateral (it holds "
                f"{held}): add {directory_name(self.kind)}/{key}.json")
        return self.documents[key][1]


def fmspc_of(path: Path, data: bytes, kind: str) -> str:
    """The FMSPC (lower-case hex) a TCB info document is for; ConfigError naming `path` when
    it is not a TCB info document of `kind`."""
    try:
        body, _, _ = signed_body(data, "tcbInfo", "TCB info")
    except AttestationError as exc:
        raise ConfigError(f"DCAP collateral {path}: {exc.message}") from None
    found = str(body.get("id", "SGX"))  # TCB info v2 has no id and is SGX's
    if found != kind:
        raise ConfigError(f"DCAP collateral {path}: TCB info is for {found}, not {kind}")
    fmspc = body.get("fmspc")
    if not isinstance(fmspc, str) or not _FMSPC.fullmatch(fmspc):
        raise ConfigError(f"DCAP collateral {path}: TCB info fmspc {fmspc!r} is not 12 hex digits")
    return fmspc.lower()


def _listed(folder: Path) -> list[Path]:
    """The `<fmspc>.json` files of a per-FMSPC directory (none when it does not exist)."""
    if not folder.exists():
        return []
    if not folder.is_dir():
        raise ConfigError(f"DCAP collateral {folder} is not a directory")
    try:
        paths = sorted(p for p in folder.iterdir() if p.name.endswith(".json"))
    except OSError as exc:
        raise ConfigError(f"DCAP collateral {folder} cannot be listed: {exc.strerror}") from None
    for path in paths:
        if not _FILE_NAME.fullmatch(path.name):
            raise ConfigError(
                f"DCAP collateral {path}: the file name must be the FMSPC in lower-case hex "
                f"(12 digits) and .json")
    return paths


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"DCAP collateral {path} cannot be read: {exc.strerror}") from None


def load_tcb_infos(directory: Path, kind: str, single: bytes | None) -> TcbInfos:
    """The `kind` TCB info of the collateral `directory`, checked for form: the single file
    (given as read, None when absent) and those of the per-FMSPC directory."""
    documents: dict[str, tuple[Path, bytes]] = {}
    candidates = [(directory / single_name(kind), single, None)] if single is not None else []
    candidates += [(path, _read(path), path.name.removesuffix(".json"))
                   for path in _listed(directory / directory_name(kind))]
    for path, data, named in candidates:
        fmspc = fmspc_of(path, data, kind)
        if named is not None and fmspc != named:
            raise ConfigError(
                f"DCAP collateral {path} holds TCB info for FMSPC {fmspc}, not the {named} "
                f"its name says")
        if fmspc in documents:
            raise ConfigError(
                f"DCAP collateral {documents[fmspc][0]} and {path} both hold {kind} TCB info "
                f"for FMSPC {fmspc}: keep one")
        documents[fmspc] = (path, data)
    return TcbInfos(kind, documents)
