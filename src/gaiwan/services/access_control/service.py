"""The access control service: the gRPC face of the policy engine.

The policy set is loaded and validated before the service listens; a policy that does not match
the schema stops the service with the file named, rather than serving with part of the rules.
Files: the packaged schema and policies, plus any operator policies listed in the config
(`[access_control] policies = ["path", ...]`, relative to the data directory); `schema` there
replaces the packaged schema.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import grpc

from ...config import Config
from ...errors import InvalidArgument
from ...logs import Logger
from ...rpc.pb import gaiwan_access_control_pb2 as pb
from ...rpc.pb import gaiwan_access_control_pb2_grpc as pb_grpc
from .engine import EntityUid, PolicyEngine

_PACKAGED = "gaiwan.services.access_control"


def packaged_policy_dir() -> Path:
    return Path(str(resources.files(_PACKAGED).joinpath("policies")))


def policy_files(config: Config) -> tuple[Path, list[Path]]:
    """The schema and the policy files this platform uses, in load order."""
    section = config.section("access_control")
    base = packaged_policy_dir()
    schema = base / "schema.cedarschema"
    if section.get("schema"):
        schema = config.home.root / str(section["schema"])
    policies = sorted(base.glob("*.cedar"))
    policies += [config.home.root / str(p) for p in section.get("policies", [])]
    return schema, policies


def load_engine(config: Config, log: Logger) -> PolicyEngine:
    schema, policies = policy_files(config)
    engine = PolicyEngine.load(schema, policies)
    log.info("policies loaded", schema=str(schema), files=len(policies),
             policies=len(engine.policy_ids))
    return engine


class AccessControlServicer(pb_grpc.GaiwanAccessControlServicer):
    def __init__(self, engine: PolicyEngine, log: Logger) -> None:
        self._engine = engine
        self._log = log

    def Authorize(self, request: pb.AuthorizeRequest, context: grpc.ServicerContext
                  ) -> pb.AuthorizeResponse:
        decision = self._engine.authorize(
            EntityUid(request.principal.type, request.principal.id),
            request.action,
            EntityUid(request.resource.type, request.resource.id),
            request.entities_json or "[]",
            _context(request.context_json),
        )
        if decision.errors:
            self._log.warning("policy evaluation errors", action=request.action,
                              errors=len(decision.errors), first=decision.errors[0][:200])
        return pb.AuthorizeResponse(allowed=decision.allowed, policy_ids=decision.policy_ids,
                                    errors=decision.errors)


def _context(text: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidArgument("context_json is not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidArgument("context_json must be a JSON object")
    return value
