"""What the two Teaclave service classes share: the attested channel, credentials, error mapping.

Every call goes through `_call`, the one place where `grpc.RpcError` becomes a typed
`gaiwan.errors` exception, so callers catch the same classes the services raise.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any, Self

import grpc
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from ..errors import from_rpc_error
from ._channel import AttestedChannel, TrustAnchors, metadata_pairs


class _Service:
    """Base of AuthenticationService and FrontendService; `metadata` holds `id` and `token`."""

    _service = ""

    def __init__(self, address: str | tuple[str, int], as_root_ca_cert_path: str | Path | None = None,
                 enclave_info_path: str | Path | None = None, dump_report: bool = False, *,
                 trust: TrustAnchors | None = None, auditors_dir: str | Path | None = None,
                 threshold: int = 1, timeout: float | None = None) -> None:
        if trust is None:
            if as_root_ca_cert_path is None or enclave_info_path is None:
                raise TypeError("give as_root_ca_cert_path and enclave_info_path, or trust")
            trust = TrustAnchors.from_files(as_root_ca_cert_path, enclave_info_path,
                                            auditors_dir, threshold)
        self.channel = AttestedChannel(address, self._service, trust)
        if dump_report:
            self.channel.dump_report(f"{self._service}_attestation_report.json")
        self.metadata: dict[str, str] = {}
        self.timeout = timeout

    def _call(self, stub: Any, method: str, request: Message, timeout: float | None = None) -> Any:
        try:
            return self.channel.call(stub, method, request, metadata_pairs(self.metadata),
                                     timeout if timeout is not None else self.timeout)
        except grpc.RpcError as err:
            raise from_rpc_error(err) from None

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def to_dict(message: Message) -> dict[str, Any]:
    """Teaclave's SDK shape for responses: proto field names, default values left out."""
    return MessageToDict(message, preserving_proto_field_name=True)
