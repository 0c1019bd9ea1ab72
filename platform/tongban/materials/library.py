"""The material library (电子材料库): documents a person or enterprise handed in once, kept for
reuse under their ID number or USCC with the national trust level (A-D).

The bytes live in a material storage (a plugin: local disk by default, S3-compatible object
storage as another); this module keeps the rows and decides what is valid, what is offered
and who the owner of a draft or an application is. Nothing here knows about a request.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from ..definitions.material_types import CATALOGUE_CODE, CATALOGUE_KIND, Catalogue, compile_catalogue
from ..definitions.publish import current_version
from ..forms import paths
from ..forms.definition import FormDefinition
from ..forms.formats import check_cn_id_number, check_cn_uscc
from ..i18n import N_
from ..models import (
    Application,
    Draft,
    LedgerPerson,
    Material,
    Person,
    SealedDocumentRecord,
    StoredUpload,
)
from ..plugin_api import MaterialStorage, StoredMaterial

log = logging.getLogger(__name__)

# Where a draft's answers say whose it is, when a clerk fills it in for someone at the counter
# (the applicant's own account says it otherwise: the ID number linked to it).
OWNER_FIELDS = ("applicant.id_number", "enterprise.uscc", "applicant.uscc")

# The national trust levels (国办函〔2016〕108号): what each means and the watermark text every
# view of such a material carries. Templates are N_-marked: pages translate them.
TRUST_MEANING = {
    "A": N_("A: issued and sealed by the agency; usable directly"),
    "B": N_("B: checked against the original by a counter clerk; reusable"),
    "C": N_("C: uploaded by the applicant; the original is checked before use"),
    "D": N_("D: made by the applicant under a written promise; usable directly"),
}
WATERMARK = {
    "A": N_("Provided by %(issuer)s for government services only; valid until %(until)s"),
    "B": N_("Checked against the original; for government services only"),
    "C": N_("Uploaded by the applicant; to be checked against the original before use"),
    "D": N_("Provided under the applicant's promise; for government services only"),
}
SOURCE_NAMES = {
    "uploaded": N_("Uploaded in an application"),
    "e_licence": N_("From the e-licence register"),
    "decision": N_("Issued as a decision"),
}
MSG_STORAGE_DOWN = N_("The file could not be stored just now. Your other answers are saved: "
                      "try uploading the file again in a few minutes")


class MaterialStorageFailed(RuntimeError):
    """The material storage did not take the bytes (disk full, object storage unreachable)."""


def catalogue(session: Session) -> Catalogue:
    """The published material catalogue (empty before one is published)."""
    row = current_version(session, CATALOGUE_KIND, CATALOGUE_CODE)
    return compile_catalogue(row.content if row is not None else None)


def watermark(material: Material, translate: Any = str) -> str:
    """The watermark text of ``material`` in the page's language (``translate`` = gettext)."""
    text: str = translate(WATERMARK[material.trust_level])
    if material.trust_level == "A":
        until = material.expires_on.isoformat() if material.expires_on else translate(
            N_("no end date"))
        return text % {"issuer": material.issuer or "-", "until": until}
    return text


# --- owners -----------------------------------------------------------------------------------

def owner_of_user(session: Session, user_id: int | None) -> str | None:
    """The ID number the account is linked to (``tongban users link-id``), if any."""
    if user_id is None:
        return None
    found: str | None = session.scalars(select(col(LedgerPerson.id_number))
                                        .where(col(LedgerPerson.user_id) == user_id)).first()
    return found


def owner_in_answers(answers: Any) -> str | None:
    """The ID number or USCC a clerk typed for the applicant, when it is a valid one."""
    for field in OWNER_FIELDS:
        value = paths.get_in(answers, paths.split(field))
        if isinstance(value, str):
            checker = check_cn_uscc if field.endswith("uscc") else check_cn_id_number
            if checker(value) is None:
                return value.upper()
    return None


