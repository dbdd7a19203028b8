"""Intel DCAP collateral from files: what the attestation service verifies real quotes against.

The collateral lives in one directory, `[attestation.dcap] collateral_dir` (relative to the data
directory; default `dcap`), under fixed names, so that refreshing it is copying files, as fetched
from Intel's PCS or a caching service (PCCS), without editing the configuration:

    intel_root_ca.pem          Intel SGX Root CA certificate (PEM or DER): the trust anchor
    root_ca.crl                the root CA's CRL (DER, PEM or hex DER)
    pck_processor.crl          PCK Processor CA CRL  } at least one; each quote's PCK chain needs
    pck_platform.crl           PCK Platform CA CRL   } the CRL of the CA that issued its PCK
    tcb_signing_chain.pem      TCB-Info-Issuer-Chain (= SGX-Enclave-Identity-Issuer-Chain)
    sgx_tcb_info.json          SGX TCB info for the platforms' FMSPC     } SGX quotes (gramine-sgx)
    qe_identity.json           QE identity (/sgx/.../qe/identity)        }
    tdx_tcb_info.json          TDX TCB info for the platforms' FMSPC     } TDX quotes (tsm)
    td_qe_identity.json        TD QE identity (/tdx/.../qe/identity)     }

The files are read again for every attestation, like enclave_info, so new collateral takes effect
without a restart; `load_collateral` is also called when the attestation service starts, so a
platform whose backend needs collateral refuses to start without it (ConfigError naming the file).
One FMSPC per platform: a fleet mixing CPU families needs one TCB info per family, not supported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from ..errors import AttestationError, ConfigError
from .chain import load_certificate, split_pem_chain
from .crl import load_crl

DEFAULT_DIR = "dcap"
ROOT = "intel_root_ca.pem"
ROOT_CRL = "root_ca.crl"
PCK_CRLS = ("pck_processor.crl", "pck_platform.crl")
TCB_CHAIN = "tcb_signing_chain.pem"
SGX_FILES = ("sgx_tcb_info.json", "qe_identity.json")
TDX_FILES = ("tdx_tcb_info.json", "td_qe_identity.json")

BACKENDS = ("simulated", "gramine-sgx", "tsm")


@dataclass(frozen=True)
class DcapCollateral:
    """Collateral as bytes, as gaiwan.attestation.dcap_verify takes it; None where absent."""

    intel_root: bytes
    crls: tuple[bytes, ...]
    tcb_signing_chain: bytes
    sgx_tcb_info: bytes | None = None
    qe_identity: bytes | None = None
    tdx_tcb_info: bytes | None = None
    td_qe_identity: bytes | None = None


def backend_name(config: Config) -> str:
    """`[attestation] backend`, checked: the evidence backend every service of the platform uses."""
    name = str(config.section("attestation").get("backend", "simulated"))
    if name not in BACKENDS:
        raise ConfigError(f"[attestation] backend {name!r} is not one of {', '.join(BACKENDS)}")
    return name


def collateral_dir(config: Config) -> Path:
    section = config.section("attestation").get("dcap", {})
    path = Path(str(section.get("collateral_dir", DEFAULT_DIR))) if isinstance(section, dict) \
        else Path(DEFAULT_DIR)
    return path if path.is_absolute() else config.home.root / path


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"DCAP collateral {path} cannot be read: {exc.strerror}") from None


def _pair(directory: Path, names: tuple[str, str], needed: bool) -> tuple[bytes | None, ...]:
    found = tuple(_read(directory / name) for name in names)
    missing = [name for name, data in zip(names, found) if data is None]
    if needed and missing:
        raise ConfigError(f"DCAP collateral {directory / missing[0]} is missing")
    if len(missing) == 1:
        raise ConfigError(
            f"DCAP collateral {directory / missing[0]} is missing while "
            f"{directory / (set(names) - set(missing)).pop()} is there")
    return found


def load_collateral(config: Config, required: bool | None = None) -> DcapCollateral | None:
    """The platform's collateral, checked for form; None when not configured and not required.

    Required (by default) when `[attestation] backend` produces DCAP quotes: gramine-sgx needs
    the SGX files, tsm the TDX ones. Signatures and dates are checked per quote, at its time.
    """
    backend = backend_name(config)
    needed = backend != "simulated" if required is None else required
    directory = collateral_dir(config)
    root = _read(directory / ROOT)
    if root is None:
        if needed:
            raise ConfigError(
                f"DCAP collateral {directory / ROOT} is missing: backend {backend} needs Intel's "
                f"collateral in {directory} (docs/attestation.md)")
        return None
    crl_files = [(name, _read(directory / name)) for name in (ROOT_CRL, *PCK_CRLS)]
    if crl_files[0][1] is None:
        raise ConfigError(f"DCAP collateral {directory / ROOT_CRL} is missing")
    if all(data is None for _, data in crl_files[1:]):
        raise ConfigError(
            f"DCAP collateral {directory / PCK_CRLS[0]} or {directory / PCK_CRLS[1]} is missing")
    chain = _read(directory / TCB_CHAIN)
    if chain is None:
        raise ConfigError(f"DCAP collateral {directory / TCB_CHAIN} is missing")
    sgx = _pair(directory, SGX_FILES, backend == "gramine-sgx" and needed)
    tdx = _pair(directory, TDX_FILES, backend == "tsm" and needed)
    checks = [(ROOT, lambda: load_certificate(root)),
              (TCB_CHAIN, lambda: split_pem_chain(chain, "the TCB signing chain"))]
    checks += [(name, lambda data=data, name=name: load_crl(data, name))
               for name, data in crl_files if data is not None]
    for name, check in checks:
        try:
            check()
        except AttestationError as exc:
            raise ConfigError(f"DCAP collateral {directory / name}: {exc.message}") from None
    return DcapCollateral(root, tuple(d for _, d in crl_files if d is not None), chain,
                          sgx[0], sgx[1], tdx[0], tdx[1])
