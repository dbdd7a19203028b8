"""enclave_info.toml: the measurements auditors vouch for, and their signatures over it.

The format is Teaclave's: one table `[teaclave_<service>_service]` per service with `mr_enclave`
and `mr_signer` as lower-case hex (for a TDX trust domain, the digests of
gaiwan.attestation.td_measurement, optionally with `mr_td` and `rtmr0`..`rtmr3` in clear); each
auditor signs the file's exact bytes with RSA PKCS#1 v1.5 SHA-256 and ships the raw signature
as `<auditor>.sign.sha256` beside `<auditor>.public.pem`.

Verification counts distinct auditor keys, not signature files: the same key signing twice counts
once, and a signature no known key verifies counts for nothing. Teaclave's SDK skipped this check
entirely; Gaiwan's clients and attestation service both make it.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..errors import AttestationError
from .dcap import TdReport
from .quote import QuoteBody
from .td_measurement import td_mr_enclave, td_mr_signer

SIGNATURE_SUFFIX = ".sign.sha256"
PUBLIC_KEY_SUFFIX = ".public.pem"


def table_name(service: str) -> str:
    return f"teaclave_{service}_service"


@dataclass(frozen=True)
class Measurement:
    mr_enclave: bytes
    mr_signer: bytes


@dataclass(frozen=True)
class TdMeasurement:
    """A TD's registers as listed in clear (48 bytes each); they hash to the table's mr_enclave."""

    mr_td: bytes
    rtmrs: tuple[bytes, bytes, bytes, bytes]


_TD_KEYS = ("mr_td", "rtmr0", "rtmr1", "rtmr2", "rtmr3")


@dataclass(frozen=True)
class EnclaveInfo:
    """The loaded tables: table name (`teaclave_<service>_service`) to measurement.

    `signed_by` names the auditors whose signatures were verified when it was loaded from disk;
    `td` holds the TD registers of the tables that list them.
    """

    tables: dict[str, Measurement]
    signed_by: tuple[str, ...] = ()
    td: dict[str, TdMeasurement] = field(default_factory=dict)

    def service_of(self, mr_enclave: bytes, mr_signer: bytes) -> str | None:
        """The service these measurements are listed for, if any."""
        for name, want in self.tables.items():
            if want == Measurement(mr_enclave, mr_signer):
                return name.removeprefix("teaclave_").removesuffix("_service")
        return None

    def expect(self, service: str) -> Measurement:
        try:
            return self.tables[table_name(service)]
        except KeyError:
            raise AttestationError(f"enclave_info has no table {table_name(service)}") from None

    def check(self, service: str, mr_enclave: bytes, mr_signer: bytes) -> None:
        """Raises unless the quote's measurements are the ones listed for `service`."""
        want = self.expect(service)
        if mr_enclave != want.mr_enclave:
            raise AttestationError(
                f"mr_enclave {mr_enclave.hex()} of {service} is not the one in enclave_info "
                f"({want.mr_enclave.hex()})")
        if mr_signer != want.mr_signer:
            raise AttestationError(
                f"mr_signer {mr_signer.hex()} of {service} is not the one in enclave_info "
                f"({want.mr_signer.hex()})")

    def check_quote(self, service: str, body: QuoteBody, td: TdReport | None) -> None:
        """Raises unless the attested enclave (its quote body) or TD (`td`) is the one listed
        for `service`."""
        if td is not None:
            self.check_td(service, td)
        else:
            self.check(service, body.mr_enclave, body.mr_signer)

    def check_td(self, service: str, td: TdReport) -> None:
        """Raises unless the TD is the one listed for `service`: register by register when the
        table lists them, then by the mr_enclave/mr_signer digests (td_measurement)."""
        listed = self.td.get(table_name(service))
        if listed is not None:
            if td.mr_td != listed.mr_td:
                raise AttestationError(
                    f"MRTD {td.mr_td.hex()} of {service} is not the one in enclave_info "
                    f"({listed.mr_td.hex()})")
            for i, (have, want) in enumerate(zip(td.rtmrs, listed.rtmrs)):
                if have != want:
                    raise AttestationError(
                        f"RTMR{i} {have.hex()} of {service} is not the one in enclave_info "
                        f"({want.hex()})")
        self.check(service, td_mr_enclave(td.mr_td, td.rtmrs),
                   td_mr_signer(td.mr_config_id, td.mr_owner, td.mr_owner_config))


def _td_measurement(name: str, table: dict[str, object], mr_enclave: bytes) -> TdMeasurement | None:
    present = [key for key in _TD_KEYS if key in table]
    if not present:
        return None
    if len(present) != len(_TD_KEYS):
        raise AttestationError(
            f"enclave_info table {name} lists {', '.join(present)}: a TD needs all of "
            f"{', '.join(_TD_KEYS)}")
    try:
        values = [bytes.fromhex(str(table[key])) for key in _TD_KEYS]
    except ValueError:
        raise AttestationError(f"enclave_info table {name}: TD registers must be hex") from None
    if any(len(v) != 48 for v in values):
        raise AttestationError(f"enclave_info table {name}: TD registers must be 48 bytes")
    listed = TdMeasurement(values[0], (values[1], values[2], values[3], values[4]))
    if td_mr_enclave(listed.mr_td, listed.rtmrs) != mr_enclave:
        raise AttestationError(
            f"enclave_info table {name}: mr_enclave is not SHA-256(mr_td || rtmr0..rtmr3)")
    return listed