def owner_of_draft(session: Session, draft: Draft | Application, answers: Any) -> str | None:
    """Whose library a draft (or application) reads and feeds: the applicant's own account's
    linked ID number; for one a clerk fills in at the counter, the applicant's number in the
    answers (the clerk has seen the person's papers). None: no library (an anonymous or
    unlinked applicant)."""
    if draft.clerk_id is not None:
        return owner_in_answers(answers)
    if draft.person_id is not None:  # an agent's draft for the person who mandated them
        found: str | None = session.scalars(select(col(Person.id_number)).where(
            col(Person.id) == draft.person_id)).first()
        return found
    user_id = draft.user_id if isinstance(draft, Draft) else draft.submitter_id
    return owner_of_user(session, user_id)


# --- reading ----------------------------------------------------------------------------------

def is_valid(material: Material, today: date) -> bool:
    return material.expires_on is None or material.expires_on >= today


def materials_of(session: Session, owner: str) -> list[Material]:
    """Every material of ``owner``, newest first."""
    return list(session.scalars(select(Material).where(col(Material.owner) == owner)
                                .order_by(col(Material.created_at).desc(),
                                          col(Material.id).desc())))


def by_public_id(session: Session, public_id: str) -> Material | None:
    found: Material | None = session.scalars(
        select(Material).where(col(Material.public_id) == public_id)).first()
    return found


def offers(session: Session, owner: str | None, type_codes: Iterable[str],
           today: date) -> dict[str, list[Material]]:
    """The owner's valid materials of each type, newest first: what a file question naming
    the type offers instead of an upload. Expired ones are never offered."""
    wanted = sorted(set(type_codes))
    if owner is None or not wanted:
        return {}
    found: dict[str, list[Material]] = {}
    for material in session.scalars(select(Material).where(
            col(Material.owner) == owner, col(Material.type_code).in_(wanted))
            .order_by(col(Material.created_at).desc(), col(Material.id).desc())):
        if is_valid(material, today):
            found.setdefault(material.type_code, []).append(material)
    return found


def question_types(form: FormDefinition) -> dict[str, str]:
    """File question key -> the material type its ui names."""
    return {key: str(form.fields[key][0].ui["material"]) for key in form.file_keys
            if form.fields[key][0].ui.get("material")}


# --- writing ----------------------------------------------------------------------------------

def put_bytes(storage: MaterialStorage, data: bytes, *, content_type: str,
              name: str) -> StoredMaterial:
    """Hand ``data`` to the storage; any failure of it is :class:`MaterialStorageFailed`."""
    try:
        return storage.put(data, content_type=content_type, name=name)
    except Exception as exc:  # a plugin may fail any way (OSError, botocore, ConnectorError)
        log.warning("material storage %r failed to store %s bytes: %s", storage.id, len(data),
                    exc)
        raise MaterialStorageFailed(str(exc)) from exc


def add_material(session: Session, *, owner: str, type_code: str, types: Catalogue,
                 storage: str, stored: StoredMaterial, original_name: str, source: str,
                 trust_level: str, today: date, issuer: str = "", issued_on: date | None = None,
                 expires_on: date | None = None, application_id: int | None = None,
                 created_by: int | None = None) -> Material:
    """Record a material whose bytes the storage holds. The expiry follows the catalogue's
    rule unless the document states its own."""
    kind = types[type_code]
    material = Material(
        public_id=secrets.token_urlsafe(18), owner=owner, owner_kind=kind.owner,
        type_code=type_code, sha256=stored.sha256, size=stored.size, mime=stored.content_type,
        original_name=original_name, storage=storage, storage_key=stored.key,
        issuer=issuer or kind.issuer, issued_on=issued_on,
        expires_on=kind.expires_on(issued_on or today, expires_on), source=source,
        trust_level=trust_level, application_id=application_id, created_by=created_by)
    session.add(material)
    session.flush()
    return material


