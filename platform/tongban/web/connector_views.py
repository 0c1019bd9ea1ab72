"""The pages' side of connectors: prefill when a draft starts or a page is saved, the note on
a form page saying where prefilled answers came from, and the reviewer's register check."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import current_app, g, render_template, request
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlmodel import col

from .. import connectors
from ..applications import save_answers
from ..connectors.prefill import Note
from ..connectors.verify import VerifyRow
from ..forms.definition import FormDefinition
from ..forms.display import display_value
from ..i18n import current_lang
from ..intake import Pinned
from ..models import Application, Draft, LedgerPerson
from .database import request_session, request_transaction


def _actor() -> tuple[int | None, str]:
    if current_user.is_authenticated:
        return current_user.id, current_user.username
    return None, "anonymous"


def _has_connectors(pinned_defs: Pinned) -> bool:
    return bool(pinned_defs.service.content.get("connectors"))


def account_id_number(user_id: int | None) -> str | None:
    """The ID number linked to the account, if any (what registers are asked about)."""
    if user_id is None:
        return None
    return request_session().scalars(select(col(LedgerPerson.id_number))
                                     .where(col(LedgerPerson.user_id) == user_id)).first()


def prefill(draft: Draft, pinned_defs: Pinned, *, starting: bool = False) -> None:
    """Run the service's prefill queries for the draft and save what they filled in. At the
    start of a citizen's own draft, the account's ID number (when linked) is put in first."""
    service = pinned_defs.service.content
    if not _has_connectors(pinned_defs) or draft.id is None:
        return
    answers = dict(draft.answers)
    if starting and draft.clerk_id is None:
        answers = connectors.seed_person(service, pinned_defs.form, answers,
                                         account_id_number(draft.user_id))
    actor_id, actor_name = _actor()
    session = request_session()
    filled, _ = connectors.prefill_draft(
        session, connectors.registry(current_app), service, draft.id, answers, actor_id=actor_id,
        actor_name=actor_name, request_id=getattr(g, "request_id", ""))
    if filled != draft.answers:
        with request_transaction() as tx:
            row = tx.get(Draft, draft.id)
            if row is not None:
                save_answers(tx, row, filled, None, service)
                draft.answers = filled


def _shown(form: FormDefinition, note: Note) -> Note:
    """The note with the register's value as the form shows it (an option's label, not its
    code)."""
    fields = form.fields.get(note.key) or []
    if note.unverified or not fields or note.value is None:
        return note
    return dataclasses.replace(note, value=display_value(fields[0], note.value, current_lang()))


def page_notes(draft: Draft, pinned_defs: Pinned, page_id: str, answers: Any) -> Markup:
    """The box above a form page's questions naming the source of its prefilled answers
    (empty markup when none)."""
    if not _has_connectors(pinned_defs) or draft.id is None:
        return Markup("")
    notes = [_shown(pinned_defs.form, note) for note in connectors.prefill_notes(
        request_session(), pinned_defs.service.content, pinned_defs.form, draft.id, answers,
        page_id)]
    if not notes:
        return Markup("")
    return Markup(render_template("connectors/_prefill_notes.html", notes=notes))


def answer_sources(draft: Draft, pinned_defs: Pinned) -> dict[str, Note]:
    """Question key -> where the check-answers page says its answer came from."""
    if not _has_connectors(pinned_defs) or draft.id is None:
        return {}
    found = connectors.provenance(request_session(), pinned_defs.service.content,
                                  pinned_defs.form, draft.id, draft.answers)
    return {key: _shown(pinned_defs.form, note) for key, note in found.items()}


def register_check(application: Application, pinned_defs: Pinned) -> list[VerifyRow]:
    """The reviewer's comparison of answers and registers (kept answers reused; a failed
    source asked again; ``?recheck=1`` asks every source again)."""
    if not _has_connectors(pinned_defs) or application.id is None:
        return []
    actor_id, actor_name = _actor()
    rows = connectors.verification(
        request_session(), connectors.registry(current_app), pinned_defs.service.content, pinned_defs.form,
        application.id, application.answers, actor_id=actor_id, actor_name=actor_name,
        request_id=getattr(g, "request_id", ""), refresh=request.args.get("recheck") == "1")
    lang = current_lang()

    def shown(row: VerifyRow) -> VerifyRow:  # option labels, not codes (compared as codes)
        fields = pinned_defs.form.fields.get(row.key) or []
        if not fields:
            return row
        return dataclasses.replace(
            row, answer=None if row.answer is None else display_value(fields[0], row.answer, lang),
            register=None if row.register is None else display_value(fields[0], row.register, lang))
    return [shown(row) for row in rows]
