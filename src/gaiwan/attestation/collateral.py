"""Intel DCAP collateral from files: what the attestation service verifies real quotes against.

The collateral lives in one directory, `[attestation.dcap] collateral_dir` (relative to the data
directory; default `dcap`), under fixed names, so that refreshing it is copying files, as fetched
from Intel's PCS or a caching service (PCCS), without editing the configuration:

    intel_root_ca.pem          Intel SGX Root CA certificate (PEM or DER): the trust anchor
    root_ca.crl                the root CA's CRL (DER, PEM or hex DER)
    pck_processor.crl          PCK Processor CA CRL  } at least one; each quote's PCK chain needs
    pck_platform.crl           PCK Platform CA CRL   } the CRL of the CA that issued its PCK
    tcb_signing_chain.pem      TCB-Info-Issuer-Chain (= SGX-Enclave-Identity-Issuer-Chain)
    sgx_tcb_info.json          SGX TCB info for one FMSPC                } SGX quotes (gramine-sgx):
    sgx_tcb_info/<fmspc>.json  SGX TCB info for each further FMSPC       } at least one TCB info,
    qe_identity.json           QE identity (/sgx/.../qe/identity)        } and the QE identity
    tdx_tcb_info.json          TDX TCB info for one FMSPC                } TDX quotes (tsm):
    tdx_tcb_info/<fmspc>.json  TDX TCB info for each further FMSPC       } at least one TCB info,
    td_qe_identity.json        TD QE identity (/tdx/.../qe/identity)     } and the TD QE identity

Each quote is verified against the TCB info of its PCK certificate's FMSPC
(gaiwan.attestation.tcb_info_files). The files are read again for every attestation, like
enclave_info, so new collateral takes effect without a restart; `load_collateral` is also called
when the attestation service starts, so a platform whose backend needs collateral refuses to
start without it (ConfigError naming the file).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from ..errors import AttestationError, ConfigError
from .chain import load_certificate, split_pem_chain
from .crl import load_crl
from .tcb_info_files import TcbInfos, directory_name, load_tcb_infos

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
    """Collateral as bytes, as gaiwan.attestation.dcap_verify takes it; None (or no TCB info)
    where absent."""

    intel_root: bytes
    crls: tuple[bytes, ...]
    tcb_signing_chain: bytes
    sgx_tcb_infos: TcbInfos = TcbInfos("SGX")
    qe_identity: bytes | None = None
    tdx_tcb_infos: TcbInfos = TcbInfos("TDX")
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


def _pair(directory: Path, names: tuple[str, str], kind: str,
          needed: bool) -> tuple[TcbInfos, bytes | None]:
    """A TEE kind's TCB info (single file and per-FMSPC files) and QE identity: both or neither,
    since one without the other is an incomplete download."""
    infos = load_tcb_infos(directory, kind, _read(directory / names[0]))
    identity = _read(directory / names[1])
    no_infos = (f"{directory / names[0]} is missing (and {directory / directory_name(kind)} "
                f"holds no <fmspc>.json)")
    if needed and not infos:
        raise ConfigError(f"DCAP collateral {no_infos}")
    if needed and identity is None:
        raise ConfigError(f"DCAP collateral {directory / names[1]} is missing")
    if infos and identity is None:
        raise ConfigError(f"DCAP collateral {directory / names[1]} is missing while "
                          f"{infos.files[0]} is there")
    if identity is not None and not infos:
        raise ConfigError(f"DCAP collateral {no_infos} while {directory / names[1]} is there")
    return infos, identity


def load_collateral(config: Config, required: bool | None = None) -> DcapCollateral | None:
    """The platform's collateral, checked for form; None when not configured and not required.

    Required (by default) when `[attestation] backend` produces DCAP quotes: gramine-sgx needs
    the SGX files, tsm the TDX ones. Signatures and dates are checked per quote, at its time.
    TCB info of several FMSPCs may be held; each quote is verified against its own.
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
    sgx = _pair(directory, SGX_FILES, "SGX", backend == "gramine-sgx" and needed)
    tdx = _pair(directory, TDX_FILES, "TDX", backend == "tsm" and needed)
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
