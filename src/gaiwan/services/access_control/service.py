"""The access control service: the gRPC face of the policy engine.

The policy set is loaded and validated before the service listens; a policy that does not match
the schema stops the service with the file and line named, rather than serving with part of the
rules. Files: the packaged schema and policies, plus every `*.cedar` file of the operator's
policy directory (`[access_control] policy_dir`, default `policies`, relative to the data
directory); `schema` there replaces the packaged schema.

Reload: SIGHUP (sent by `gaiwan policy reload`) makes the service load the files again. A set
that does not load is refused as a whole and the previous one stays in force; either way the
outcome is written to `run/policies.json` for the command to report. Swapping the engine is one
reference assignment, so a decision is taken wholly under the old set or wholly under the new.
A new set is announced (GaiwanAnnouncements, subject: its fingerprint, `PolicyEngine.policy_set`)
to those who remember decisions (frontends: API decisions; the scheduler: which policy set
InvokeTask's run decisions are good for), and reported loaded only once they all acknowledged.

Audit: every denial is logged here, the one place every decision passes, with the policy ids
that decided it under a fresh decision id; callers quote only that id to the user, since the
ids of operator policies may name other parties. The last `RECENT_DENIALS` denials are also kept
in memory, so the frontend can write the deciding policies into its audit entry (`DeniedBy`)
without management's message, which reaches the caller, ever carrying them.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import grpc

from ...attestation import bound_inputs
from ...config import Config
from ...errors import ConfigError, InvalidArgument
from ...logs import Logger
from ...rpc.pb import gaiwan_access_control_pb2 as pb
from ...rpc.pb import gaiwan_access_control_pb2_grpc as pb_grpc
from .engine import ACTION_TYPE, Decision, PolicyEngine

_PACKAGED = "gaiwan.services.access_control"
DEFAULT_POLICY_DIR = "policies"
STATUS_FILE = "policies.json"
RECENT_DENIALS = 10_000


def packaged_policy_dir() -> Path:
    return Path(str(resources.files(_PACKAGED).joinpath("policies")))


def operator_policy_dir(config: Config) -> Path:
    return config.home.root / str(config.section("access_control").get("policy_dir", DEFAULT_POLICY_DIR))


def schema_path(config: Config | None) -> Path:
    """The configured schema, else the packaged one."""
    configured = config.section("access_control").get("schema") if config else None
    if config is not None and configured:
        return config.home.root / str(configured)
    return packaged_policy_dir() / "schema.cedarschema"


def policy_paths(operator_dir: Path) -> list[Path]:
    """The packaged policy files, then the operator's, each group in name order."""
    return sorted(packaged_policy_dir().glob("*.cedar")) + sorted(operator_dir.glob("*.cedar"))


def policy_files(config: Config) -> tuple[Path, list[Path]]:
    """The schema and the policy files this platform uses, in load order."""
    return schema_path(config), policy_paths(operator_policy_dir(config))


def load_engine(config: Config, log: Logger) -> PolicyEngine:
    """Under Gramine-SGX only the files the enclave was signed with (`bound_inputs`)."""
    schema, policies = policy_files(config)
    engine = PolicyEngine.load(schema, policies)
    bound_inputs.require(config, bound_inputs.POLICIES, engine.policy_set)
    log.info("policies loaded", schema=str(schema), files=len(policies),
             policies=len(engine.policy_ids))
    return engine


def write_status(config: Config, generation: int, engine: PolicyEngine, error: str = "") -> None:
    """Records the outcome of a (re)load for `gaiwan policy reload`, atomically."""
    path = config.home.run / STATUS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"generation": generation, "at": time.time(), "error": error,
                               "policies": list(engine.policy_ids),
                               "policy_set": engine.policy_set}))
    os.replace(tmp, path)


