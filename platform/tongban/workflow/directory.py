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
    """The engine's Directory over one session; built per operation (it caches what it reads:
    the holders of each role asked about, the roles of each user asked about)."""

    def __init__(self, session: Session):
        self.session = session
        self._tree: DepartmentTree | None = None
        self._by_role: dict[str, list[tuple[int, str | None]]] = {}
        self._by_user: dict[int, frozenset[tuple[str, str | None]]] = {}
        self._regions: dict[str, str] | None = None

    def tree(self) -> DepartmentTree:
        if self._tree is None:
            self._tree = DepartmentTree.load(self.session)
        return self._tree

    def _holders(self, role: str) -> list[tuple[int, str | None]]:
        """(user id, department code or None) of the active accounts holding ``role``."""
        found = self._by_role.get(role)
        if found is None:
            rows = self.session.execute(
                select(col(Membership.user_id), col(Department.code))
                .join(User, col(User.id) == col(Membership.user_id))
                .outerjoin(Department, col(Department.id) == col(Membership.department_id))
                .where(col(Membership.role) == role, col(User.is_active))
                .order_by(col(Membership.user_id))).all()
            found = self._by_role[role] = [(row[0], row[1]) for row in rows]
        return found

    def users_with(self, role: str, departments: frozenset[str]) -> list[int]:
        """Users holding ``role`` in a department that is, or is above, one of ``departments``
        (a membership covers its sub-departments); a membership without a department covers
        every department. In id order, each once."""
        tree = self.tree()
        found: list[int] = []
        for user_id, department in self._holders(role):
            if user_id in found:
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
        found = self._by_user.get(user_id)
        if found is None:
            rows = self.session.execute(
                select(col(Membership.role), col(Department.code))
                .join(User, col(User.id) == col(Membership.user_id))
                .outerjoin(Department, col(Department.id) == col(Membership.department_id))
                .where(col(Membership.user_id) == user_id, col(User.is_active))).all()
            found = self._by_user[user_id] = frozenset((row[0], row[1]) for row in rows)
        return found
