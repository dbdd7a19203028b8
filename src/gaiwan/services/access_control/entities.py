"""How Gaiwan's principals and resources look to Cedar; every caller of the access control
service builds its entities here, so the shape matches the schema in one place."""

from __future__ import annotations

from typing import Any

from ...roles import Role
from .engine import NAMESPACE, EntityUid

USER_TYPE = f"{NAMESPACE}::User"
ROLE_TYPE = f"{NAMESPACE}::Role"
API_TYPE = f"{NAMESPACE}::Api"

FRONTEND_API = EntityUid(API_TYPE, "frontend")
"""The resource of the per-call API checks (spec §5)."""


def user_uid(user_id: str) -> EntityUid:
    return EntityUid(USER_TYPE, user_id)


def user_entity(user_id: str, role: Role) -> dict[str, Any]:
    """The user as a Cedar entity: its role kind and attribute, and membership in its Role group
    (so DataOwner-bank_a is `in Gaiwan::Role::"DataOwner"` with attribute "bank_a")."""
    return {
        "uid": user_uid(user_id).as_json(),
        "attrs": {"role": role.kind.value, "attribute": role.attribute},
        "parents": [{"type": ROLE_TYPE, "id": role.kind.value}],
    }
