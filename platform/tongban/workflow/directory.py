"""Who acts, read from the database: memberships, the department tree, regions, delegations.

The engine asks a :class:`Directory` (its Protocol) and never sees a session. This one answers
from the request's session and keeps what it read for the rest of one operation, so a node that
resolves many people costs one query per question, not one per person.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from ..models import Delegation, Department, Membership, Role, User
from ..policy import DepartmentTree


class DbDirectory:
    """The engine's Directory over one session; built per operation (it caches what it reads)."""

    def __init__(self, session: Session):
        self.session = session
        self._tree: DepartmentTree | None = None
        self._members: list[tuple[int, str, str | None]] | None = None
        self._regions: dict[str, str] | None = None

    def tree(self) -> DepartmentTree:
        if self._tree is None:
            self._tree = DepartmentTree.load(self.session)
        return self._tree

    def _memberships(self) -> list[tuple[int, str, str | None]]:
        """(user id, role, department code or None) of every active account's staff roles."""
        if self._members is None:
            rows = self.session.execute(
                select(col(Membership.user_id), col(Membership.role), col(Department.code))
                .join(User, col(User.id) == col(Membership.user_id))
                .outerjoin(Department, col(Department.id) == col(Membership.department_id))
                .where(col(User.is_active))
                .order_by(col(Membership.user_id))).all()
            self._members = [(row[0], row[1], row[2]) for row in rows]
        return self._members

    def users_with(self, role: str, departments: frozenset[str]) -> list[int]:
        """Users holding ``role`` in a department that is, or is above, one of ``departments``
        (a membership covers its sub-departments); a membership without a department covers
        every department. In id order, each once."""
        tree = self.tree()
        found: list[int] = []
        for user_id, held, department in self._memberships():
            if held != role or user_id in found:
                continue
            if department is None or tree.under(department) & departments:
                found.append(user_id)
        return found

    def department_admins(self, department: str) -> list[int]:
        return self.users_with(Role.DEPARTMENT_ADMIN.value, frozenset({department}))

    def user_id(self, username: str) -> int | None:
        found: int | None = self.session.execute(
            select(col(User.id)).where(col(User.username) == username,
                                       col(User.is_active))).scalar()
        return found

    def department_for_region(self, region: str, under: str) -> str | None:
        """The department below ``under`` whose region is the first 6 digits of ``region``
        (a district's administrative code); None when no department serves it."""
        if self._regions is None:
            rows = self.session.execute(select(col(Department.code), col(Department.region))
                                        .where(col(Department.region).is_not(None))).all()
            self._regions = {row[0]: row[1] for row in rows}
        district = str(region)[:6]
        matches = sorted(code for code in self.tree().under(under)
                         if self._regions.get(code) == district)
        return matches[0] if matches else None

    def delegate_of(self, user_id: int, at: datetime) -> int | None:
        """The delegate of ``user_id`` for work created at ``at``: the latest delegation whose
        window [starts_at, ends_at) holds ``at`` and that was not cancelled."""
        found: int | None = self.session.execute(
            select(col(Delegation.delegate_id))
            .join(User, col(User.id) == col(Delegation.delegate_id))
            .where(col(Delegation.user_id) == user_id, col(Delegation.cancelled).is_(False),
                   col(Delegation.starts_at) <= at, col(Delegation.ends_at) > at,
                   col(User.is_active))
            .order_by(col(Delegation.created_at).desc(), col(Delegation.id).desc())
            .limit(1)).scalar()
        return found

    def memberships(self, user_id: int) -> frozenset[tuple[str, str | None]]:
        return frozenset((role, department) for uid, role, department in self._memberships()
                         if uid == user_id)
