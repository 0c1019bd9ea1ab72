"""Who may administer whom: a platform administrator everyone, a department administrator the
staff of their departments (and the departments below them), never a platform administrator."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..models import Role
from ..policy import Actor, DepartmentTree, departments

STAFF_ROLES = frozenset({Role.COUNTER_CLERK, Role.REVIEWER, Role.DEPARTMENT_ADMIN,
                         Role.PLATFORM_ADMIN})
ADMIN_ROLES = frozenset({Role.DEPARTMENT_ADMIN, Role.PLATFORM_ADMIN})


def N_(message: str) -> str:  # marks a message for pybabel; translated by the web layer
    return message


class StaffRefused(Exception):
    """A refusal with a user-facing message: ``message % params`` is the English text."""

    def __init__(self, message: str, *, status: int = 422, **params: Any) -> None:
        self.message, self.status, self.params = message, status, params
        super().__init__(message % params if params else message)


def admin_departments(actor: Actor, tree: DepartmentTree) -> frozenset[str] | None:
    """The departments the actor administers; None means every one (a platform admin)."""
    return departments(actor, ADMIN_ROLES, tree)


def is_staff(memberships: Iterable[tuple[str, str | None]]) -> bool:
    return any(Role(role) in STAFF_ROLES for role, _department in memberships)


def sees(actor: Actor, tree: DepartmentTree,
         memberships: Iterable[tuple[str, str | None]]) -> bool:
    """An administrator sees a user who holds a role in one of their departments."""
    scope = admin_departments(actor, tree)
    return scope is None or any(dept in scope for _role, dept in memberships if dept)


def manages(actor: Actor, tree: DepartmentTree,
            memberships: Iterable[tuple[str, str | None]]) -> bool:
    """Deactivating or resetting a user's password or second factor touches all they do:
    a department administrator may do it only when every staff role of theirs lies within the
    administrator's departments (and none is platform administrator)."""
    scope = admin_departments(actor, tree)
    if scope is None:
        return True
    staff = [(Role(role), dept) for role, dept in memberships if Role(role) in STAFF_ROLES]
    return bool(staff) and all(role is not Role.PLATFORM_ADMIN and dept is not None
                               and dept in scope for role, dept in staff)


def check_grant(actor: Actor, tree: DepartmentTree, role: Role, department: str | None) -> None:
    """Raise StaffRefused unless the actor may grant (or remove) ``role`` in ``department``."""
    scope = admin_departments(actor, tree)
    if scope is None:
        return
    if role is Role.PLATFORM_ADMIN:
        raise StaffRefused(N_("Only a platform administrator may grant or remove the platform "
                              "administrator role."), status=403)
    if department is None:
        raise StaffRefused(N_("Choose a department: you may grant roles only within your "
                              "departments."), status=403)
    if department not in scope:
        raise StaffRefused(N_("You may grant roles only within your departments; %(department)s "
                              "is not one of them."), status=403, department=department)
