"""User roles (spec §4) and their string form, which travels in tokens and to management.

`DataOwnerManager-<attr>` and `DataOwner-<attr>` carry an attribute (a group, e.g. a bank);
UserRegister takes role and attribute separately and an unknown role is an error.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .errors import InvalidArgument


class RoleKind(enum.Enum):
    PLATFORM_ADMIN = "PlatformAdmin"
    FUNCTION_OWNER = "FunctionOwner"
    DATA_OWNER_MANAGER = "DataOwnerManager"
    DATA_OWNER = "DataOwner"


_WITH_ATTRIBUTE = (RoleKind.DATA_OWNER_MANAGER, RoleKind.DATA_OWNER)


@dataclass(frozen=True)
class Role:
    kind: RoleKind
    attribute: str = ""

    @classmethod
    def make(cls, role: str, attribute: str = "") -> "Role":
        """From UserRegister's separate role and attribute fields."""
        try:
            kind = RoleKind(role)
        except ValueError:
            raise InvalidArgument(f"unknown role {role!r}") from None
        if kind in _WITH_ATTRIBUTE:
            return cls(kind, attribute)
        return cls(kind, "")

    @classmethod
    def parse(cls, text: str) -> "Role":
        """From the string form (`DataOwner-bank_a`, `PlatformAdmin`)."""
        for kind in _WITH_ATTRIBUTE:
            prefix = kind.value + "-"
            if text.startswith(prefix):
                return cls(kind, text[len(prefix):])
        try:
            return cls(RoleKind(text), "")
        except ValueError:
            raise InvalidArgument(f"unknown role {text!r}") from None

    def __str__(self) -> str:
        if self.kind in _WITH_ATTRIBUTE:
            return f"{self.kind.value}-{self.attribute}"
        return self.kind.value

    @property
    def is_admin(self) -> bool:
        return self.kind is RoleKind.PLATFORM_ADMIN

    @property
    def is_data_owner(self) -> bool:
        """DataOwner or DataOwnerManager: the roles that own data and create tasks."""
        return self.kind in _WITH_ATTRIBUTE
