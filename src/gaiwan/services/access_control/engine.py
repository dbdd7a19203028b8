"""The policy engine: one Cedar schema, a set of policy files, and decisions over them.

Sans-IO apart from reading its files once: the engine is built from texts, validates every
policy file against the schema before anything is served (an invalid file is refused with its
name and the line of the offending policy), and compiles the whole set once, so a decision
costs one Cedar evaluation and no parsing of policies. `authorize_all` answers several
questions over one set of entities, parsed once: what one management call needs is one request.

Policy ids: Cedar numbers policies by position (`policy0`, ...), which collides across files and
changes when a file is edited. Every policy must therefore carry an `@id("...")` annotation,
unique across all files; the compiled set is keyed by these ids, so decisions name the policies
that decided in words an auditor can find in the files (`origin` says which file and line).

Cost: Cedar evaluates every policy of the set for every request, and most policies are about
other actions. The engine therefore asks a batch's questions against the policies whose action
scope can match one of the batch's actions (`action == A`, `action in [A, group-of-A]`,
unconstrained), a set compiled once per combination of actions, in one Cedar call. A policy left
out could never be satisfied nor err for those actions (Cedar checks the scope before the
conditions), so the decisions, the deciding policy ids and the errors are those of the whole
set.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

import cedarpy

from ...errors import ConfigError, InvalidArgument
from ._source import statements

NAMESPACE = "Gaiwan"
ACTION_TYPE = f"{NAMESPACE}::Action"
_MAX_COMBINATIONS = 1024
_CEDARPY = version("cedarpy")


# The value types below are NamedTuples, not frozen dataclasses: a management call makes a
# dozen of them and a frozen dataclass costs several times as much to construct.

class EntityUid(NamedTuple):
    """A Cedar entity reference, e.g. EntityUid("Gaiwan::User", "alice")."""

    type: str
    id: str

    def as_json(self) -> dict[str, str]:
        return {"type": self.type, "id": self.id}


_NO_CONTEXT: Mapping[str, Any] = MappingProxyType({})


class Query(NamedTuple):
    """One question: may `principal` take `action` on `resource` (in `context`)?"""

    principal: EntityUid
    action: str
    resource: EntityUid
    context: Mapping[str, Any] = _NO_CONTEXT

    def as_request(self) -> dict[str, Any]:
        request = {
            "principal": {"type": self.principal.type, "id": self.principal.id},
            "action": {"type": ACTION_TYPE, "id": self.action},
            "resource": {"type": self.resource.type, "id": self.resource.id},
        }
        if self.context:  # Cedar parses even an empty context; most questions have none
            request["context"] = json.dumps(dict(self.context))
        return request


class Decision(NamedTuple):
    allowed: bool
    # The @id of each policy that decided: the permits when allowed, the forbids (or none, for
    # the default deny) when denied.
    policy_ids: tuple[str, ...] = ()
    # Policy evaluation errors (a policy that errs is skipped); never secret data.
    errors: tuple[str, ...] = ()
    # Set by the access control service on a denial: the reference under which it audited it.
    decision_id: str = ""
    # The fingerprint of the policy set that decided (`PolicyEngine.policy_set`).
    policy_set: str = ""


class Authorizer(Protocol):
    """What asks for decisions needs: the engine in-process, or the service's client."""

    def authorize_all(self, queries: Sequence[Query],
                      entities: list[dict[str, Any]]) -> list[Decision]: ...


def first_denial(decisions: Sequence[Decision]) -> Decision | None:
    return next((d for d in decisions if not d.allowed), None)


