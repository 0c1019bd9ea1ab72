"""Who may see or act on what: the access rules as plain functions of actor, action and object.

Views, the coming flow engine, the worker and the CLI all ask here, so nothing in this module
knows about a request: the caller describes the user as an :class:`Actor` (what a visitor's
session holds included) and passes the :class:`DepartmentTree` it loaded once.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, select, true
from sqlmodel import Session, col

from .models import Application, Department, Draft, Role, StoredUpload


class Action(enum.StrEnum):
    VIEW = "view"                        # read a draft's pages or an application's confirmation
    EDIT = "edit"                        # fill in a draft: save a page, upload a file
    SUBMIT = "submit"                    # turn a draft into an application
    OPEN = "open"                        # open a stored file
    REVIEW = "review"                    # work on an application as its department
    LIST = "list"                        # see the review list (filtered by review_filter)
    START = "start"                      # start a service as the applicant
    START_ON_BEHALF = "start_on_behalf"  # start a service for someone at the counter


# Roles that see a department's applications; a platform administrator sees every department
# whatever department, if any, the membership names: it is a platform role, not a local one.
REVIEW_ROLES = frozenset({Role.REVIEWER, Role.DEPARTMENT_ADMIN, Role.PLATFORM_ADMIN})
EVERYWHERE_ROLES = frozenset({Role.PLATFORM_ADMIN})
# A service's audience names the role an applicant must hold to start it as themselves.
AUDIENCE_ROLES = {"citizen": Role.CITIZEN, "enterprise": Role.ENTERPRISE}
DEFAULT_AUDIENCE = ("citizen",)


@dataclass(frozen=True)
class Actor:
    """A user, or an anonymous visitor, as the rules see them.

    ``memberships`` are (role, department code or None for everywhere). ``draft_tokens`` and
    ``references`` are what the visitor holds: the drafts their session worked on (and the
    token in the address they came with), the applications their session submitted.
    """

    user_id: int | None = None
    memberships: frozenset[tuple[Role, str | None]] = frozenset()
    draft_tokens: frozenset[str] = frozenset()
    references: frozenset[str] = frozenset()

    @classmethod
    def of(cls, user_id: int | None, memberships: Iterable[tuple[Role | str, str | None]] = (),
           *, draft_tokens: Iterable[str] = (), references: Iterable[str] = ()) -> Actor:
        return cls(user_id=user_id,
                   memberships=frozenset((Role(role), dept) for role, dept in memberships),
                   draft_tokens=frozenset(draft_tokens), references=frozenset(references))

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None

    def holding(self, *, draft_token: str | None = None) -> Actor:
        """The same actor also holding a draft token (one presented in the address)."""
        if draft_token is None or draft_token in self.draft_tokens:
            return self
        return Actor(self.user_id, self.memberships, self.draft_tokens | {draft_token},
                     self.references)


ANONYMOUS = Actor()


@dataclass(frozen=True)
class DepartmentTree:
    """Every department with the departments below it, read once and asked many times."""

    covered: Mapping[str, frozenset[str]]  # code -> itself and all its sub-departments

    @classmethod
    def from_parents(cls, parents: Mapping[str, str | None]) -> DepartmentTree:
        children: dict[str, set[str]] = {code: set() for code in parents}
        for code, parent in parents.items():
            if parent is not None and parent in children:
                children[parent].add(code)
        covered: dict[str, frozenset[str]] = {}
        for code in parents:
            seen, stack = {code}, [code]
            while stack:  # a cycle in bad data stops at what was already seen
                for child in children[stack.pop()] - seen:
                    seen.add(child)
                    stack.append(child)
            covered[code] = frozenset(seen)
        return cls(covered)

    @classmethod
    def load(cls, session: Session) -> DepartmentTree:
        rows = session.execute(select(col(Department.id), col(Department.code),
                                      col(Department.parent_id))).all()
        code_of = {row.id: row.code for row in rows}
        return cls.from_parents({row.code: code_of.get(row.parent_id) for row in rows})

    def under(self, code: str) -> frozenset[str]:
        """The department and its sub-departments (an unknown code covers only itself)."""
        return self.covered.get(code, frozenset({code}))


def departments(actor: Actor, roles: Iterable[Role], tree: DepartmentTree) -> frozenset[str] | None:
    """Departments where the actor holds one of ``roles``; None means every department."""
    wanted = frozenset(roles)
    found: set[str] = set()
    for role, department in actor.memberships:
        if role not in wanted:
            continue
        if department is None or role in EVERYWHERE_ROLES:
            return None
        found |= tree.under(department)
    return frozenset(found)


def holds(actor: Actor, roles: Iterable[Role], department: str | None = None,
          tree: DepartmentTree | None = None) -> bool:
    """Whether the actor holds one of ``roles``: anywhere, or covering ``department``."""
    wanted = frozenset(roles)
    if department is None:
        return any(role in wanted for role, _dept in actor.memberships)
    if tree is None:
        raise ValueError("a check within a department needs the department tree")
    covered = departments(actor, wanted, tree)
    return covered is None or department in covered


@dataclass(frozen=True)
class ServiceTarget:
    """What the rules need of a service definition to decide who may start it."""

    code: str
    department: str
    audience: tuple[str, ...] = DEFAULT_AUDIENCE
    allow_anonymous: bool = False

    @classmethod
    def of(cls, content: Mapping[str, Any]) -> ServiceTarget:
        return cls(code=content["code"], department=content["department"]["code"],
                   audience=tuple(content.get("audience") or DEFAULT_AUDIENCE),
                   allow_anonymous=bool(content.get("settings", {})
                                        .get("allow_anonymous_start", False)))


@dataclass(frozen=True)
class FileTarget:
    """A stored upload with the draft and application it belongs to (either may be None)."""

    upload: StoredUpload
    draft: Draft | None
    application: Application | None


@dataclass(frozen=True)
class MaterialTarget:
    """A stored material of the library, as the rules see it: whose it is (``owner``), the ID
    number the asking account is linked to (``actor_owner``), and, when seen from a task,
    the application it is seen through and whose that application is."""

    owner: str
    actor_owner: str | None = None
    application: Application | None = None
    application_owner: str | None = None


class ReviewList:
    """The list of applications a reviewer works from (filtered by :func:`review_filter`)."""


REVIEW_LIST = ReviewList()
Target = Draft | Application | FileTarget | ServiceTarget | ReviewList | MaterialTarget


def may_use_draft(actor: Actor, action: Action, draft: Draft) -> bool:
    """A draft is its applicant's, or its counter clerk's. One with neither (started
    anonymously) is open to whoever holds its token: the resume link is its key."""
    if action not in (Action.VIEW, Action.EDIT, Action.SUBMIT):
        raise ValueError(f"{action} does not apply to a draft")
    owners = {draft.user_id, draft.clerk_id} - {None}
    if owners:
        return actor.user_id in owners
    return draft.token in actor.draft_tokens


def may_see_application(actor: Actor, action: Action, application: Application,
                        tree: DepartmentTree) -> bool:
    """Its submitter and clerk (or the session that submitted it) may view an application;
    its department (with the departments above it) may view and review it."""
    if action not in (Action.VIEW, Action.REVIEW):
        raise ValueError(f"{action} does not apply to an application")
    if holds(actor, REVIEW_ROLES, application.department_code, tree):
        return True
    if action is Action.REVIEW:
        return False
    if application.reference in actor.references:
        return True
    return actor.user_id is not None and actor.user_id in (application.submitter_id,
                                                           application.clerk_id)


def may_open_file(actor: Actor, target: FileTarget, tree: DepartmentTree) -> bool:
    """A file follows what it was uploaded to: whoever may view its draft or its application.
    Only tokens the session holds count here: a file's address carries none."""
    if target.draft is not None and may_use_draft(actor, Action.VIEW, target.draft):
        return True
    return (target.application is not None
            and may_see_application(actor, Action.VIEW, target.application, tree))


