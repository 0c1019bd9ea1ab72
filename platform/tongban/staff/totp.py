"""Two-step verification for staff: TOTP (RFC 6238) codes from an authenticator app, enrolled
with a QR code, and ten one-time recovery codes kept as argon2 hashes.

A code is accepted within one 30-second step either side of now (clocks drift) and only once:
the step of the last accepted code is stored, and a code of that step or an earlier one is
refused, so a code seen over a shoulder cannot be replayed.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

import pyotp
import segno
from sqlalchemy import delete, select
from sqlmodel import Session, col

from .. import audit
from ..accounts import hash_random_secret, password_matches, roles_of
from ..models import RecoveryCode, User, saved_id, utcnow
from .passwords import load_policy
from .rules import N_, StaffRefused, is_staff

ISSUER = "Tongban"
RECOVERY_CODES = 10
STEP_SECONDS = 30


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The enrolment address as an inline SVG QR code (no image file, no script)."""
    return str(segno.make(uri, error="m").svg_inline(scale=4, border=4, light="#fff"))


def grouped(secret: str) -> str:
    """The secret in groups of four for typing into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def matching_step(secret: str, code: str, now: datetime, after: int | None) -> int | None:
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in (current - 1, current, current + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def required(session: Session, user: User) -> bool:
    """Must this user pass a second step at sign-in (enrolled, or staff under the policy)?"""
    if user.totp_secret is not None:
        return True
    return load_policy(session).require_totp_for_staff and is_staff(
        roles_of(session, saved_id(user)))


def enable(session: Session, user: User, secret: str, code: str, *, now: datetime,
           request_id: str = "") -> list[str]:
    """Confirm enrolment with a first code from the app; returns the recovery codes (shown
    once, stored hashed). StaffRefused when the code does not match."""
    step = matching_step(secret, code, now, None)
    if step is None:
        raise StaffRefused(N_("That code is not right: enter the 6-digit code your app shows "
                              "now."))
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = secret, now, step
    codes = _new_recovery_codes(session, user)
    audit.record(session, action="user.totp_enable", object_type="user", object_id=user.id,
                 actor_id=user.id, actor_name=user.username, request_id=request_id)
    return codes


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    for code in codes:
        session.add(RecoveryCode(user_id=saved_id(user), code_hash=hash_random_secret(code)))
    return codes


def verify(session: Session, user: User, code: str, *, now: datetime | None = None,
           request_id: str = "") -> bool:
    """A sign-in's second step: a current TOTP code, or an unused recovery code (used up)."""
    now = now or utcnow()
    if user.totp_secret is None:
        return False
    step = matching_step(user.totp_secret, code, now, user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        return True
    typed = "".join(code.split()).lower()
    if len(typed) != 13:  # the shape of a recovery code: 6 hex, "-", 6 hex
        return False
    for row in session.scalars(select(RecoveryCode).where(
            col(RecoveryCode.user_id) == user.id, col(RecoveryCode.used_at).is_(None))):
        if password_matches(row.code_hash, typed):
            row.used_at = now
            audit.record(session, action="user.recovery_code_used", object_type="user",
                         object_id=user.id, actor_id=user.id, actor_name=user.username,
                         request_id=request_id)
            return True
    return False


def recovery_codes_left(session: Session, user_id: int) -> int:
    return len(session.scalars(select(col(RecoveryCode.id)).where(
        col(RecoveryCode.user_id) == user_id, col(RecoveryCode.used_at).is_(None))).all())
