"""The public calls the frontend serves, read from the protos rather than listed by hand, so
every TeaclaveFrontend method is served (and checked, audited, forwarded) the same way.

Each call has a snake_case name (spec §5/§9): the Cedar action checked for it and the message of
its audit entry. WaitTask (Gaiwan's extension) is audited as `wait_task` but needs `get_task`'s
permission: waiting for a task reveals nothing that reading it does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from google.protobuf import message_factory
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import Message

from ...rpc.pb import gaiwan_api_pb2, teaclave_frontend_service_pb2

FRONTEND_SERVICE = "teaclave_frontend_service_proto.TeaclaveFrontend"
TASKS_SERVICE = "gaiwan_api_proto.GaiwanTasks"

# Answered by the frontend itself (it owns the audit log); every other call goes to management.
LOCAL_CALLS = frozenset({"query_audit_logs"})

_PERMISSION_OF = {"wait_task": "get_task"}


@dataclass(frozen=True)
class PublicCall:
    service: str
    method: str
    name: str
    permission: str
    request_type: type[Message]
    response_type: type[Message]

    @property
    def local(self) -> bool:
        return self.name in LOCAL_CALLS


def snake_case(method: str) -> str:
    """`GetFunctionUsageStats` -> `get_function_usage_stats`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", method).lower()


def _calls(service: ServiceDescriptor) -> list[PublicCall]:
    calls = []
    for method in service.methods:
        name = snake_case(method.name)
        calls.append(PublicCall(
            service=service.full_name,
            method=method.name,
            name=name,
            permission=_PERMISSION_OF.get(name, name),
            request_type=message_factory.GetMessageClass(method.input_type),
            response_type=message_factory.GetMessageClass(method.output_type),
        ))
    return calls


PUBLIC_CALLS: tuple[PublicCall, ...] = tuple(
    _calls(teaclave_frontend_service_pb2.DESCRIPTOR.services_by_name["TeaclaveFrontend"])
    + _calls(gaiwan_api_pb2.DESCRIPTOR.services_by_name["GaiwanTasks"])
)
