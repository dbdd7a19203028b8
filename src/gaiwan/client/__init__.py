"""Gaiwan's Python SDK: Teaclave v0.6's client API over attested, pinned channels, plus `Gaiwan`.

Every connection verifies the endpoint's RA-TLS certificate (spec §3) and the auditor signatures
on enclave_info before any request is sent; there is no switch that skips this.
"""

from ..errors import AttestationError, GaiwanError
from ._auth import AuthenticationService
from ._channel import AttestedChannel, TrustAnchors
from ._data import DATA_SCHEMAS, DataFile, DataFlows, FileKey, TransferError
from ._frontend import FrontendService
from ._gaiwan import Gaiwan
from ._messages import CryptoInfo, DataMap, FunctionArgument, FunctionInput, FunctionOutput, OwnerList
from ._tasks import Task, TaskFailed, TaskStatus

TeaclaveException = GaiwanError
"""Teaclave's SDK raised one exception type; Gaiwan's errors all derive from this one."""

__all__ = [
    "AttestationError",
    "AttestedChannel",
    "AuthenticationService",
    "CryptoInfo",
    "DATA_SCHEMAS",
    "DataFile",
    "DataFlows",
    "DataMap",
    "FrontendService",
    "FunctionArgument",
    "FunctionInput",
    "FileKey",
    "FunctionOutput",
    "Gaiwan",
    "GaiwanError",
    "OwnerList",
    "Task",
    "TaskFailed",
    "TaskStatus",
    "TeaclaveException",
    "TransferError",
    "TrustAnchors",
]