def keep_uploads(session: Session, application: Application, form: FormDefinition,
                 types: Catalogue, owner: str | None, today: date) -> list[Material]:
    """At submit: each file uploaded for a question naming a material type becomes a C-level
    material of the applicant (its bytes went to the storage when it was uploaded). A stored
    material the applicant chose is reused as it is."""
    if owner is None:
        return []
    by_key = question_types(form)
    if not by_key:
        return []
    kept = []
    uploads = session.scalars(select(StoredUpload).where(
        col(StoredUpload.application_id) == application.id,
        col(StoredUpload.material_id).is_(None), col(StoredUpload.storage_key).is_not(None)))
    for upload in uploads:
        type_code = by_key.get(upload.field_key)
        if type_code is None or type_code not in types or upload.storage is None \
                or upload.storage_key is None:
            continue
        stored = StoredMaterial(key=upload.storage_key, sha256=upload.sha256, size=upload.size,
                                content_type=upload.mime)
        material = add_material(session, owner=owner, type_code=type_code, types=types,
                                storage=upload.storage, stored=stored,
                                original_name=upload.original_name, source="uploaded",
                                trust_level="C", today=today, application_id=application.id,
                                created_by=upload.uploaded_by)
        upload.material_id = material.id
        kept.append(material)
    return kept


DECISION_TYPE = "decision"
"""The catalogue type sealed decision documents are filed under (A-level, source decision)."""


def file_decisions(session: Session, application: Application,
                   sealed: Iterable[SealedDocumentRecord], *, storage: str, issuer: str,
                   today: date) -> list[Material]:
    """File each sealed decision document of ``application`` in its applicant's library as
    an A-level material (issued and sealed by the agency: usable directly), in the caller's
    unit of work. Nothing is filed without an owner, or when the catalogue has no
    ``decision`` type."""
    types = catalogue(session)
    owner = owner_of_draft(session, application, application.answers)
    if owner is None or DECISION_TYPE not in types:
        return []
    return [add_material(session, owner=owner, type_code=DECISION_TYPE, types=types,
                         storage=storage,
                         stored=StoredMaterial(key=row.storage_key, sha256=row.sha256,
                                               size=row.size, content_type=row.media_type),
                         original_name=row.file_name, source="decision", trust_level="A",
                         today=today, issuer=issuer, issued_on=today,
                         application_id=application.id)
            for row in sealed]


def check_against_original(material: Material) -> bool:
    """A counter clerk has checked an uploaded (C-level) material against the original the
    person showed: it becomes B-level, reusable without another check. False when it is not
    a C-level material (A and D need no check; B is checked already)."""
    if material.trust_level != "C":
        return False
    material.trust_level = "B"
    return True


# --- the counter's checklist ------------------------------------------------------------------

@dataclass(frozen=True)
class ChecklistRow:
    """One material the service lists: ``state`` is ``present`` (the application carries it, or
    the library holds a valid one), ``expired`` (the library's latest has lapsed and the
    application carries none) or ``missing``."""

    code: str
    name: Mapping[str, str]
    required: bool
    state: str
    in_application: bool
    material: Material | None


def checklist(service: Mapping[str, Any], answers: Any, uploads: Mapping[str, StoredUpload],
              library: list[Material], today: date) -> list[ChecklistRow]:
    """The service's materials against the application's files (``uploads`` by public id)
    and the applicant's library (``library``, newest first)."""
    rows = []
    for entry in service.get("materials") or []:
        key = entry.get("form_field")
        value = paths.get_in(answers, paths.split(key)) if key else None
        upload = uploads.get(value) if isinstance(value, str) else None
        in_application = upload is not None and upload.field_key == key
        type_code = entry.get("type")
        of_type = [m for m in library if type_code is not None and m.type_code == type_code]
        valid = next((m for m in of_type if is_valid(m, today)), None)
        chosen = next((m for m in library if upload is not None
                       and m.id == upload.material_id), None)
        if in_application or valid is not None:
            state, material = "present", chosen or valid
        elif of_type:
            state, material = "expired", of_type[0]
        else:
            state, material = "missing", None
        rows.append(ChecklistRow(entry["code"], entry["name"], bool(entry["required"]), state,
                                 in_application, material))
    return rows
