"""How a person wants to be reached: an email address, a mainland mobile number, the language
of the interface and of their messages, and whether notifications also go by email and SMS
(site messages always do). Read from /my/settings, checked here, saved with its audit event;
the outbox (:func:`tongban.notify.outbox.channels_for`) honours the same choices."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from sqlmodel import Session

from .. import audit
from ..i18n import N_
from ..models import User
from .templates import LANGUAGES

MAX_EMAIL = 254
# One @, something before it, a domain with a dot after it, no spaces: what a mail server
# needs to try; whether the box exists only a delivery can tell.
EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
# A mainland mobile number: 11 digits starting 13 to 19. People write them in groups
# (138 0013 8000, 138-0013-8000) or with the country code; those are taken as the 11 digits.
MOBILE = re.compile(r"1[3-9][0-9]{9}")
_SEPARATORS = re.compile(r"[\s\-]+")

FIELDS = ("email", "phone", "language", "by_email", "by_sms")


@dataclass(frozen=True)
class Contact:
    """One person's choices: ``email`` and ``phone`` empty when none is given."""

    email: str
    phone: str
    language: str
    by_email: bool
    by_sms: bool

    def as_form(self) -> dict[str, str]:
        """The values a settings form shows."""
        return {"email": self.email, "phone": self.phone, "language": self.language,
                "by_email": "1" if self.by_email else "", "by_sms": "1" if self.by_sms else ""}


def of(user: User) -> Contact:
    """What ``user`` has chosen; a channel counts as chosen only with somewhere to send it."""
    return Contact(email=user.email or "", phone=user.phone or "",
                   language=user.language if user.language in LANGUAGES else "zh",
                   by_email=bool(user.email) and user.notify_email,
                   by_sms=bool(user.phone) and user.notify_sms)


def normal_phone(text: str) -> str:
    """``text`` without the separators and the country code people type around a number."""
    digits = _SEPARATORS.sub("", text)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            return digits[len(prefix):]
    return digits


def read(values: Mapping[str, str]) -> tuple[Contact, dict[str, str]]:
    """The choices in submitted form ``values`` and what is wrong with them: field name ->
    message (English, marked for translation). The answers come back as typed, trimmed, so
    that a page with errors shows them again."""
    email = (values.get("email") or "").strip()
    phone_typed = (values.get("phone") or "").strip()
    language = values.get("language") or ""
    by_email, by_sms = values.get("by_email") == "1", values.get("by_sms") == "1"
    errors: dict[str, str] = {}
    if email and (len(email) > MAX_EMAIL or not EMAIL.fullmatch(email)):
        errors["email"] = N_("Enter an email address in the right form, like "
                             "name@example.com")
    elif by_email and not email:
        errors["email"] = N_("Enter your email address, or untick email below")
    phone = normal_phone(phone_typed)
    if phone_typed and not MOBILE.fullmatch(phone):
        errors["phone"] = N_("Enter a mainland mobile number: 11 digits starting with 13 to "
                             "19, like 13800138000")
    elif by_sms and not phone_typed:
        errors["phone"] = N_("Enter your mobile number, or untick text message below")
    if language not in LANGUAGES:
        errors["language"] = N_("Choose Chinese or English")
    chosen = Contact(email=email, phone=phone if not errors.get("phone") else phone_typed,
                     language=language, by_email=by_email, by_sms=by_sms)
    return chosen, errors


def _masked(contact: Contact) -> dict[str, object]:
    """What the audit trail keeps: enough to see what changed, not the address itself."""
    shown: dict[str, object] = asdict(contact)
    if contact.email:
        name, _, domain = contact.email.partition("@")
        shown["email"] = f"{name[:1]}***@{domain}"
    if contact.phone:
        shown["phone"] = f"{contact.phone[:3]}****{contact.phone[-4:]}"
    return shown


def save(session: Session, user: User, chosen: Contact, *, request_id: str = "") -> bool:
    """Store checked choices on ``user`` with a ``user.contact`` audit event, in the caller's
    transaction; False (and nothing written) when nothing changed."""
    before = of(user)
    if chosen == before:
        return False
    user.email, user.phone = chosen.email or None, chosen.phone or None
    user.language = chosen.language
    user.notify_email, user.notify_sms = chosen.by_email, chosen.by_sms
    session.add(user)
    audit.record(session, action="user.contact", object_type="user", object_id=user.id,
                 actor_id=user.id, actor_name=user.username, before=_masked(before),
                 after=_masked(chosen), request_id=request_id)
    return True