def render(measurements: dict[str, tuple[bytes, bytes]]) -> bytes:
    """The file text, byte-for-byte stable for the same measurements (auditors sign these bytes)."""
    blocks = [
        f"[{table_name(service)}]\nmr_enclave = \"{enclave.hex()}\"\nmr_signer  = \"{signer.hex()}\"\n"
        for service, (enclave, signer) in measurements.items()
    ]
    return "\n".join(blocks).encode()


def parse(content: bytes) -> EnclaveInfo:
    try:
        doc = tomllib.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AttestationError(f"enclave_info is not valid TOML: {exc}") from None
    tables: dict[str, Measurement] = {}
    td: dict[str, TdMeasurement] = {}
    for name, table in doc.items():
        if not isinstance(table, dict):
            raise AttestationError(f"enclave_info entry {name!r} is not a table")
        try:
            enclave = bytes.fromhex(table["mr_enclave"])
            signer = bytes.fromhex(table["mr_signer"])
        except (KeyError, TypeError, ValueError):
            raise AttestationError(
                f"enclave_info table {name} needs mr_enclave and mr_signer as hex") from None
        if len(enclave) != 32 or len(signer) != 32:
            raise AttestationError(f"enclave_info table {name}: measurements must be 32 bytes")
        tables[name] = Measurement(enclave, signer)
        listed = _td_measurement(name, table, enclave)
        if listed is not None:
            td[name] = listed
    return EnclaveInfo(tables, td=td)


def sign(content: bytes, private_key: rsa.RSAPrivateKey) -> bytes:
    return private_key.sign(content, padding.PKCS1v15(), hashes.SHA256())


def load_public_key(pem: bytes) -> rsa.RSAPublicKey:
    """An auditor key: PEM SubjectPublicKeyInfo or PKCS#1 `RSA PUBLIC KEY`."""
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise AttestationError("auditor public key is not a PEM public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise AttestationError("auditor public key is not an RSA key")
    return key


def _verifies(key: rsa.RSAPublicKey, signature: bytes, content: bytes) -> bool:
    try:
        key.verify(signature, content, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def _fingerprint(key: rsa.RSAPublicKey) -> bytes:
    return hashlib.sha256(key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).digest()


def verify(content: bytes, public_keys: Sequence[bytes], signatures: Sequence[bytes],
           threshold: int) -> int:
    """Teaclave CLI semantics, unpaired: how many distinct known keys signed; raises below threshold."""
    if threshold < 1:
        raise AttestationError("auditor threshold must be at least 1")
    keys = [load_public_key(pem) for pem in public_keys]
    signed: set[bytes] = set()
    unverified = 0
    for signature in signatures:
        matches = [k for k in keys if _verifies(k, signature, content)]
        signed.update(_fingerprint(k) for k in matches)
        unverified += not matches
    if len(signed) < threshold:
        detail = f" ({unverified} signature(s) verify with no known auditor key)" if unverified else ""
        raise AttestationError(
            f"enclave_info has valid signatures from {len(signed)} distinct auditor(s), "
            f"{threshold} required{detail}")
    return len(signed)


def _names(directory: Path, suffix: str) -> set[str]:
    return {p.name[: -len(suffix)] for p in directory.glob(f"*{suffix}")}


def auditor_public_keys(auditors: Path) -> dict[str, bytes]:
    """Each `<name>.public.pem` of the directory, by auditor name."""
    return {name: (auditors / f"{name}{PUBLIC_KEY_SUFFIX}").read_bytes()
            for name in sorted(_names(auditors, PUBLIC_KEY_SUFFIX))}


KeysCheck = Callable[[Mapping[str, bytes]], None]


def verify_auditor_dir(content: bytes, auditors: Path, threshold: int,
                       check_keys: KeysCheck | None = None) -> list[str]:
    """Verifies `content` against `<name>.public.pem` / `<name>.sign.sha256` pairs in `auditors`.

    Returns the names of the auditors whose signature holds. Below threshold the error names what
    is wrong with each auditor: a missing signature, a bad one, or a signature by an unknown key.
    `check_keys` sees the public keys as read, before any is used, and may refuse them.
    """
    if threshold < 1:
        raise AttestationError("auditor threshold must be at least 1")
    if not auditors.is_dir():
        raise AttestationError(f"no auditor directory at {auditors}")
    public_keys = auditor_public_keys(auditors)
    if check_keys is not None:
        check_keys(public_keys)
    known = set(public_keys)
    signers = _names(auditors, SIGNATURE_SUFFIX)
    problems: list[str] = []
    good: dict[bytes, str] = {}
    for name, pem in public_keys.items():
        key = load_public_key(pem)
        if name not in signers:
            problems.append(f"auditor {name!r} has no signature")
            continue
        if not _verifies(key, (auditors / f"{name}{SIGNATURE_SUFFIX}").read_bytes(), content):
            problems.append(f"signature of auditor {name!r} does not verify")
            continue
        good.setdefault(_fingerprint(key), name)
    problems += [f"signature {name}{SIGNATURE_SUFFIX} is by no known auditor"
                 for name in sorted(signers - known)]
    if len(good) < threshold:
        raise AttestationError(
            f"enclave_info is signed by {len(good)} distinct known auditor(s), {threshold} "
            f"required: " + ("; ".join(problems) or "no auditor keys"))
    return sorted(good.values())


def load_verified(path: Path, auditors: Path, threshold: int,
                  check_keys: KeysCheck | None = None) -> EnclaveInfo:
    """enclave_info from disk, only if enough auditors signed exactly these bytes."""
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise AttestationError(f"no enclave_info at {path}") from None
    signed_by = verify_auditor_dir(content, auditors, threshold, check_keys)
    parsed = parse(content)
    return EnclaveInfo(parsed.tables, tuple(signed_by), parsed.td)

