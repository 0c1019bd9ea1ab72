"""Accounts: password hashing, sign-in checks, sessions ended on demand, roles within departments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, delete, select, update
from sqlmodel import Session, col

from . import audit
from .models import Department, Membership, Role, User, WebSession, saved_id, utcnow

# argon2id at t=2, m=19 MiB: within ASVS 5.0's minimum and gentle on a 2-core server.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verifying against this keeps an unknown user's login as slow as a known one's.
_DUMMY_HASH = _hasher.hash("not-a-password")


# Machine-made secrets (one-time passwords of 14+ random characters, recovery codes) have the
# entropy a person's password lacks, so a slow hash adds nothing but time: a 2,000-row import
# would spend minutes in argon2 at the password cost. Still argon2id (verified like any hash).
_secret_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def hash_random_secret(secret: str) -> str:
    """Hash a secret the platform generated at random (never one a person chose)."""
    return _secret_hasher.hash(secret)


def password_matches(password_hash: str, password: str) -> bool:
    """Whether ``password`` is the one ``password_hash`` was made from (also for old hashes
    kept in a password history, and for recovery codes)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def roles_of(session: Session, user_id: int) -> set[tuple[str, str | None]]:
    rows = session.execute(select(col(Membership.role), col(Department.code))
                           .outerjoin(Department, col(Department.id) == Membership.department_id)
                           .where(col(Membership.user_id) == user_id)).all()
    return {(role, code) for role, code in rows}


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None = None
    # The password was right but the user still owes a second step (not signed in yet).
    second_step_due: bool = False

    @property
    def ok(self) -> bool:
        return self.user is not None


def authenticate(session: Session, username: str, password: str, *, alert_after: int,
                 request_id: str = "",
                 second_step: Callable[[Session, User], bool] | None = None) -> LoginOutcome:
    """Check a password. Unknown, inactive and known users with a wrong password get the same
    outcome after the same work (one argon2 verification), so neither the answer nor its
    timing tells a stranger which names exist. Wrong passwords are counted with one atomic
    UPDATE; the count that reaches ``alert_after`` writes one audit event. Nothing is locked:
    a lock that strangers can trigger is a denial of service (throttling is the web layer's).

    A right password completes the sign-in (audited as ``user.login``) unless ``second_step``
    says the user owes one more step: then it is audited as ``user.password_ok`` and the
    sign-in is recorded by ``record_login`` once that step is done, so the trail tells a
    completed sign-in from a password alone.

    The caller commits: failures must be stored even though the login fails.
    """
    user = session.scalars(select(User).where(col(User.username) == username.strip())).first()
    if user is None or not user.is_active:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        return LoginOutcome()
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        count_failure(session, user, alert_after=alert_after, request_id=request_id)
        return LoginOutcome()
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    if second_step is not None and second_step(session, user):
        audit.record(session, action="user.password_ok", object_type="user", object_id=user.id,
                     actor_id=user.id, actor_name=user.username, request_id=request_id)
        return LoginOutcome(user=user, second_step_due=True)
    record_login(session, user, request_id=request_id)
    return LoginOutcome(user=user)


def record_login(session: Session, user: User, *, request_id: str = "",
                 second_step: str | None = None) -> None:
    """A sign-in completed: the time kept on the account and one ``user.login`` event (with
    the second step taken, ``code`` or ``enrolled``, when there was one)."""
    user.last_login_at = utcnow()
    audit.record(session, action="user.login", object_type="user", object_id=user.id,
                 actor_id=user.id, actor_name=user.username, request_id=request_id,
                 after={"second_step": second_step} if second_step else None)


def count_failure(session: Session, user: User, *, alert_after: int,
                  request_id: str = "") -> int:
    """Add one wrong password in the database itself (no read-modify-write, so parallel
    guesses are all counted); return the new count."""
    count: int = session.execute(update(User).where(col(User.id) == user.id)
                                 .values(failed_logins=col(User.failed_logins) + 1)
                                 .returning(col(User.failed_logins))
                                 .execution_options(synchronize_session=False)).scalar_one()
    if count == alert_after:  # exactly one request sees the threshold reached
        audit.record(session, action="user.login_failures", object_type="user",
                     object_id=user.id, actor_name=user.username,
                     after={"failed_logins": count}, request_id=request_id)
    return count


def end_sessions(session: Session, user_id: int) -> int:
    """Sign a user out everywhere: delete every server-side session of theirs."""
    result = session.execute(delete(WebSession).where(col(WebSession.user_id) == user_id))
    return cast(CursorResult[Any], result).rowcount or 0


def _user_named(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(col(User.username) == username)).first()
    if user is None:
        raise LookupError(f'no user named "{username}"')
    return user


def set_password(session: Session, username: str, password: str, *,
                 actor_name: str = "system") -> int:
    """Give a user a new password and end all their sessions; return how many were ended."""
    user = _user_named(session, username)
    user.password_hash, user.failed_logins = hash_password(password), 0
    user.password_changed_at = utcnow()  # the rotation policy counts from here
    ended = end_sessions(session, saved_id(user))
    audit.record(session, action="user.set_password", object_type="user", object_id=user.id,
                 actor_name=actor_name, after={"sessions_ended": ended})
    return ended


def deactivate(session: Session, username: str, *, actor_name: str = "system") -> int:
    """Stop a user signing in and end all their sessions; return how many were ended."""
    user = _user_named(session, username)
    user.is_active = False
    ended = end_sessions(session, saved_id(user))
    audit.record(session, action="user.deactivate", object_type="user", object_id=user.id,
                 actor_name=actor_name, after={"sessions_ended": ended})
    return ended


def create_user(session: Session, username: str, password: str, display_name: str,
                roles: list[tuple[Role, str | None]], *, actor_name: str = "system",
                password_hash: str | None = None) -> User:
    """Create a user with roles; a role's department is given by its code (None = everywhere).

    ``password_hash``, when given, is the hash of ``password`` made earlier (the demo accounts
    share one password: hashed once, not once per account)."""
    user = User(username=username, display_name=display_name,
                password_hash=password_hash or hash_password(password))
    session.add(user)
    session.flush()
    for role, department_code in roles:
        department_id = None
        if department_code is not None:
            department = session.scalars(select(Department)
                                         .where(col(Department.code) == department_code)).first()
            if department is None:
                raise ValueError(f'unknown department "{department_code}"')
            department_id = department.id
        session.add(Membership(user_id=saved_id(user), role=str(Role(role)), department_id=department_id))
    audit.record(session, action="user.create", object_type="user", object_id=user.id,
                 actor_name=actor_name, after={"username": username,
                                               "roles": [f"{r}@{d or '*'}" for r, d in roles]})
    return user
