"""An in-memory :class:`~tongban.workflow.engine.Directory` for tests, the test bench and the
benchmark: users with their memberships, the department tree and delegations, no database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from ..policy import DepartmentTree

DEPARTMENT_ADMIN = "department_admin"


@dataclass(frozen=True)
class MemoryDelegation:
    user_id: int
    delegate_id: int
    starts_at: datetime
    ends_at: datetime


class InMemoryDirectory:
    """Answers the engine's who-acts questions from plain data.

    ``departments`` maps a code to (parent code, region or None); ``users`` maps a username to
    (id, memberships as (role, department code or None)), or to just an id for a user with no
    staff role.
    """

    def __init__(self, departments: Mapping[str, tuple[str | None, str | None]] | None = None,
                 users: Mapping[str, int | tuple[int, Iterable[tuple[str, str | None]]]]
                 | None = None,
                 delegations: Iterable[MemoryDelegation] = ()):
        self.departments = dict(departments or {})
        self._tree = DepartmentTree.from_parents(
            {code: parent for code, (parent, _region) in self.departments.items()})
        self.ids: dict[str, int] = {}
        self.names: dict[int, str] = {}
        self.members: dict[int, frozenset[tuple[str, str | None]]] = {}
        for username, user in (users or {}).items():
            if isinstance(user, int):
                self.add_user(username, user)
            else:
                self.add_user(username, *user)
        self.delegations = list(delegations)
        self._users_with: dict[tuple[str, frozenset[str]], list[int]] = {}

    def add_user(self, username: str, user_id: int,
                 memberships: Iterable[tuple[str, str | None]] = ()) -> int:
        self.ids[username] = user_id
        self.names[user_id] = username
        self.members[user_id] = frozenset((role, dept) for role, dept in memberships)
        self._users_with = {}
        return user_id

    def delegate(self, user_id: int, delegate_id: int, starts_at: datetime,
                 ends_at: datetime) -> None:
        self.delegations.append(MemoryDelegation(user_id, delegate_id, starts_at, ends_at))

    # --- the Directory protocol ---

    def tree(self) -> DepartmentTree:
        return self._tree

    def users_with(self, role: str, departments: frozenset[str]) -> list[int]:
        """Users holding ``role`` in a department that is, or is above, one of ``departments``;
        a membership without a department covers all. In id order, each once."""
        key = (role, departments)
        found = self._users_with.get(key)
        if found is None:
            found = sorted(
                user_id for user_id, memberships in self.members.items()
                if any(held == role and (dept is None or self._tree.under(dept) & departments)
                       for held, dept in memberships))
            self._users_with[key] = found
        return list(found)

    def department_admins(self, department: str) -> list[int]:
        return self.users_with(DEPARTMENT_ADMIN, frozenset({department}))

    def user_id(self, username: str) -> int | None:
        return self.ids.get(username)

    def department_for_region(self, region: str, under: str) -> str | None:
        district = str(region)[:6]
        matches = sorted(code for code in self._tree.under(under)
                         if self.departments.get(code, (None, None))[1] == district)
        return matches[0] if matches else None

    def delegate_of(self, user_id: int, at: datetime) -> int | None:
        found = None
        for delegation in self.delegations:  # the latest matching one wins
            if delegation.user_id == user_id and delegation.starts_at <= at < delegation.ends_at:
                found = delegation.delegate_id
        return found

    def memberships(self, user_id: int) -> frozenset[tuple[str, str | None]]:
        return self.members.get(user_id, frozenset())
