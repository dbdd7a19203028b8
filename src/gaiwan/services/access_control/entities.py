"""How Gaiwan's principals and resources look to Cedar; every caller of the access control
service builds its entities here, so the shape matches the schema in one place.

Records go in, Cedar JSON entities come out. `Entities` gathers what one request needs
(each entity once, the first version added winning), so a management call builds them once and
asks all its questions over them in one Authorize call.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from ...records import DataFile, Function, Task
from ...roles import Role
from .engine import NAMESPACE, Decision, EntityUid, Query

USER_TYPE = f"{NAMESPACE}::User"
ROLE_TYPE = f"{NAMESPACE}::Role"
API_TYPE = f"{NAMESPACE}::Api"
FUNCTION_TYPE = f"{NAMESPACE}::Function"
DATA_TYPE = f"{NAMESPACE}::Data"
TASK_TYPE = f"{NAMESPACE}::Task"

FRONTEND_API = EntityUid(API_TYPE, "frontend")
"""The resource of the per-call API checks (spec §5)."""

Entity = dict[str, Any]


def user_uid(user_id: str) -> EntityUid:
    return EntityUid(USER_TYPE, user_id)


def function_uid(function_id: str) -> EntityUid:
    return EntityUid(FUNCTION_TYPE, function_id)


def data_uid(data_id: str) -> EntityUid:
    return EntityUid(DATA_TYPE, data_id)


def task_uid(task_id: str) -> EntityUid:
    return EntityUid(TASK_TYPE, task_id)


def _ids(ids: Iterable[str]) -> list[str]:
    """A Cedar set of ids (users or data items), each once, in a stable order."""
    return list(dict.fromkeys(ids))


def user_entity(user_id: str, role: Role | None) -> Entity:
    """The user as a Cedar entity: its role kind and attribute, and membership in its Role group
    (so DataOwner-bank_a is `in Gaiwan::Role::"DataOwner"` with attribute "bank_a"). A user whose
    role is unknown here (role None) belongs to no group and has no attribute."""
    return {
        "uid": user_uid(user_id).as_json(),
        "attrs": {"id": user_id, "role": role.kind.value if role else "",
                  "attribute": role.attribute if role else ""},
        "parents": [{"type": ROLE_TYPE, "id": role.kind.value}] if role else [],
    }


def function_entity(function: Function) -> Entity:
    """The function, with the role its owner registered it under."""
    owner_role = Role.parse(function.owner_role) if function.owner_role else None
    return {
        "uid": function_uid(function.function_id).as_json(),
        "attrs": {
            "owner": function.owner,
            "owner_role": owner_role.kind.value if owner_role else "",
            "owner_attribute": owner_role.attribute if owner_role else "",
            "public": function.public,
            "allowlist": list(dict.fromkeys(function.user_allowlist)),
            "disabled": function.disabled,
        },
        "parents": [],
    }


def data_entity(file: DataFile) -> Entity:
    return {
        "uid": data_uid(file.data_id).as_json(),
        "attrs": {"id": file.data_id, "owners": _ids(file.owners), "kind": file.kind,
                  "fusion": file.fusion, "tags": list(file.tags)},
        "parents": [],
    }


def approvers_of(task: Task) -> tuple[str, ...]:
    """Who approved; the single participant of a task that needs no approval counts as one."""
    if len(task.participants) == 1:
        return task.participants
    return task.approved_users


def task_entity(task: Task) -> Entity:
    return {
        "uid": task_uid(task.task_id).as_json(),
        "attrs": {
            "creator": task.creator,
            "participants": _ids(task.participants),
            "approvers": _ids(approvers_of(task)),
            "function": function_uid(task.function_id).as_json(),
            "inputs": _ids(sorted(task.assigned_inputs.values())),
            "outputs": _ids(sorted(task.assigned_outputs.values())),
            "status": task.status.name.title().replace("_", ""),
        },
        "parents": [],
    }


class Entities:
    """The entities of one request, each once (the first one added for a uid is kept)."""

    def __init__(self) -> None:
        self._by_uid: dict[tuple[str, str], Entity] = {}

    def add(self, *entities: Entity) -> "Entities":
        for entity in entities:
            uid = entity["uid"]
            self._by_uid.setdefault((uid["type"], uid["id"]), entity)
        return self

    def as_list(self) -> list[Entity]:
        return list(self._by_uid.values())


def run_request(task: Task, function: Function, files: Iterable[DataFile]) -> tuple[list[Query], Entities]:
    """The questions a task's run raises (InvokeTask, and the scheduler before it runs): may the
    task use its function, and each of its data items? One batch over one set of entities."""
    task_id = task_uid(task.task_id)
    entities = Entities().add(task_entity(task), function_entity(function))
    queries = [Query(task_id, "task_access_function", function_uid(function.function_id))]
    for file in files:
        entities.add(data_entity(file))
        queries.append(Query(task_id, "task_access_data", data_uid(file.data_id)))
    return queries, entities


def digest(entities: Iterable[Entity]) -> str:
    """Names a set of entities by its content, in any order: Cedar decides the same questions
    the same way over two sets with one digest, under one policy set."""
    texts = sorted(json.dumps(e, sort_keys=True, separators=(",", ":")) for e in entities)
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()


def run_basis(decisions: Iterable[Decision], entities: Iterable[Entity]) -> str:
    """What a run allowed by `decisions` over `entities` may be dispatched on without asking
    again: the policy set that decided and the entities' digest ("" if any was refused, or the
    policy set is unknown)."""
    decided = list(decisions)
    policy_sets = {d.policy_set for d in decided}
    if not decided or not all(d.allowed for d in decided) or len(policy_sets) != 1 or "" in policy_sets:
        return ""
    return f"{policy_sets.pop()}:{digest(entities)}"
