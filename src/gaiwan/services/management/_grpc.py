"""gRPC adapter: GaiwanManagement protos in, core calls, protos out. Nothing here decides.

The caller is whoever the frontend says it is, in metadata `gaiwan-user-id` and
`gaiwan-user-role`; the server interceptor already admitted only the frontend's mesh identity,
so the metadata is trusted but must be present and unambiguous.
"""

from __future__ import annotations

import grpc
from google.protobuf import empty_pb2

from ...errors import Unauthenticated
from ...rpc.pb import gaiwan_api_pb2 as api_pb
from ...rpc.pb import gaiwan_management_pb2_grpc as pb_grpc
from ...rpc.pb import teaclave_frontend_service_pb2 as fe_pb
from ...rpc.server import Register
from ...roles import Role
from . import _convert as convert
from ._core import Management
from ._rules import Caller

USER_ID_KEY = "gaiwan-user-id"
USER_ROLE_KEY = "gaiwan-user-role"
_EMPTY = empty_pb2.Empty()
Ctx = grpc.ServicerContext


def caller_of(context: Ctx) -> Caller:
    found: dict[str, list[str]] = {USER_ID_KEY: [], USER_ROLE_KEY: []}
    for key, value in context.invocation_metadata() or ():
        if key in found:
            found[key].append(value if isinstance(value, str) else value.decode("utf-8", "replace"))
    ids, roles = found[USER_ID_KEY], found[USER_ROLE_KEY]
    if len(ids) != 1 or len(roles) != 1 or not ids[0]:
        raise Unauthenticated("missing or ambiguous caller identity")
    return Caller(ids[0], Role.parse(roles[0]))


