"""Accounts: password hashing, login with lockout, roles within departments."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import select
from sqlmodel import Session, col

from . import audit
from .models import Department, Membership, Role, User, utcnow
from .policy import Actor, DepartmentTree, holds

# argon2id at t=2, m=19 MiB: within ASVS 5.0's minimum and gentle on a 2-core server.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verifying against this keeps an unknown user's login as slow as a known one's.
_DUMMY_HASH = _hasher.hash("not-a-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


class LoginUser(UserMixin):
    """What Flask-Login keeps for the signed-in user: a detached snapshot, not a live row."""

    def __init__(self, user: User, roles: set[tuple[str, str | None]]):
        self.id = user.id
        self.username = user.username
        self.display_name = user.display_name
        self.roles = roles  # (role, department code or None for everywhere)

    def get_id(self) -> str:
        return str(self.id)

    def actor(self, *, draft_tokens: Iterable[str] = (), references: Iterable[str] = ()) -> Actor:
        """This user as the access policy sees them, with what their session holds."""
        return Actor.of(self.id, self.roles, draft_tokens=draft_tokens, references=references)

    def has_role(self, *roles: Role | str, department: str | None = None,
                 tree: DepartmentTree | None = None) -> bool:
        """Holds one of ``roles`` anywhere, or (given a department and the tree) covering it."""
        return holds(self.actor(), {Role(r) for r in roles}, department, tree)


def roles_of(session: Session, user_id: int) -> set[tuple[str, str | None]]:
    rows = session.execute(select(col(Membership.role), col(Department.code))
                           .outerjoin(Department, col(Department.id) == Membership.department_id)
                           .where(col(Membership.user_id) == user_id)).all()
    return {(role, code) for role, code in rows}


def load_login_user(session: Session, user_id: int) -> LoginUser | None:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    return LoginUser(user, roles_of(session, user_id))


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None = None
    locked_until: datetime | None = None
    failures_left: int | None = None

    @property
    def ok(self) -> bool:
        return self.user is not None


def authenticate(session: Session, username: str, password: str, *, max_failures: int,
                 lockout: timedelta, request_id: str = "") -> LoginOutcome:
    """Check a password; count failures in the database and lock after max_failures.

    The caller commits: failures must be stored even though the login fails.
    """
    user = session.scalars(select(User).where(User.username == username.strip())).first()
    if user is None or not user.is_active:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        return LoginOutcome()
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        return LoginOutcome(locked_until=user.locked_until)
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        if user.locked_until is not None:  # an old lock has run out: start counting afresh
            user.failed_logins, user.locked_until = 0, None
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + lockout
            audit.record(session, action="user.locked", object_type="user", object_id=user.id,
                         actor_name=user.username, after={"failed_logins": user.failed_logins,
                                                          "locked_until": user.locked_until.isoformat()},
                         request_id=request_id)
            return LoginOutcome(locked_until=user.locked_until)
        return LoginOutcome(failures_left=max_failures - user.failed_logins)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    audit.record(session, action="user.login", object_type="user", object_id=user.id,
                 actor_id=user.id, actor_name=user.username, request_id=request_id)
    return LoginOutcome(user=user)


def create_user(session: Session, username: str, password: str, display_name: str,
                roles: list[tuple[Role, str | None]], *, actor_name: str = "system") -> User:
    """Create a user with roles; a role's department is given by its code (None = everywhere)."""
    user = User(username=username, display_name=display_name,
                password_hash=hash_password(password))
    session.add(user)
    session.flush()
    for role, department_code in roles:
        department_id = None
        if department_code is not None:
            department = session.scalars(select(Department)
                                         .where(Department.code == department_code)).first()
            if department is None:
                raise ValueError(f'unknown department "{department_code}"')
            department_id = department.id
        session.add(Membership(user_id=user.id, role=str(Role(role)), department_id=department_id))
    audit.record(session, action="user.create", object_type="user", object_id=user.id,
                 actor_name=actor_name, after={"username": username,
                                               "roles": [f"{r}@{d or '*'}" for r, d in roles]})
    return user
