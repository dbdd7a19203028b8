"""What a service under Gramine-SGX takes from its host's files, bound to its measurement.

Under Gramine the data directory is an allowed tree: the host reads and writes it, and MRENCLAVE
covers the code, not what the service reads from there. A host that edited those files could
admit simulated evidence, point a service at an attestation service of its own (and so get mesh
certificates for its own processes), permit itself anything in the access policies, or have the
attestation service trust its own auditor or its own "Intel" root. So the
manifest carries the digest of each such input in `loader.env.GAIWAN_BOUND_INPUTS`, which is
part of MRENCLAVE and so of what the auditors sign, and a service under `gramine-sgx` refuses an
input whose digest differs. The check is made where the input is used, over the bytes used: a
file swapped after a check changes nothing.

Inputs, by name:
- `config`: the service's security view (`Config.security_view`: mode, attestation backend and
  auditor threshold, inbound rules; the attestation service's TCB policy); ports and paths stay
  free to differ per host.
- `as_root_ca`: `client/as_root_ca_cert.pem`, which every other service trusts to reach the
  attestation service.
- `policies`: for access control, the fingerprint of its schema and policy files
  (`PolicyEngine.policy_set`); a reload to other files is refused until the manifest is signed
  again.
- `auditors` and `intel_root`: for the attestation service, the auditors' public keys that
  enclave_info must be signed with (`client/auditors/*.public.pem`) and Intel's root
  certificate of the DCAP collateral, the two anchors of everything it verifies.

The simulated TEE measures the security view itself; a TDX guest (tsm) keeps the whole data
directory on a disk only the attested guest unlocks. `gaiwan enclave-info bound-inputs
SERVICE` prints the value to render the manifest with.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping

from ..config import Config
from ..errors import ConfigError
from .collateral import ROOT, backend_name, collateral_dir
from .enclave_info import auditor_public_keys
from .keystore import read_bytes

ENV = "GAIWAN_BOUND_INPUTS"
CONFIG = "config"
AS_ROOT_CA = "as_root_ca"
POLICIES = "policies"
AUDITORS = "auditors"
INTEL_ROOT = "intel_root"
_WHAT = {CONFIG: "the security settings of gaiwan.toml", AS_ROOT_CA: "client/as_root_ca_cert.pem",
         POLICIES: "the access control schema and policy files",
         AUDITORS: "the auditors' public keys (client/auditors)",
         INTEL_ROOT: "Intel's root certificate of the DCAP collateral"}
_ENTRY = re.compile(r"([a-z_]+)=([0-9a-f]{32,64})")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest_files(files: Mapping[str, bytes]) -> str:
    """One digest of named contents, in name order, each part length-prefixed."""
    state = hashlib.sha256()
    for name in sorted(files):
        for part in (name.encode(), files[name]):
            state.update(len(part).to_bytes(8, "big") + part)
    return state.hexdigest()


def render(values: Mapping[str, str]) -> str:
    """The manifest's value: `name=digest` pairs, comma-separated, in name order."""
    return ",".join(f"{name}={value}" for name, value in sorted(values.items()))


def parse(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for entry in filter(None, text.split(",")):
        match = _ENTRY.fullmatch(entry)
        if match is None or match.group(1) in values:
            raise ConfigError(f"{ENV} is malformed at {entry[:40]!r}: expected name=hex digest pairs")
        values[match.group(1)] = match.group(2)
    return values


def require(config: Config, name: str, value: str,
            environ: Mapping[str, str] | None = None) -> None:
    """Refuses `value` (the digest of input `name` as about to be used) unless it is the one the
    manifest binds (`environ`: the process environment); a no-op outside Gramine-SGX."""
    if backend_name(config) != "gramine-sgx":
        return
    expected = parse((os.environ if environ is None else environ).get(ENV, "")).get(name)
    if expected is None:
        raise ConfigError(f"the enclave binds no digest of {_WHAT[name]} ({ENV} has no {name}): "
                          "render the manifest with -Dbound_inputs=$(gaiwan enclave-info "
                          "bound-inputs SERVICE) and sign it")
    if not hmac.compare_digest(expected, value):
        raise ConfigError(f"{_WHAT[name]}: digest differs from the one this enclave was signed "
                          "with; put back what was signed, or render and sign the manifest again "
                          "(gaiwan enclave-info bound-inputs SERVICE)")


def values(config: Config, service: str, policy_set: str = "") -> dict[str, str]:
    """What `service`'s manifest binds, from the files as they are now; `policy_set` is access
    control's (`PolicyEngine.policy_set` of the files it would load)."""
    bound = {CONFIG: digest(config.security_view(service))}
    if service == "attestation":
        bound[AUDITORS] = digest_files(auditor_public_keys(config.home.auditors))
        intel_root = collateral_dir(config) / ROOT
        if intel_root.is_file():
            bound[INTEL_ROOT] = digest(intel_root.read_bytes())
    else:
        bound[AS_ROOT_CA] = digest(read_bytes(config.home.as_root_ca_cert))
    if service == "access_control":
        if not policy_set:
            raise ConfigError("access control binds its policy set: pass policy_set")
        bound[POLICIES] = policy_set
    return bound
