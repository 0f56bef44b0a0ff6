"""Roles and the authenticated caller every protected route receives."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ml_platform.errors import ForbiddenError


class Role(StrEnum):
    """What a caller may do; each role includes the ones before it."""

    VIEWER = "viewer"  # reads and logs
    EDITOR = "editor"  # also create, stop, delete jobs
    ADMIN = "admin"  # everything, including the cluster resources proxy

    @property
    def rank(self) -> int:
        """Position in viewer < editor < admin."""
        return _RANKS[self]


_RANKS = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2}


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: a name (logged and stored as ``createdBy``), a role, and the
    namespaces it may touch (None: every namespace)."""

    name: str
    role: Role
    namespaces: frozenset[str] | None = None

    def has_role(self, role: Role) -> bool:
        """Whether the caller's role includes ``role``."""
        return self.role.rank >= role.rank

    def may_touch(self, namespace: str) -> bool:
        """Whether the caller may act in ``namespace``."""
        return self.namespaces is None or namespace in self.namespaces

    def require_role(self, role: Role) -> None:
        """403 unless the caller's role includes ``role``."""
        if not self.has_role(role):
            raise ForbiddenError(
                f"{self.name!r} has role {self.role}; this needs {role}",
                {"caller": self.name, "role": str(self.role), "required": str(role)},
            )

    def require_namespace(self, namespace: str) -> None:
        """403 unless the caller may act in ``namespace``."""
        if not self.may_touch(namespace):
            raise ForbiddenError(
                f"{self.name!r} may not use namespace {namespace!r}",
                {"caller": self.name, "namespace": namespace, "allowed": self.allowed()},
            )

    def allowed(self) -> list[str] | None:
        """The caller's namespaces, sorted (None: every namespace)."""
        return None if self.namespaces is None else sorted(self.namespaces)


# The caller of every request when the service runs without authentication (explicitly allowed).
ANONYMOUS = Caller(name="anonymous", role=Role.ADMIN, namespaces=None)


def merged_grants(name: str, grants: Iterable[tuple[Role, frozenset[str] | None]]) -> Caller | None:
    """One caller from several grants (e.g. OIDC groups), or None without any: the highest
    role, in the namespaces of the grants giving that role (every namespace when one of them is
    unscoped). Lower grants never widen it, so no namespace gets a role nobody granted there."""
    grants = list(grants)
    if not grants:
        return None
    role = max((role for role, _ in grants), key=lambda r: r.rank)
    scopes = [namespaces for granted, namespaces in grants if granted is role]
    namespaces: frozenset[str] | None = frozenset()
    for scope in scopes:
        namespaces = None if scope is None or namespaces is None else namespaces | scope
    return Caller(name=name, role=role, namespaces=namespaces)
