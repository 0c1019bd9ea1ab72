"""Staff accounts as administrators see them: find users, grant and remove roles within
departments, deactivate and reactivate, reset a password or a second factor, read a user's
audit trail. Every change is audited; the caller commits."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import delete, func, or_, select
from sqlmodel import Session, col

from .. import audit
from ..accounts import end_sessions, hash_random_secret
from ..models import AuditEvent, Department, Membership, RecoveryCode, Role, User, saved_id
from ..policy import Actor, DepartmentTree
from .passwords import load_policy, one_time_password
from .rules import N_, StaffRefused, admin_departments, check_grant, manages, sees

LIST_LIMIT = 100
TRAIL_LIMIT = 200


@dataclass(frozen=True)
class Grant:
    id: int
    role: str
    department: str | None  # the department's code; None: everywhere


@dataclass
class StaffMember:
    user: User
    grants: list[Grant] = field(default_factory=list)

    @property
    def memberships(self) -> set[tuple[str, str | None]]:
        return {(grant.role, grant.department) for grant in self.grants}


@dataclass(frozen=True)
class Who:
    """The administrator acting, for the checks and the audit trail."""

    actor: Actor
    tree: DepartmentTree
    user_id: int
    name: str
    request_id: str = ""


def _grants(session: Session, user_ids: list[int]) -> dict[int, list[Grant]]:
    rows = session.execute(
        select(col(Membership.id), col(Membership.user_id), col(Membership.role),
               col(Department.code))
        .outerjoin(Department, col(Department.id) == col(Membership.department_id))
        .where(col(Membership.user_id).in_(user_ids))
        .order_by(col(Membership.role), col(Department.code))).all()
    found: dict[int, list[Grant]] = defaultdict(list)
    for grant_id, user_id, role, code in rows:
        found[user_id].append(Grant(grant_id, role, code))
    return found


def find(session: Session, who: Who, *, text: str = "", department: str = "",
         role: str = "") -> tuple[list[StaffMember], int]:
    """Users matching the search (user name or display name contains ``text``), holding
    ``role`` and/or a role in ``department`` or below, among those the administrator sees.
    Returns the first LIST_LIMIT by user name and how many matched in all."""
    query = select(col(User.id))
    scope = admin_departments(who.actor, who.tree)
    if department or role or scope is not None:
        member = select(col(Membership.user_id)).outerjoin(
            Department, col(Department.id) == col(Membership.department_id))
        if department:
            member = member.where(col(Department.code).in_(sorted(who.tree.under(department))))
        if role:
            member = member.where(col(Membership.role) == role)
        if scope is not None:
            member = member.where(col(Department.code).in_(sorted(scope)))
        query = query.where(col(User.id).in_(member))
    if text.strip():
        pattern = f"%{text.strip().lower()}%"
        query = query.where(or_(func.lower(col(User.username)).like(pattern),
                                func.lower(col(User.display_name)).like(pattern)))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    users = session.scalars(select(User).where(col(User.id).in_(query))
                            .order_by(col(User.username)).limit(LIST_LIMIT)).all()
    grants = _grants(session, [saved_id(user) for user in users])
    return [StaffMember(user, grants.get(saved_id(user), [])) for user in users], total


def member(session: Session, who: Who, user_id: int) -> StaffMember:
    """One user with their grants; LookupError when there is none or the administrator does
    not see them (the same answer: a department's administrator learns nothing of others)."""
    user = session.get(User, user_id)
    if user is None:
        raise LookupError(user_id)
    found = StaffMember(user, _grants(session, [user_id]).get(user_id, []))
    if not sees(who.actor, who.tree, found.memberships):
        raise LookupError(user_id)
    return found


def _department_id(session: Session, code: str) -> int:
    department_id = session.scalars(select(col(Department.id))
                                    .where(col(Department.code) == code)).first()
    if department_id is None:
        raise StaffRefused(N_("There is no department with the code %(code)s."), code=code)
    return department_id


def grant(session: Session, who: Who, target: StaffMember, role: str,
          department: str | None) -> Membership:
    try:
        wanted = Role(role)
    except ValueError:
        raise StaffRefused(N_("Choose a role from the list.")) from None
    check_grant(who.actor, who.tree, wanted, department)
    department_id = _department_id(session, department) if department else None
    if (str(wanted), department) in target.memberships:
        raise StaffRefused(N_("%(user)s already holds this role there."),
                           user=target.user.username)
    row = Membership(user_id=saved_id(target.user), role=str(wanted), department_id=department_id)
    session.add(row)
    audit.record(session, action="user.grant", object_type="user", object_id=target.user.id,
                 actor_id=who.user_id, actor_name=who.name,
                 after={"role": str(wanted), "department": department},
                 request_id=who.request_id)
    return row


def revoke(session: Session, who: Who, target: StaffMember, grant_id: int) -> None:
    found = next((g for g in target.grants if g.id == grant_id), None)
    if found is None:
        raise StaffRefused(N_("That role has already been removed."))
    check_grant(who.actor, who.tree, Role(found.role), found.department)
    if target.user.id == who.user_id and Role(found.role) in (Role.PLATFORM_ADMIN,
                                                              Role.DEPARTMENT_ADMIN):
        raise StaffRefused(N_("You cannot remove your own administrator role: ask another "
                              "administrator."))
    session.execute(delete(Membership).where(col(Membership.id) == grant_id))
    audit.record(session, action="user.revoke", object_type="user", object_id=target.user.id,
                 actor_id=who.user_id, actor_name=who.name,
                 before={"role": found.role, "department": found.department},
                 request_id=who.request_id)


def _check_manages(who: Who, target: StaffMember) -> None:
    if not manages(who.actor, who.tree, target.memberships):
        raise StaffRefused(N_("%(user)s also works outside your departments: ask a platform "
                              "administrator."), status=403, user=target.user.username)


def deactivate(session: Session, who: Who, target: StaffMember) -> int:
    """Stop the user signing in and end every session of theirs at once; returns how many."""
    _check_manages(who, target)
    if target.user.id == who.user_id:
        raise StaffRefused(N_("You cannot deactivate your own account."))
    if not target.user.is_active:
        raise StaffRefused(N_("%(user)s is already deactivated."), user=target.user.username)
    target.user.is_active = False
    ended = end_sessions(session, saved_id(target.user))
    audit.record(session, action="user.deactivate", object_type="user",
                 object_id=target.user.id, actor_id=who.user_id, actor_name=who.name,
                 after={"sessions_ended": ended}, request_id=who.request_id)
    return ended


def reactivate(session: Session, who: Who, target: StaffMember) -> None:
    _check_manages(who, target)
    if target.user.is_active:
        raise StaffRefused(N_("%(user)s is already active."), user=target.user.username)
    target.user.is_active, target.user.failed_logins = True, 0
    audit.record(session, action="user.reactivate", object_type="user",
                 object_id=target.user.id, actor_id=who.user_id, actor_name=who.name,
                 request_id=who.request_id)


def reset_password(session: Session, who: Who, target: StaffMember) -> str:
    """Give the user a one-time password (returned: shown once, never stored in clear) that
    they must change at their next sign-in; their sessions end."""
    _check_manages(who, target)
    password = one_time_password(load_policy(session))
    user = target.user
    user.password_hash, user.failed_logins = hash_random_secret(password), 0
    user.must_change_password = True
    ended = end_sessions(session, saved_id(user))
    audit.record(session, action="user.reset_password", object_type="user", object_id=user.id,
                 actor_id=who.user_id, actor_name=who.name, after={"sessions_ended": ended},
                 request_id=who.request_id)
    return password


def reset_two_factor(session: Session, who: Who, target: StaffMember) -> None:
    """Take away a lost authenticator: the user enrols again at their next sign-in (when the
    policy asks it of staff) or when they choose to."""
    _check_manages(who, target)
    user = target.user
    if user.totp_secret is None:
        raise StaffRefused(N_("%(user)s has not set up two-step verification."),
                           user=user.username)
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    ended = end_sessions(session, saved_id(user))
    audit.record(session, action="user.totp_reset", object_type="user", object_id=user.id,
                 actor_id=who.user_id, actor_name=who.name, after={"sessions_ended": ended},
                 request_id=who.request_id)


def audit_trail(session: Session, user_id: int) -> list[AuditEvent]:
    """The newest TRAIL_LIMIT events the user did or that were done to their account."""
    return list(session.scalars(
        select(AuditEvent).where(or_(col(AuditEvent.actor_id) == user_id,
                                     (col(AuditEvent.object_type) == "user")
                                     & (col(AuditEvent.object_id) == str(user_id))))
        .order_by(col(AuditEvent.seq).desc()).limit(TRAIL_LIMIT)))