class AccessControlServicer(pb_grpc.GaiwanAccessControlServicer):
    def __init__(self, engine: PolicyEngine, log: Logger,
                 announce: Callable[[str], int] = lambda subject: 0) -> None:
        """announce: tells whoever remembers decisions that the policy set changed, and returns
        once they forgot (`services.announcements`); how many were dropped for not answering."""
        self.engine = engine
        self._log = log
        self._announce = announce
        self._denials: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self._denials_lock = threading.Lock()

    def reload(self, config: Config, generation: int) -> None:
        """Loads the files again; an invalid set is refused and the current one kept. A new set
        is reported loaded once every frontend forgot the decisions of the old one."""
        try:
            engine = load_engine(config, self._log)
        except ConfigError as exc:
            self._log.error("policy reload refused, previous policies stay in force",
                            reason=exc.message)
            write_status(config, generation, self.engine, exc.message)
            return
        self.engine = engine
        dropped = self._announce(engine.policy_set)
        if dropped:
            self._log.warning("frontends that did not acknowledge the new policies were dropped",
                              dropped=dropped)
        write_status(config, generation, engine)

    def Authorize(self, request: pb.AuthorizeRequest, context: grpc.ServicerContext
                  ) -> pb.AuthorizeResponse:
        decision = self.engine.decide([_request(request)], request.entities_json or "[]")[0]
        answer = self._answer(request, decision)
        answer.policy_set = decision.policy_set
        return answer

    def AuthorizeBatch(self, request: pb.AuthorizeBatchRequest, context: grpc.ServicerContext
                       ) -> pb.AuthorizeBatchResponse:
        questions = request.questions
        if not questions:
            return pb.AuthorizeBatchResponse()
        decisions = self.engine.decide([_request(q) for q in questions], request.entities_json or "[]")
        return pb.AuthorizeBatchResponse(decisions=[self._answer(q, d) for q, d in zip(questions, decisions)],
                                         policy_set=decisions[0].policy_set)

    def DeniedBy(self, request: pb.DeniedByRequest, context: grpc.ServicerContext
                 ) -> pb.DeniedByResponse:
        with self._denials_lock:
            policy_ids = self._denials.get(request.decision_id)
        if policy_ids is None:
            return pb.DeniedByResponse(known=False)
        return pb.DeniedByResponse(known=True, policy_ids=policy_ids)

    def _remember(self, decision_id: str, policy_ids: tuple[str, ...]) -> None:
        with self._denials_lock:
            self._denials[decision_id] = policy_ids
            while len(self._denials) > RECENT_DENIALS:
                self._denials.popitem(last=False)

    def _answer(self, question: pb.Question | pb.AuthorizeRequest, decision: Decision
                ) -> pb.AuthorizeResponse:
        if decision.errors:
            self._log.warning("policy evaluation errors", action=question.action,
                              errors=len(decision.errors), first=decision.errors[0][:200])
        if decision.allowed:
            return pb.AuthorizeResponse(allowed=True, policy_ids=decision.policy_ids,
                                        errors=decision.errors)
        decision_id = f"d-{secrets.token_hex(6)}"
        self._log.info("authorization denied", decision_id=decision_id, action=question.action,
                       principal=f"{question.principal.type}::{question.principal.id}",
                       resource=f"{question.resource.type}::{question.resource.id}",
                       policies=",".join(decision.policy_ids) or "(none permits)",
                       policy_set=decision.policy_set)
        self._remember(decision_id, decision.policy_ids)
        return pb.AuthorizeResponse(allowed=False, policy_ids=decision.policy_ids,
                                    errors=decision.errors, decision_id=decision_id)


def _ref(ref: pb.EntityRef) -> dict[str, str]:
    return {"type": ref.type, "id": ref.id}


def _request(question: pb.Question | pb.AuthorizeRequest) -> dict[str, Any]:
    """A question in Cedar's form (as `Query.as_request` makes it)."""
    request: dict[str, Any] = {"principal": _ref(question.principal),
                               "action": {"type": ACTION_TYPE, "id": question.action},
                               "resource": _ref(question.resource)}
    if question.context_json and question.context_json != "{}":
        request["context"] = json.dumps(_context(question.context_json))
    return request


def _context(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidArgument("context_json is not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidArgument("context_json must be a JSON object")
    return value
