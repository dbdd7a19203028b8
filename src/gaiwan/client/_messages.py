"""The small value classes of Teaclave's SDK, each wrapping the protobuf it stands for.

Teaclave's examples build these and hand them to FrontendService; keeping the names, the argument
order and the `.message` attribute lets those examples run unchanged.
"""

from __future__ import annotations

from gaiwan.rpc.pb import teaclave_common_pb2 as common
from gaiwan.rpc.pb import teaclave_frontend_service_pb2 as fe


class FunctionInput:
    def __init__(self, name: str, description: str, optional: bool = False) -> None:
        self.message = fe.FunctionInput(name=name, description=description, optional=optional)


class FunctionOutput:
    def __init__(self, name: str, description: str, optional: bool = False) -> None:
        self.message = fe.FunctionOutput(name=name, description=description, optional=optional)


class FunctionArgument:
    def __init__(self, key: str, default_value: str = "", allow_overwrite: bool = True) -> None:
        self.message = fe.FunctionArgument(key=key, default_value=default_value,
                                           allow_overwrite=allow_overwrite)


class OwnerList:
    def __init__(self, data_name: str, uids: list[str]) -> None:
        self.message = fe.OwnerList(data_name=data_name, uids=list(uids))


class DataMap:
    def __init__(self, data_name: str, data_id: str) -> None:
        self.message = fe.DataMap(data_name=data_name, data_id=data_id)


class CryptoInfo:
    """Teaclave passes key and iv as lists of ints; bytes are accepted as well."""

    def __init__(self, schema: str, key: list[int] | bytes, iv: list[int] | bytes) -> None:
        self.message = common.FileCryptoInfo(schema=schema, key=bytes(key), iv=bytes(iv))