class ManagementServicer(pb_grpc.GaiwanManagementServicer):
    def __init__(self, core: Management) -> None:
        self._core = core

    # ---- files ----------------------------------------------------------------------------

    def RegisterInputFile(self, request: fe_pb.RegisterInputFileRequest, context: Ctx
                          ) -> fe_pb.RegisterInputFileResponse:
        file = self._core.files.register_input(caller_of(context), request.url, request.cmac,
                                               convert.crypto_from_proto(request.crypto_info))
        return fe_pb.RegisterInputFileResponse(data_id=file.data_id)

    def RegisterOutputFile(self, request: fe_pb.RegisterOutputFileRequest, context: Ctx
                           ) -> fe_pb.RegisterOutputFileResponse:
        file = self._core.files.register_output(caller_of(context), request.url,
                                                convert.crypto_from_proto(request.crypto_info))
        return fe_pb.RegisterOutputFileResponse(data_id=file.data_id)

    def UpdateInputFile(self, request: fe_pb.UpdateInputFileRequest, context: Ctx
                        ) -> fe_pb.UpdateInputFileResponse:
        file = self._core.files.update(caller_of(context), request.data_id, request.url, "input")
        return fe_pb.UpdateInputFileResponse(data_id=file.data_id)

    def UpdateOutputFile(self, request: fe_pb.UpdateOutputFileRequest, context: Ctx
                         ) -> fe_pb.UpdateOutputFileResponse:
        file = self._core.files.update(caller_of(context), request.data_id, request.url, "output")
        return fe_pb.UpdateOutputFileResponse(data_id=file.data_id)

    def RegisterFusionOutput(self, request: fe_pb.RegisterFusionOutputRequest, context: Ctx
                             ) -> fe_pb.RegisterFusionOutputResponse:
        file = self._core.files.register_fusion_output(caller_of(context), list(request.owner_list))
        return fe_pb.RegisterFusionOutputResponse(data_id=file.data_id)

    def RegisterInputFromOutput(self, request: fe_pb.RegisterInputFromOutputRequest, context: Ctx
                                ) -> fe_pb.RegisterInputFromOutputResponse:
        file = self._core.files.register_input_from_output(caller_of(context), request.data_id)
        return fe_pb.RegisterInputFromOutputResponse(data_id=file.data_id)

    def GetInputFile(self, request: fe_pb.GetInputFileRequest, context: Ctx
                     ) -> fe_pb.GetInputFileResponse:
        file = self._core.files.get(caller_of(context), request.data_id, "input")
        return convert.file_to_input_response(file)

    def GetOutputFile(self, request: fe_pb.GetOutputFileRequest, context: Ctx
                      ) -> fe_pb.GetOutputFileResponse:
        file = self._core.files.get(caller_of(context), request.data_id, "output")
        return convert.file_to_output_response(file)

    # ---- functions ------------------------------------------------------------------------

    def RegisterFunction(self, request: fe_pb.RegisterFunctionRequest, context: Ctx
                         ) -> fe_pb.RegisterFunctionResponse:
        function = self._core.functions.register(caller_of(context), convert.function_from_request(request))
        return fe_pb.RegisterFunctionResponse(function_id=function.function_id)

    def GetFunction(self, request: fe_pb.GetFunctionRequest, context: Ctx
                    ) -> fe_pb.GetFunctionResponse:
        return convert.function_to_response(self._core.functions.get(caller_of(context), request.function_id))

    def GetFunctionUsageStats(self, request: fe_pb.GetFunctionUsageStatsRequest, context: Ctx
                              ) -> fe_pb.GetFunctionUsageStatsResponse:
        return convert.usage_to_response(self._core.functions.usage(caller_of(context), request.function_id))

    def UpdateFunction(self, request: fe_pb.UpdateFunctionRequest, context: Ctx
                       ) -> fe_pb.UpdateFunctionResponse:
        function = self._core.functions.update(caller_of(context), request.function_id,
                                               convert.function_from_request(request))
        return fe_pb.UpdateFunctionResponse(function_id=function.function_id)

    def ListFunctions(self, request: fe_pb.ListFunctionsRequest, context: Ctx
                      ) -> fe_pb.ListFunctionsResponse:
        registered, allowed = self._core.functions.list(caller_of(context), request.user_id)
        return fe_pb.ListFunctionsResponse(registered_functions=registered, allowed_functions=allowed)

    def DeleteFunction(self, request: fe_pb.DeleteFunctionRequest, context: Ctx) -> empty_pb2.Empty:
        self._core.functions.delete(caller_of(context), request.function_id)
        return _EMPTY

    def DisableFunction(self, request: fe_pb.DisableFunctionRequest, context: Ctx) -> empty_pb2.Empty:
        self._core.functions.disable(caller_of(context), request.function_id)
        return _EMPTY

    # ---- tasks ----------------------------------------------------------------------------

    def CreateTask(self, request: fe_pb.CreateTaskRequest, context: Ctx) -> fe_pb.CreateTaskResponse:
        task = self._core.tasks.create(
            caller_of(context), request.function_id, request.function_arguments, request.executor,
            convert.owners_from_proto(request.inputs_ownership),
            convert.owners_from_proto(request.outputs_ownership))
        return fe_pb.CreateTaskResponse(task_id=task.task_id)

    def GetTask(self, request: fe_pb.GetTaskRequest, context: Ctx) -> fe_pb.GetTaskResponse:
        return convert.task_to_response(self._core.tasks.get(caller_of(context), request.task_id))

    def AssignData(self, request: fe_pb.AssignDataRequest, context: Ctx) -> empty_pb2.Empty:
        self._core.tasks.assign(caller_of(context), request.task_id,
                                convert.data_maps_from_proto(request.inputs),
                                convert.data_maps_from_proto(request.outputs))
        return _EMPTY

    def ApproveTask(self, request: fe_pb.ApproveTaskRequest, context: Ctx) -> empty_pb2.Empty:
        self._core.tasks.approve(caller_of(context), request.task_id)
        return _EMPTY

    def InvokeTask(self, request: fe_pb.InvokeTaskRequest, context: Ctx) -> empty_pb2.Empty:
        self._core.tasks.invoke(caller_of(context), request.task_id)
        return _EMPTY

    def CancelTask(self, request: fe_pb.CancelTaskRequest, context: Ctx) -> empty_pb2.Empty:
        self._core.tasks.cancel(caller_of(context), request.task_id)
        return _EMPTY

    def WaitTask(self, request: api_pb.WaitTaskRequest, context: Ctx) -> fe_pb.GetTaskResponse:
        task = self._core.tasks.wait(caller_of(context), request.task_id, request.timeout_ms)
        return convert.task_to_response(task)

    def SetDataTags(self, request: api_pb.SetDataTagsRequest, context: Ctx) -> empty_pb2.Empty:
        self._core.files.set_tags(caller_of(context), request.data_id, list(request.tags))
        return _EMPTY


def register(core: Management) -> Register:
    servicer = ManagementServicer(core)
    return lambda server: pb_grpc.add_GaiwanManagementServicer_to_server(servicer, server)
