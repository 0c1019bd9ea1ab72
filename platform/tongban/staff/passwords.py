"""The password policy (stored in the database, one row) and what it asks of a new password:
length, character classes, not one of the last N, and rotation after N days when switched on.

Rotation is off by default (ASVS 5.0 6.2.10 advises against it) and a switch for deployments
that must meet 等保 2.0 (identification and authentication a): "定期更换").
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session, col

from .. import audit
from ..accounts import end_sessions, hash_password, password_matches
from ..models import PasswordHistory, SecuritySetting, User, saved_id, utcnow
from .rules import N_, StaffRefused

MAX_LENGTH = 128  # argon2 takes any length; a cap keeps a megabyte "password" from costing CPU
# (field, lowest, highest) of the numbers an administrator sets
LIMITS = {"min_length": (8, 64), "min_classes": (1, 4), "history_count": (0, 24),
          "rotation_days": (1, 3650)}
SWITCHES = ("rotation_enabled", "require_totp_for_staff")
_CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits)
# One-time passwords avoid characters people misread when they copy them from a screen.
_ALPHABETS = ("abcdefghjkmnpqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789", "-_!#%+=")


def load_policy(session: Session) -> SecuritySetting:
    """The stored policy, or the defaults when none has been saved."""
    return session.get(SecuritySetting, 1) or SecuritySetting()


def policy_saved(session: Session) -> bool:
    return session.get(SecuritySetting, 1) is not None


@dataclass(frozen=True)
class PolicyProblem:
    field: str
    message: str
    params: dict[str, Any]


def save_policy(session: Session, values: dict[str, str], *, actor_id: int, actor_name: str,
                request_id: str = "") -> list[PolicyProblem]:
    """Check and store the policy from form values (numbers as text, switches present or not).
    With a problem nothing is stored and the problems are returned."""
    problems: list[PolicyProblem] = []
    numbers: dict[str, int] = {}
    for field, (low, high) in LIMITS.items():
        text = values.get(field, "").strip()
        if not text.isdigit() or not low <= int(text) <= high:
            problems.append(PolicyProblem(field, N_("Enter a whole number from %(low)s to "
                                                    "%(high)s"), {"low": low, "high": high}))
        else:
            numbers[field] = int(text)
    if problems:
        return problems
    policy = session.get(SecuritySetting, 1)
    if policy is None:
        policy = SecuritySetting(id=1)
        session.add(policy)
    before = _as_dict(policy)
    for field, number in numbers.items():
        setattr(policy, field, number)
    for switch in SWITCHES:
        setattr(policy, switch, values.get(switch) == "1")
    policy.updated_by, policy.updated_at = actor_name, utcnow()
    audit.record(session, action="security.policy", object_type="security_setting", object_id=1,
                 actor_id=actor_id, actor_name=actor_name, before=before,
                 after=_as_dict(policy), request_id=request_id)
    return []


def _as_dict(policy: SecuritySetting) -> dict[str, Any]:
    return {field: getattr(policy, field) for field in (*LIMITS, *SWITCHES)}


def classes_in(password: str) -> int:
    found = sum(any(ch in chars for ch in password) for chars in _CLASSES)
    return found + any(not ch.isascii() or not ch.isalnum() for ch in password)


def problems_with(session: Session, policy: SecuritySetting, user: User,
                  password: str) -> list[tuple[str, dict[str, Any]]]:
    """What the policy has against ``password`` as ``user``'s new password: (msgid, params)."""
    problems: list[tuple[str, dict[str, Any]]] = []
    if len(password) < policy.min_length:
        problems.append((N_("Your password must be at least %(count)s characters long"),
                         {"count": policy.min_length}))
    elif len(password) > MAX_LENGTH:
        problems.append((N_("Your password must be at most %(count)s characters long"),
                         {"count": MAX_LENGTH}))
    if classes_in(password) < policy.min_classes:
        problems.append((N_("Your password must mix at least %(count)s of: lower-case letters, "
                            "capital letters, digits and other characters"),
                         {"count": policy.min_classes}))
    if password.strip().lower() == user.username.lower():
        problems.append((N_("Your password must not be your user name"), {}))
    if problems:
        return problems
    if password_matches(user.password_hash, password) or any(
            password_matches(old, password) for old in _history(session, saved_id(user),
                                                         policy.history_count)):
        count = max(1, policy.history_count)
        problems.append((N_("Choose a password you have not used for your last %(count)s "
                            "passwords"), {"count": count}))
    return problems


def refusal(session: Session, username: str, password: str) -> str:
    """The policy's objections to ``password`` as the new password of ``username`` in English,
    one per line (empty when it may be used): for the command line, which has no language.
    LookupError when there is no such user."""
    user = session.scalars(select(User).where(col(User.username) == username)).first()
    if user is None:
        raise LookupError(f'no user named "{username}"')
    return "\n".join(message % params if params else message
                     for message, params in problems_with(session, load_policy(session), user,
                                                          password))


def _history(session: Session, user_id: int, count: int) -> list[str]:
    if count <= 1:  # the current password is always checked; history holds the ones before it
        return []
    return list(session.scalars(select(col(PasswordHistory.password_hash))
                                .where(col(PasswordHistory.user_id) == user_id)
                                .order_by(col(PasswordHistory.id).desc()).limit(count - 1)))


def change_password(session: Session, user: User, new_password: str, *, actor_id: int,
                    actor_name: str, request_id: str = "") -> int:
    """Store a new password the user chose (checked against the policy first: StaffRefused
    with the first problem). The old hash goes into the history, the forced change is cleared
    and every session of the user ends (the caller renews the one in use). Returns how many."""
    policy = load_policy(session)
    problems = problems_with(session, policy, user, new_password)
    if problems:
        message, params = problems[0]
        raise StaffRefused(message, **params)
    user_id = saved_id(user)
    session.add(PasswordHistory(user_id=user_id, password_hash=user.password_hash))
    session.flush()
    keep = max(policy.history_count, 1)
    old = session.scalars(select(col(PasswordHistory.id)).where(
        col(PasswordHistory.user_id) == user_id).order_by(col(PasswordHistory.id).desc())
        .offset(keep)).all()
    if old:
        session.execute(delete(PasswordHistory).where(col(PasswordHistory.id).in_(old)))
    user.password_hash, user.failed_logins = hash_password(new_password), 0
    user.must_change_password, user.password_changed_at = False, utcnow()
    ended = end_sessions(session, user_id)
    audit.record(session, action="user.change_password", object_type="user", object_id=user_id,
                 actor_id=actor_id, actor_name=actor_name, after={"sessions_ended": ended},
                 request_id=request_id)
    return ended


def one_time_password(policy: SecuritySetting) -> str:
    """A random password that meets the policy: every character class, at least 14 long."""
    length = max(14, policy.min_length)
    chars = [secrets.choice(alphabet) for alphabet in _ALPHABETS]
    everything = "".join(_ALPHABETS)
    chars += [secrets.choice(everything) for _ in range(length - len(chars))]
    # Fisher-Yates with a CSPRNG, so the classes do not sit in fixed places.
    for i in range(len(chars) - 1, 0, -1):
        j = secrets.randbelow(i + 1)
        chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


def change_due(policy: SecuritySetting, user: User, now: datetime) -> bool:
    """Must the user choose a new password before going on (a reset, or rotation is due)?"""
    if user.must_change_password:
        return True
    if not policy.rotation_enabled:
        return False
    changed = user.password_changed_at or user.created_at
    return now >= changed + timedelta(days=policy.rotation_days)
