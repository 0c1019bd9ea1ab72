"""Sealed documents (电子签章): sealing a draft with the configured signer, keeping the file in
the material storage with a verification code, and checking a file or a code for the public
verification page. The signers and the storage come from plugins (docs/seals.md); this module
never sees a key."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from .models import SealedDocumentRecord
from .plugin_api import (
    DocumentDraft,
    MaterialNotFound,
    MaterialStorage,
    SealedDocument,
    Signer,
    StoredMaterial,
    Verification,
)

log = logging.getLogger(__name__)

# 32 letters and digits without 0/O and 1/I: 16 of them are 80 bits, read aloud without doubt.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 16
_SEPARATORS = re.compile(r"[\s\-–—_]+")


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def shown_code(code: str) -> str:
    """The code as printed: four groups of four."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normal_code(text: str) -> str | None:
    """A typed code without spaces or dashes, upper case; None when it cannot be one (wrong
    length or a character the alphabet does not have)."""
    code = _SEPARATORS.sub("", text).upper()
    if len(code) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in code):
        return None
    return code


@dataclass(frozen=True)
class Made:
    """A sealed file kept in the storage, not yet recorded."""

    sealed: SealedDocument
    stored: StoredMaterial
    signer_id: str
    draft: DocumentDraft
    purpose: str


def make(signer: Signer, storage: MaterialStorage, draft: DocumentDraft, *,
         purpose: str) -> Made:
    """Seal ``draft`` and keep the file (no database: a remote signer may take its time). A
    failing signer raises its ConnectorError."""
    sealed = signer.seal(draft, purpose=purpose)
    stored = storage.put(sealed.content, content_type=sealed.media_type,
                         name=f"{draft.reference or draft.title}.{sealed.extension}")
    return Made(sealed, stored, signer.id, draft, purpose)


def record(session: Session, made: Made, *,
           application_id: int | None = None) -> SealedDocumentRecord:
    """Record a kept sealed file with a new verification code (flushed, not committed)."""
    draft, sealed = made.draft, made.sealed
    stem = re.sub(r"[\\/:*?\"<>|\s]+", "_", draft.reference or draft.title)[:150] or "document"
    row = SealedDocumentRecord(
        code=new_code(), sha256=made.stored.sha256, size=made.stored.size,
        signer_id=made.signer_id, media_type=sealed.media_type,
        file_name=f"{stem}.{sealed.extension}", storage_key=made.stored.key,
        purpose=made.purpose, title=draft.title[:300], reference=draft.reference[:100],
        application_id=application_id, sealed_by=sealed.signature.signed_by[:300],
        signed_at=sealed.signature.signed_at)
    session.add(row)
    session.flush()
    return row


def issue(session: Session, signer: Signer, storage: MaterialStorage, draft: DocumentDraft, *,
          purpose: str, application_id: int | None = None) -> SealedDocumentRecord:
    """Seal ``draft``, keep the file and record it with a new verification code, in the
    caller's unit of work. A failing signer raises its ConnectorError and nothing is
    recorded."""
    return record(session, make(signer, storage, draft, purpose=purpose),
                  application_id=application_id)


def of_application(session: Session, application_id: int) -> list[SealedDocumentRecord]:
    """The documents sealed for an application, oldest first."""
    return list(session.scalars(select(SealedDocumentRecord)
                                .where(col(SealedDocumentRecord.application_id) == application_id)
                                .order_by(col(SealedDocumentRecord.id))))


@dataclass(frozen=True)
class Outcome:
    """What the verification page shows: the verdict (one of plugin_api.VERDICTS), the
    signer's reason for the record, who sealed it when, and the platform's record of the
    document when it has one (found by code, or by the file's hash)."""

    verdict: str
    reason: str = ""
    sealed_by: str = ""
    signer: str = ""
    signed_at: datetime | None = None
    record: SealedDocumentRecord | None = None
    kind: str = ""      # the signer that recognised the file

    @property
    def valid(self) -> bool:
        return self.verdict == "valid"


UNRECOGNISED = "no signer recognises this file as a sealed document"


def _outcome(found: Verification, kind: str, record: SealedDocumentRecord | None) -> Outcome:
    return Outcome(found.verdict, found.reason, found.sealed_by, found.signer, found.signed_at,
                   record, kind)


def check_file(session: Session, signers: Mapping[str, Signer], content: bytes) -> Outcome:
    """Ask each signer about ``content``; the first that recognises it gives the verdict.
    ``unknown`` when none does. The record is the platform's copy with the same bytes."""
    digest = hashlib.sha256(content).hexdigest()
    record = session.scalars(select(SealedDocumentRecord)
                             .where(col(SealedDocumentRecord.sha256) == digest).limit(1)).first()
    broken: list[str] = []
    for signer_id in sorted(signers):
        # A signer written against the older contract (detached signatures only) has no
        # verify_document: it recognises no file.
        verify_document = getattr(signers[signer_id], "verify_document", None)
        try:
            found = verify_document(content) if verify_document is not None else None
        except Exception:  # a plugin's bug must not take the public page down: ask the others
            log.exception("signer %s failed on a file handed in for checking", signer_id)
            broken.append(signer_id)
            continue
        if found is not None:
            return _outcome(found, signer_id, record)
    if broken:
        return Outcome("unknown", f"the {', '.join(broken)} signer could not check the file",
                       record=record)
    return Outcome("unknown", UNRECOGNISED, record=record)


def check_code(session: Session, signers: Mapping[str, Signer], storage: MaterialStorage,
               code: str) -> Outcome:
    """Check the kept file a verification code names, with the signer that sealed it:
    ``unknown`` for a code the platform never gave, or whose file or signer is gone."""
    record = session.scalars(select(SealedDocumentRecord)
                             .where(col(SealedDocumentRecord.code) == code)).first()
    if record is None:
        return Outcome("unknown", "no document has this verification code")
    signer = signers.get(record.signer_id)
    if signer is None:
        return Outcome("unknown", f"the signer {record.signer_id!r} that sealed it is not "
                                  "installed", record=record)
    try:
        content = storage.get(record.storage_key)
    except MaterialNotFound:
        return Outcome("unknown", "the sealed file is no longer kept", record=record)
    if hashlib.sha256(content).hexdigest() != record.sha256:
        return Outcome("tampered", "the kept file changed after it was sealed", record=record,
                       sealed_by=record.sealed_by, signed_at=record.signed_at)
    found = signer.verify_document(content)
    if found is None:
        return Outcome("unknown", "the signer does not recognise the kept file", record=record)
    return _outcome(found, record.signer_id, record)
