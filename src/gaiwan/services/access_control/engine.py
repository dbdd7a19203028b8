"""The policy engine: one Cedar schema, a set of policy files, and decisions over them.

Sans-IO apart from reading its files once: the engine is built from texts, validates every
policy file against the schema before anything is served (an invalid file stops the service and
is named in the error), and compiles the whole set once, so a decision costs one Cedar
evaluation and no parsing of policies.

Policy ids: Cedar numbers policies by position (`policy0`, ...), which collides across files and
changes when a file is edited. Every policy must therefore carry an `@id("...")` annotation,
unique across all files; the compiled set is keyed by these ids, so decisions name the policies
that decided in words an auditor can find in the files.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cedarpy

from ...errors import ConfigError, InvalidArgument

NAMESPACE = "Gaiwan"
ACTION_TYPE = f"{NAMESPACE}::Action"


@dataclass(frozen=True)
class EntityUid:
    """A Cedar entity reference, e.g. EntityUid("Gaiwan::User", "alice")."""

    type: str
    id: str

    def as_json(self) -> dict[str, str]:
        return {"type": self.type, "id": self.id}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    # The @id of each policy that decided: the permits when allowed, the forbids (or none, for
    # the default deny) when denied.
    policy_ids: tuple[str, ...] = ()
    # Policy evaluation errors (a policy that errs is skipped); never secret data.
    errors: tuple[str, ...] = ()


class PolicyEngine:
    def __init__(self, schema_text: str, policy_files: Mapping[str, str]) -> None:
        """policy_files: a name (the file's path, used in errors) -> its Cedar text."""
        try:
            self._schema = cedarpy.Schema.from_str(schema_text)
        except ValueError as exc:
            raise ConfigError(f"invalid Cedar schema: {_first_line(exc)}") from None
        static: dict[str, Any] = {}
        templates: dict[str, Any] = {}
        for name, text in policy_files.items():
            compiled = _compile_file(name, text, self._schema)
            for kind, target in (("staticPolicies", static), ("templates", templates)):
                for policy_id, policy in compiled.get(kind, {}).items():
                    if policy_id in static or policy_id in templates:
                        raise ConfigError(f"{name}: duplicate policy id {policy_id!r}")
                    target[policy_id] = policy
        self._policies = cedarpy.PolicySet.from_json_str(
            json.dumps({"staticPolicies": static, "templates": templates, "templateLinks": []}))
        self.policy_ids: tuple[str, ...] = tuple(sorted(static))

    @classmethod
    def load(cls, schema_path: Path, policy_paths: Iterable[Path]) -> "PolicyEngine":
        """Reads the files; a missing or unreadable file is a ConfigError naming it."""
        schema_text = _read(schema_path)
        return cls(schema_text, {str(p): _read(p) for p in policy_paths})

    def authorize(
        self,
        principal: EntityUid,
        action: str,
        resource: EntityUid,
        entities: str | list[dict[str, Any]],
        context: Mapping[str, Any] | None = None,
    ) -> Decision:
        """Evaluates one request. `action` is the id of a Gaiwan::Action (e.g. "get_task").

        Raises InvalidArgument when the request itself is wrong (unknown action, entity types the
        action does not apply to, entities or context that do not match the schema): that is a
        caller bug, not a denial.
        """
        text = entities if isinstance(entities, str) else json.dumps(entities)
        try:
            parsed = cedarpy.Entities.from_json_str(text, self._schema)
        except ValueError as exc:
            raise InvalidArgument(f"entities do not match the schema: {_first_line(exc)}") from None
        request = {
            "principal": principal.as_json(),
            "action": {"type": ACTION_TYPE, "id": action},
            "resource": resource.as_json(),
            "context": dict(context or {}),
        }
        result = cedarpy.is_authorized(request, self._policies, parsed, schema=self._schema)
        errors = tuple(str(e) for e in result.diagnostics.errors)
        if result.decision is cedarpy.Decision.NoDecision:
            raise InvalidArgument(errors[0] if errors else "invalid authorization request")
        return Decision(result.allowed, tuple(sorted(result.diagnostics.reasons)), errors)


def _compile_file(name: str, text: str, schema: cedarpy.Schema) -> dict[str, Any]:
    """Validates one file and returns its policies in Cedar JSON, keyed by their @id."""
    try:
        as_json = json.loads(cedarpy.policies_to_json_str(text))
    except ValueError as exc:
        raise ConfigError(f"{name}: cannot parse policies: {_first_line(exc)}") from None
    result = cedarpy.validate_policies(text, schema)
    if not result.validation_passed:
        names = result.id_annotations_by_policy_id
        problems = "; ".join(
            f"{names.get(e.policy_id, e.policy_id)}: {e.error}" if e.policy_id else e.error
            for e in result.errors
        )
        raise ConfigError(f"{name}: policies do not match the schema: {problems}")
    keyed: dict[str, Any] = {}
    for kind in ("staticPolicies", "templates"):
        section: dict[str, Any] = {}
        for position, policy in as_json.get(kind, {}).items():
            policy_id = policy.get("annotations", {}).get("id")
            if not policy_id:
                raise ConfigError(f"{name}: policy {position} has no @id(\"...\") annotation")
            if policy_id in section or policy_id in keyed.get("staticPolicies", {}):
                raise ConfigError(f"{name}: duplicate policy id {policy_id!r}")
            section[policy_id] = policy
        keyed[kind] = section
    return keyed


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
