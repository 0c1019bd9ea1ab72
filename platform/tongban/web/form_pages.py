"""Glue between the form engine's renderers and the journey's pages (URLs, uploads, layout)."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import select
from sqlmodel import col

from ..forms import coerce, overview, render, state, voice
from ..forms.errors import FieldError
from ..i18n import current_lang
from ..intake import Pinned
from ..models import Draft, Person, StoredUpload
from . import connector_views, layout, materials
from .database import request_session
from .files import remember_draft
from .urls import fixed_url, path_url


def _uploads_by_id(draft_id: int | None = None,
                   uploads: list[StoredUpload] | None = None) -> dict[str, StoredUpload]:
    if uploads is None:
        uploads = list(request_session().scalars(
            select(StoredUpload).where(col(StoredUpload.draft_id) == draft_id)))
    return {u.public_id: u for u in uploads}


def _page_urls(draft: Draft, page_id: str, from_check: bool, form: Any,
               current: state.FormState | None = None) -> dict[str, str]:
    current = current or state.evaluate(form, draft.answers)
    previous = state.previous_page(form, page_id, current)
    token = draft.token
    if from_check:
        back = path_url("apply.check", token=token)
    elif previous is not None:
        back = path_url("apply.page", token=token, page_id=previous)
    else:
        back = path_url("portal.service", code=draft.service_code)
    page_url = path_url("apply.page", token=token, page_id=page_id)
    action = page_url + "?from=check" if from_check else page_url
    return {
        "action": action,
        "validate": page_url + "/field",  # apply.field: the page's URL and /field
        "regions": fixed_url("regions.provinces"),
        "back": back,
        "save": action,  # the same page, with action=save; not a relative "save" URL
        # the header's language and 长辈版 switches (apply.switch), which save the page first
        "switch": page_url + "/switch" + ("?from=check" if from_check else ""),
    }


def speaks_of_applicant(draft: Draft) -> bool:
    """A draft a clerk or an agent fills in for someone speaks of the applicant (申请人)."""
    return draft.clerk_id is not None or draft.person_id is not None


def applicant_of(draft: Draft) -> Person | None:
    """The person a counter clerk fills this draft in for (None: one's own draft)."""
    if draft.person_id is None:
        return None
    return request_session().get(Person, draft.person_id)


def page(pinned_defs: Pinned, draft: Draft, page_id: str, answers: Any,
         errors: list[FieldError], raw: dict[str, list[str]] | None, from_check: bool,
         upload_errors: dict[str, str] | None = None) -> str:
    # A clerk's draft speaks of the applicant (申请人), not to "you" (docs/counter.md).
    with voice.speaking_of_applicant(speaks_of_applicant(draft)):
        return _page(pinned_defs, draft, page_id, answers, errors, raw, from_check)


def _page(pinned_defs: Pinned, draft: Draft, page_id: str, answers: Any,
          errors: list[FieldError], raw: dict[str, list[str]] | None, from_check: bool) -> str:
    form = pinned_defs.form
    remember_draft(draft.token)
    lang = current_lang()
    # No calculated value made from an answer refused on this post is shown again.
    current = state.evaluate(form, answers, failed=[e.path for e in errors if e.path])
    urls = _page_urls(draft, page_id, from_check, form, current)
    layout.send_page_along(urls["switch"])
    uploads = _uploads_by_id(draft.id) if _has_file_answer(form, answers) else {}
    offered = materials.draft_offers(draft, form, page_id)
    body = render.render_page(form, page_id, answers, errors, lang=lang, state=current,
                              csrf_token=generate_csrf(), templates=current_app.jinja_env,
                              urls=urls, raw=raw, files={i: u.original_name for i, u in uploads.items()},
                              offers=materials.offer_views(offered),
                              chosen=materials.chosen_materials(uploads.values()))
    body = connector_views.page_notes(draft, pinned_defs, page_id, answers) + body
    page_def = form.page_by_id[page_id]
    context = {"service": pinned_defs.service.content,
               "page_title": render.text_for(page_def.title, lang)
               or render.text_for(form.title, lang)}
    attached = _file_answers(form, answers, uploads)
    applicant = applicant_of(draft)
    if errors or attached or applicant is not None:
        return render_template("apply/page.html", body=body, has_errors=bool(errors),
                               uploads=attached, applicant=applicant, **context)
    # Around the questions, the page is the same for every draft of this version: kept.
    return layout.framed("apply/page.html", (draft.service_version_id, draft.form_version_id,
                                             page_id), {"body": body}, has_errors=False,
                         uploads=[], **context)


def _has_file_answer(form: Any, answers: Any) -> bool:
    return any(_get(answers, key.split(".")) for key in form.file_keys)


def _file_answers(form: Any, answers: Any, uploads: dict[str, StoredUpload]) -> list[Any]:
    """Files already uploaded in this draft, so the page can say what is attached."""
    found = []
    for key in form.file_keys:
        value = _get(answers, key.split("."))
        if isinstance(value, str) and value in uploads:
            found.append((render.text_for(form.fields[key][0].label, current_lang()),
                          uploads[value]))
    return found


def _get(data: Any, segments: list[str]) -> Any:
    for segment in segments:
        if not isinstance(data, dict):
            return None
        data = data.get(segment)
    return data


def field_fragment(pinned_defs: Pinned, draft: Draft, page_id: str, name: str,
                   formdata: Any) -> Markup:
    """Check the answers posted from one page without saving, and return one field's group."""
    with voice.speaking_of_applicant(speaks_of_applicant(draft)):
        return _field_fragment(pinned_defs, draft, page_id, name, formdata)


def _field_fragment(pinned_defs: Pinned, draft: Draft, page_id: str, name: str,
                    formdata: Any) -> Markup:
    form = pinned_defs.form
    result = coerce.coerce_page(form, page_id, formdata, draft.answers)
    current = state.evaluate(form, result.answers)
    errors = [e for e in [*result.errors, *state.validate_page(form, page_id, current.answers,
                                                              current)] if e.path == name]
    return render.render_field(form, name, result.answers, errors[:1], lang=current_lang(),
                               urls=_page_urls(draft, page_id, False, form), raw=result.raw,
                               templates=current_app.jinja_env)


def task_list(pinned_defs: Pinned, draft: Draft) -> str:
    with voice.speaking_of_applicant(speaks_of_applicant(draft)):
        return _task_list(pinned_defs, draft)


def _task_list(pinned_defs: Pinned, draft: Draft) -> str:
    form = pinned_defs.form
    body = overview.render_task_list(
        form, draft.answers, lang=current_lang(),
        urls={"page": url_for("apply.page", token=draft.token, page_id="PAGE").replace(
            "PAGE", "{page}")}, templates=current_app.jinja_env)
    return render_template("apply/tasks.html", body=body, draft=draft,
                           service=pinned_defs.service.content, applicant=applicant_of(draft))


def check_answers(pinned_defs: Pinned, draft: Draft, missing_page: str | None,
                  declaration_error: str | None) -> str:
    with voice.speaking_of_applicant(speaks_of_applicant(draft)):
        return _check_answers(pinned_defs, draft, missing_page, declaration_error)


def _check_answers(pinned_defs: Pinned, draft: Draft, missing_page: str | None,
                   declaration_error: str | None) -> str:
    form = pinned_defs.form
    lang = current_lang()
    sections = overview.check_answers_rows(form, draft.answers, lang)
    uploads = _uploads_by_id(draft.id)
    sources = connector_views.answer_sources(draft, pinned_defs)
    # `from` is a keyword, so it travels in a mapping; Any keeps url_for's typed flags apart.
    change_args: dict[str, Any] = {"token": draft.token, "page_id": "PAGE", "from": "check"}
    change = url_for("apply.page", **change_args)
    for section in sections:
        for row in section["rows"]:
            _describe_file(form, row, uploads)
            row["source"] = sources.get(row.get("key") or "")
            # A calculated answer links to the question it is made from, or has no link.
            row["change_url"] = (change.replace("PAGE", row["change_page"]) + "#"
                                 + row["change_id"] if row["change_page"] else None)
    return render_template(
        "apply/check.html", sections=sections, draft=draft, service=pinned_defs.service.content,
        missing_page=missing_page, declaration_error=declaration_error,
        form_title=render.text_for(form.title, lang), applicant=applicant_of(draft),
        for_applicant=speaks_of_applicant(draft))


def _describe_file(form: Any, row: dict[str, Any], uploads: dict[str, StoredUpload]) -> None:
    """A file answer by its file's name; one that names no file of the draft was not given,
    as the question's page also says."""
    fields = form.fields.get(row.get("key") or "", [])
    if fields and fields[0].widget == "file" and row.get("provided"):
        upload = uploads.get(_get_value(row))
        if upload is not None and upload.field_key == row.get("key"):
            row["value"] = upload.original_name
            row["upload"] = upload
        else:
            row["value"] = _("Not provided")
            row["provided"] = False


def _get_value(row: dict[str, Any]) -> str:
    return str(row.get("raw_value") or row.get("value") or "")


def answer_rows(pinned_defs: Pinned, answers: Any,
                uploads: list[StoredUpload]) -> list[dict[str, Any]]:
    """All answers as flat rows, files linked, for reviewers."""
    form = pinned_defs.form
    by_id = _uploads_by_id(uploads=uploads)
    rows = []
    for section in overview.check_answers_rows(form, answers, current_lang()):
        for row in section["rows"]:
            _describe_file(form, row, by_id)
            rows.append(row)
    return rows