def may_see_material(actor: Actor, target: MaterialTarget, tree: DepartmentTree) -> bool:
    """A material is its owner's; a counter clerk sees a person's at the counter; a reviewer
    sees the applicant's through an application their department reviews. Nobody else."""
    if actor.is_anonymous:
        return False
    if target.actor_owner is not None and target.actor_owner == target.owner:
        return True
    if holds(actor, {Role.COUNTER_CLERK}):
        return True
    return (target.application is not None and target.application_owner == target.owner
            and may_see_application(actor, Action.REVIEW, target.application, tree))


def may_start(actor: Actor, action: Action, service: ServiceTarget, tree: DepartmentTree) -> bool:
    """As the applicant: anyone where the service allows anonymous starts, else a holder of a
    role in its audience. On someone's behalf: a counter clerk covering its department, or
    working in one of its sub-departments (a district branch's window takes in the bureau's
    services: the services that window handles, docs/counter.md)."""
    if action is Action.START_ON_BEHALF:
        covered = departments(actor, {Role.COUNTER_CLERK}, tree)
        return covered is None or bool(covered & tree.under(service.department))
    if action is not Action.START:
        raise ValueError(f"{action} does not apply to a service")
    if service.allow_anonymous:
        return True
    roles = {AUDIENCE_ROLES[name] for name in service.audience if name in AUDIENCE_ROLES}
    return holds(actor, roles)


def review_filter(actor: Actor, tree: DepartmentTree) -> ColumnElement[bool]:
    """A where-clause on Application: the applications in the actor's review departments."""
    covered = departments(actor, REVIEW_ROLES, tree)
    if covered is None:
        return true()
    if not covered:
        return false()
    return col(Application.department_code).in_(sorted(covered))


def permits(actor: Actor, action: Action, target: Target, tree: DepartmentTree) -> bool:
    """The one question every caller may ask: may ``actor`` do ``action`` to ``target``?

    A pairing that makes no sense (opening a service, say) raises ValueError: it is a bug in
    the caller, not a refusal.
    """
    if isinstance(target, Draft):
        return may_use_draft(actor, action, target)
    if isinstance(target, Application):
        return may_see_application(actor, action, target, tree)
    if isinstance(target, FileTarget):
        if action is not Action.OPEN:
            raise ValueError(f"{action} does not apply to a file")
        return may_open_file(actor, target, tree)
    if isinstance(target, ServiceTarget):
        return may_start(actor, action, target, tree)
    if isinstance(target, MaterialTarget):
        if action is not Action.OPEN:
            raise ValueError(f"{action} does not apply to a material")
        return may_see_material(actor, target, tree)
    if isinstance(target, ReviewList):
        if action is not Action.LIST:
            raise ValueError(f"{action} does not apply to the review list")
        return holds(actor, REVIEW_ROLES)
    raise TypeError(f"no access rules for {type(target).__name__}")
