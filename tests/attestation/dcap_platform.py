"""A test platform that accepts DCAP evidence: collateral files from a test PKI, and an
enclave_info listing the builders' enclave and TD, re-signed by the platform's local auditor."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec

from gaiwan.attestation import bound_inputs
from gaiwan.attestation import collateral as files
from gaiwan.attestation.dcap import TEE_TDX
from gaiwan.attestation.enclave_info import sign, table_name
from gaiwan.attestation.keystore import KeyFiles, auditor_signature_path, load_private_key
from gaiwan.attestation.ratls import report_data_of
from gaiwan.attestation.td_measurement import td_mr_enclave, td_mr_signer
from gaiwan.config import Config
from tests.attestation.dcap_builders import Pki, QuoteParts, report_body, td_report_body
from tests.attestation.helpers import bound_env

MR_ENCLAVE = b"\x11" * 32
MR_SIGNER = b"\x22" * 32
MR_TD = b"\x44" * 48
RTMRS = (b"\x60" * 48, b"\x61" * 48, b"\x62" * 48, b"\x63" * 48)
TEE_TCB_SVN = bytes([3, 0]) + bytes([2] * 14)  # TDX module 1.0 (major 0), components at 2

SGX_LEVELS = [(5, 13, "UpToDate"), (3, 10, "OutOfDate")]
TDX_LEVELS = [(5, 13, 2, "UpToDate"), (3, 10, 1, "OutOfDate")]


def td_digests(mr_td: bytes = MR_TD, rtmrs: tuple[bytes, ...] = RTMRS) -> tuple[bytes, bytes]:
    return td_mr_enclave(mr_td, rtmrs), td_mr_signer(bytes(48), bytes(48), bytes(48))


def write_enclave_info(config: Config, text: str) -> None:
    """Replaces enclave_info and re-signs it with the local auditor, as a new audit would."""
    content = text.encode()
    config.home.enclave_info.write_bytes(content)
    key = load_private_key(KeyFiles(config.home).auditor_key("local"))
    auditor_signature_path(config.home, "local").write_bytes(sign(content, key))  # type: ignore[arg-type]


def enclave_info_text(sgx_service: str = "storage", td_service: str = "frontend",
                      td_in_clear: bool = True) -> str:
    enclave, signer = td_digests()
    td = (f'[{table_name(td_service)}]\nmr_enclave = "{enclave.hex()}"\n'
          f'mr_signer = "{signer.hex()}"\n')
    if td_in_clear:
        td += f'mr_td = "{MR_TD.hex()}"\n' + "".join(
            f'rtmr{i} = "{r.hex()}"\n' for i, r in enumerate(RTMRS))
    return (f'[{table_name(sgx_service)}]\nmr_enclave = "{MR_ENCLAVE.hex()}"\n'
            f'mr_signer = "{MR_SIGNER.hex()}"\n\n' + td)


@dataclass
class DcapPlatform:
    """The collateral written for `config`, each file overridable (or added, such as
    `sgx_tcb_info/<fmspc>.json`) before `write`."""

    config: Config
    pki: Pki = field(default_factory=Pki)
    overrides: dict[str, bytes | None] = field(default_factory=dict)

    def contents(self) -> dict[str, bytes | None]:
        pki = self.pki
        return {
            files.ROOT: pki.root_pem,
            files.ROOT_CRL: pki.crl("root"),
            files.PCK_CRLS[0]: pki.crl("ca"),
            files.TCB_CHAIN: pki.tcb_chain_pem(),
            files.SGX_FILES[0]: pki.tcb_info(SGX_LEVELS),
            files.SGX_FILES[1]: pki.qe_identity(),
            files.TDX_FILES[0]: pki.tdx_tcb_info(TDX_LEVELS),
            files.TDX_FILES[1]: pki.qe_identity(id="TD_QE"),
            **self.overrides,
        }

    def write(self) -> "DcapPlatform":
        """Writes the collateral; then, as an operator renders the attestation service's
        manifest from the files as they now are, sets this process's bound inputs to its
        (tests/attestation/conftest.py restores the environment after each test)."""
        directory = files.collateral_dir(self.config)
        directory.mkdir(parents=True, exist_ok=True)
        for name, data in self.contents().items():
            path = directory / name
            if data is None:
                path.unlink(missing_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        os.environ[bound_inputs.ENV] = bound_env(self.config, "attestation")
        return self


def sgx_quote(pki: Pki, key: ec.EllipticCurvePrivateKey, *, version: int = 3,
              report_data: bytes | None = None, mr_enclave: bytes = MR_ENCLAVE,
              attributes: bytes = bytes(16), **parts: object) -> bytes:
    """An SGX quote of the listed enclave binding `key`, as Gramine would return it."""
    body = report_body(mr_enclave=mr_enclave, mr_signer=MR_SIGNER,
                       report_data=report_data if report_data is not None
                       else report_data_of(key.public_key()), attributes=attributes)
    return QuoteParts(pki, version=version, body=body, **parts).build()  # type: ignore[arg-type]


def tdx_quote(pki: Pki, key: ec.EllipticCurvePrivateKey, *, mr_td: bytes = MR_TD,
              rtmrs: tuple[bytes, ...] = RTMRS, td_attributes: bytes = bytes(8),
              tee_tcb_svn: bytes = TEE_TCB_SVN, mr_service_td: bytes | None = None,
              **parts: object) -> bytes:
    """A TDX quote of the listed TD binding `key`, as configfs-tsm would return it: v4 with a
    TD report 1.0, or (given `mr_service_td`) v5 with a TD report 1.5, as TDX 1.5 modules give."""
    v15 = mr_service_td is not None
    body = td_report_body(mr_td=mr_td, report_data=report_data_of(key.public_key()), rtmrs=rtmrs,
                          tee_tcb_svn=tee_tcb_svn, td_attributes=td_attributes, v15=v15,
                          **({"mr_service_td": mr_service_td} if v15 else {}))
    return QuoteParts(pki, version=5 if v15 else 4, tee_type=TEE_TDX, body=body,
                      **parts).build()  # type: ignore[arg-type]

