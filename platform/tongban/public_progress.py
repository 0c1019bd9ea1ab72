"""Public progress (进度查询, no sign-in): find an application by its reference number and the
applicant's name, or by the verification code of one of its sealed decisions, and mask the name
for showing. Strangers must not learn which references exist: every miss looks the same."""

from __future__ import annotations

import hmac
import re
import unicodedata
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from . import seals
from .applications import REFERENCE_ALPHABET
from .forms import paths
from .models import Application, DefinitionVersion, SealedDocumentRecord

# Spaces, dashes and the like between the groups of a reference or code, typed or pasted.
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―_·.]+")
_REFERENCE = re.compile(rf"^[0-9]{{4}}[{REFERENCE_ALPHABET}]{{8}}$")


def normal_reference(text: str) -> str | None:
    """A typed reference as stored (2611-K7QX-9MPA): full-width characters made half-width,
    spaces and dashes anywhere, any case. None when it cannot be a reference."""
    plain = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
    if not _REFERENCE.match(plain):
        return None
    return f"{plain[:4]}-{plain[4:8]}-{plain[8:]}"


def normal_code(text: str) -> str | None:
    """A typed verification code (full-width accepted), as seals keeps it; None when it
    cannot be one."""
    return seals.normal_code(unicodedata.normalize("NFKC", text))


def normal_name(text: str) -> str:
    """A name for comparing: full-width made half-width, no spaces at all (张 三 is 张三),
    case folded (for names in Latin letters)."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def mask_name(name: str) -> str:
    """The name with all but its first and last characters hidden: 张*明, 李*, 欧**锋."""
    plain = "".join(name.split())
    if len(plain) <= 1:
        return "*" if plain else ""
    if len(plain) == 2:
        return plain[0] + "*"
    return plain[0] + "*" * (len(plain) - 2) + plain[-1]


def applicant_name(service: dict[str, Any], answers: dict[str, Any]) -> str:
    """The applicant's name among the answers: the question the service file names in
    ``applicant_name``; "" when it names none or the answer is missing."""
    key = service.get("applicant_name")
    if not key:
        return ""
    value = paths.get_in(answers, paths.split(key))
    return value.strip() if isinstance(value, str) else ""


def _service_content(session: Session, application: Application) -> dict[str, Any]:
    row = session.get(DefinitionVersion, application.service_version_id)
    return row.content if row is not None else {}


def find_by_reference(session: Session, reference: str, name: str) -> Application | None:
    """The application with this (normalised) reference whose applicant has this name; None
    both when no application has the reference and when the name differs."""
    found = session.scalars(select(Application)
                            .where(col(Application.reference) == reference)).first()
    typed = normal_name(name).encode()
    if found is None:
        hmac.compare_digest(typed, typed)  # as much work as a comparison that happens
        return None
    kept = normal_name(applicant_name(_service_content(session, found), found.answers))
    if not kept or not hmac.compare_digest(kept.encode(), typed):
        return None
    return found


def find_by_code(session: Session, code: str) -> Application | None:
    """The application a sealed decision with this (normalised) verification code was issued
    for; None for an unknown code or a document of no application."""
    return session.scalars(
        select(Application).join(SealedDocumentRecord,
                                 col(SealedDocumentRecord.application_id) == col(Application.id))
        .where(col(SealedDocumentRecord.code) == code)).first()


def shown_name(session: Session, application: Application) -> str:
    """The applicant's name, masked, for the public page."""
    return mask_name(applicant_name(_service_content(session, application), application.answers))