@dataclass(frozen=True)
class Origin:
    """Where a policy is written."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class PolicyEngine:
    def __init__(self, schema_text: str, policy_files: Mapping[str, str]) -> None:
        """policy_files: a name (the file's path, used in errors) -> its Cedar text."""
        try:
            self._schema = cedarpy.Schema.from_str(schema_text)
        except ValueError as exc:
            raise ConfigError(f"invalid Cedar schema: {_first_line(exc)}") from None
        static: dict[str, Any] = {}
        self._origins: dict[str, Origin] = {}
        for name, text in policy_files.items():
            for policy_id, (policy, origin) in _compile_file(name, text, self._schema).items():
                if policy_id in static:
                    raise ConfigError(f"{origin}: duplicate policy id {policy_id!r} "
                                      f"(also at {self._origins[policy_id]})")
                static[policy_id] = policy
                self._origins[policy_id] = origin
        self._static = static
        self._lineages = _action_lineages(self._schema)
        self._policies = _policy_set(static)
        self._for_actions: dict[frozenset[str], Any] = {}
        self._lock = threading.Lock()
        self.policy_ids: tuple[str, ...] = tuple(sorted(static))
        self.policy_set = fingerprint(schema_text, policy_files)

    @classmethod
    def load(cls, schema_path: Path, policy_paths: Iterable[Path]) -> "PolicyEngine":
        """Reads the files; a missing or unreadable file is a ConfigError naming it."""
        schema_text = _read(schema_path)
        return cls(schema_text, {str(p): _read(p) for p in policy_paths})

    def origin(self, policy_id: str) -> Origin | None:
        return self._origins.get(policy_id)

    def authorize(
        self,
        principal: EntityUid,
        action: str,
        resource: EntityUid,
        entities: str | list[dict[str, Any]],
        context: Mapping[str, Any] | None = None,
    ) -> Decision:
        """Evaluates one request. `action` is the id of a Gaiwan::Action (e.g. "get_task")."""
        return self.authorize_all([Query(principal, action, resource, context or {})], entities)[0]

    def authorize_all(self, queries: Sequence[Query],
                      entities: str | list[dict[str, Any]]) -> list[Decision]:
        """One decision per query, in order, all over the same entities (parsed once).

        Raises InvalidArgument when a request itself is wrong (unknown action, entity types the
        action does not apply to, entities or context that do not match the schema): that is a
        caller bug, not a denial.
        """
        text = entities if isinstance(entities, str) else json.dumps(entities)
        return self.decide([q.as_request() for q in queries], text)

    def decide(self, requests: Sequence[dict[str, Any]], entities: str) -> list[Decision]:
        """authorize_all over requests already in Cedar's form (`Query.as_request`), for a
        caller that has them so: the service builds them straight from its messages.

        Calls the extension's batch function under cedarpy's public wrapper, which turns every
        answer into objects we would only read three fields of: a tenth of an InvokeTask
        decision. cedarpy is pinned, and test_engine checks these decisions against the
        wrapper's, so a release that changes the answers' form fails there first.
        """
        try:
            parsed = cedarpy.Entities.from_json_str(entities, self._schema)
        except ValueError as exc:
            raise InvalidArgument(f"entities do not match the schema: {_first_line(exc)}") from None
        policies = self._policies_for(frozenset(r["action"]["id"] for r in requests))
        answers = cedarpy._internal.is_authorized_batch(list(requests), policies, parsed._inner,
                                                        self._schema, False)
        decisions = []
        for answer in json.loads("[" + ",".join(answers) + "]"):
            diagnostics = answer["diagnostics"]
            errors = tuple(map(str, diagnostics["errors"]))
            if answer["decision"] == "NoDecision":
                raise InvalidArgument(errors[0] if errors else "invalid authorization request")
            decisions.append(Decision(answer["decision"] == "Allow",
                                      tuple(sorted(diagnostics["reason"])), errors,
                                      policy_set=self.policy_set))
        return decisions

    def _policies_for(self, actions: frozenset[str]) -> Any:
        """The policies that can match any of `actions`, compiled on first use (a handful of
        combinations occur: one per kind of call). An undeclared action gets the whole set;
        the schema then refuses the request."""
        found = self._for_actions.get(actions)
        if found is not None:
            return found
        if not actions <= self._lineages.keys():
            return self._policies
        subset = _policy_set({pid: p for pid, p in self._static.items()
                              if any(_may_match(p.get("action", {}), a, self._lineages[a])
                                     for a in actions)})
        with self._lock:
            if len(self._for_actions) >= _MAX_COMBINATIONS:
                self._for_actions.clear()
            return self._for_actions.setdefault(actions, subset)


def fingerprint(schema_text: str, policy_files: Mapping[str, str]) -> str:
    """Names a policy set by what decides: the Cedar version, the schema and every file. Equal
    fingerprints give equal decisions over equal entities, across restarts of the service."""
    digest = hashlib.sha256(f"cedarpy {_CEDARPY}\0{schema_text}".encode())
    for name, text in sorted(policy_files.items()):
        digest.update(f"\0{name}\0{text}".encode())
    return digest.hexdigest()[:32]


def _policy_set(static: Mapping[str, Any]) -> Any:
    return cedarpy.PolicySet.from_json_str(
        json.dumps({"staticPolicies": dict(static), "templates": {}, "templateLinks": []}))


def _action_lineages(schema: Any) -> dict[str, frozenset[str]]:
    """Each action the schema declares -> itself and every action group it is in."""
    parents: dict[str, set[str]] = {}
    for entity in json.loads(str(cedarpy.Entities.from_json_str("[]", schema))):
        if entity["uid"]["type"] == ACTION_TYPE:
            parents[entity["uid"]["id"]] = {p["id"] for p in entity.get("parents", ())
                                            if p.get("type") == ACTION_TYPE}
    lineages = {}
    for action in parents:
        seen, todo = {action}, [action]
        while todo:
            for parent in parents.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        lineages[action] = frozenset(seen)
    return lineages


def _may_match(scope: Mapping[str, Any], action: str, lineage: frozenset[str]) -> bool:
    """Whether a policy's action scope (Cedar JSON) can match `action`, whose lineage is itself
    and its groups; a form not understood here counts as a match, so no policy is wrongly left
    out."""
    op = scope.get("op")
    if op == "==":
        target = _action_id(scope.get("entity"))
        return target is None or target == action
    if op == "in":
        targets = scope["entities"] if "entities" in scope else [scope.get("entity")]
        ids = [_action_id(t) for t in targets]
        return any(i is None or i in lineage for i in ids)
    return True  # "All", or anything newer


def _action_id(entity: Any) -> str | None:
    """The id of an action reference; None for a form not understood here."""
    if isinstance(entity, Mapping) and entity.get("type") == ACTION_TYPE and isinstance(entity.get("id"), str):
        return str(entity["id"])
    return None


def _compile_file(name: str, text: str, schema: cedarpy.Schema) -> dict[str, tuple[Any, Origin]]:
    """Validates one file; its policies in Cedar JSON with where each starts, keyed by @id."""
    parts = statements(text)
    try:
        as_json = json.loads(cedarpy.policies_to_json_str(text))
    except ValueError as exc:
        raise ConfigError(f"{_broken_statement(name, parts)}: cannot parse policy: "
                          f"{_first_line(exc)}") from None
    origins = [Origin(name, part.line) for part in parts]
    result = cedarpy.validate_policies(text, schema)
    if not result.validation_passed:
        problems = [f"{_at(origins, e.policy_id, name)}: {e.error}" for e in result.errors]
        raise ConfigError("policies do not match the schema: " + "; ".join(problems))
    if as_json.get("templates"):
        raise ConfigError(f"{name}: policy templates are not supported")
    keyed: dict[str, tuple[Any, Origin]] = {}
    for position, policy in as_json.get("staticPolicies", {}).items():
        origin = _origin(origins, position, name)
        policy_id = policy.get("annotations", {}).get("id")
        if not policy_id:
            raise ConfigError(f"{origin}: policy has no @id(\"...\") annotation")
        if policy_id in keyed:
            raise ConfigError(f"{origin}: duplicate policy id {policy_id!r}")
        keyed[policy_id] = (policy, origin)
    return keyed


def _origin(origins: list[Origin], position: str, name: str) -> Origin:
    """Cedar's `policy<n>` is the n-th statement of the file."""
    index = int(position[len("policy"):]) if position.startswith("policy") else -1
    return origins[index] if 0 <= index < len(origins) else Origin(name, 0)


def _at(origins: list[Origin], position: str | None, name: str) -> str:
    return str(_origin(origins, position, name)) if position else name


def _broken_statement(name: str, parts: list[Any]) -> str:
    """`file:line` of the first statement that does not parse on its own."""
    for part in parts:
        if not part.terminated:
            return f"{name}:{part.line}"
        try:
            cedarpy.policies_to_json_str(part.text)
        except ValueError:
            return f"{name}:{part.line}"
    return name


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
