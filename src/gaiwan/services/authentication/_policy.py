"""Who may manage whom (spec §4): pure functions of roles, no storage and no I/O.

The spec gives the matrix for registration and says the same holders may update, reset, delete
and list. Read as least privilege:

| caller             | register               | update, reset, delete    | ListUsers{id}        |
|--------------------|------------------------|--------------------------|----------------------|
| PlatformAdmin      | any role               | anyone, to any role      | all users            |
| DataOwnerManager-s | DataOwner-s            | DataOwner-s, stays so    | DataOwner-s, id == s |
| FunctionOwner      | DataOwnerManager-<any> | nobody                   | nobody               |
| DataOwner-s        | nobody                 | nobody                   | nobody               |

A FunctionOwner may create data-owner managers (so a function's owner can bring its data parties
onto the platform) but gains no power over the accounts it created: once registered, a manager
answers to the platform admin alone, which keeps a function owner from taking over the accounts of
the parties whose data its functions consume. Every caller changes its own password through
UserChangePassword, which needs no entry here.
"""

from __future__ import annotations

from ...errors import PermissionDenied
from ...roles import Role, RoleKind


def may_register(caller: Role, new_role: Role) -> bool:
    if caller.is_admin:
        return True
    if caller.kind is RoleKind.DATA_OWNER_MANAGER:
        return new_role == Role(RoleKind.DATA_OWNER, caller.attribute)
    if caller.kind is RoleKind.FUNCTION_OWNER:
        return new_role.kind is RoleKind.DATA_OWNER_MANAGER
    return False


def may_manage(caller: Role, target: Role) -> bool:
    """May `caller` reset the password of, or delete, a user whose current role is `target`."""
    if caller.is_admin:
        return True
    if caller.kind is RoleKind.DATA_OWNER_MANAGER:
        return target == Role(RoleKind.DATA_OWNER, caller.attribute)
    return False


def may_manage_anyone(caller: Role) -> bool:
    return caller.is_admin or caller.kind is RoleKind.DATA_OWNER_MANAGER


def list_scope(caller: Role, requested_id: str) -> Role | None:
    """The role whose users ListUsers{requested_id} shows the caller; None means every user.

    Raises PermissionDenied when the caller may list nothing, so no caller can mistake a denial
    for an empty list.
    """
    if caller.is_admin:
        return None
    if caller.kind is RoleKind.DATA_OWNER_MANAGER and requested_id == caller.attribute:
        return Role(RoleKind.DATA_OWNER, caller.attribute)
    raise PermissionDenied("not allowed to list these users")
