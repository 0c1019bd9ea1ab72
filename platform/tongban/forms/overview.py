"""Whole-form overviews as HTML: the check-answers summary and the task list.

The Python side of ``templates/forms/_check_answers.html`` and ``_task_list.html``. Call the
``render_*`` functions inside an application context (they use the app's Jinja environment).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask_babel import gettext
from jinja2 import Environment
from markupsafe import Markup

from tongban.forms import paths
from tongban.forms.display import display_value, key_of, parent_field
from tongban.forms.fields import Field, text_for
from tongban.forms.state import FormState, evaluate, rule_reads, validate_page, visible_pages
from tongban.i18n import N_

if TYPE_CHECKING:
    from tongban.forms.definition import FormDefinition

_STATUS = {"not_started": N_("Not yet started"), "in_progress": N_("In progress"),
           "completed": N_("Completed")}
_NOT_PROVIDED = N_("Not provided")


def check_answers_rows(form: FormDefinition, answers: Any, lang: str = "zh",
                       state: FormState | None = None) -> list[dict[str, Any]]:
    """The answers by visible page, as rows of (label, value) for the check-answers page."""
    state = state or evaluate(form, answers)
    sections = []
    for page in visible_pages(form, state):
        rows: list[dict[str, Any]] = []
        for key in page.keys:
            segments = paths.split(key)
            parent_value = paths.get_in(state.answers, segments[:-1])
            fields = form.fields.get(key, []) if key else [form.root]
            if key and fields and fields[0].conditions:
                parent = parent_field(form, segments)
                active = {id(c) for c in parent.active_children(parent_value)}
                fields = [f for f in fields if id(f) in active]
            for fld in fields[:1]:
                value = paths.get_in(parent_value, [fld.name]) if key else state.answers
                _rows(form, fld, key, value, lang, state, rows, prefix="", page_id=page.id)
        sections.append({"page": page.id, "title": text_for(page.title, lang)
                         or text_for(form.title, lang), "rows": rows})
    return sections


def _rows(form: FormDefinition, fld: Field, path: str, value: Any, lang: str, state: FormState,
          rows: list[dict[str, Any]], *, prefix: str, page_id: str) -> None:
    if fld.key and state.is_hidden(form, fld.key):
        return
    label = prefix + text_for(fld.label, lang)
    if fld.is_item:  # "家庭成员 1", not "家庭成员 1: " with a colon for its empty label
        label = prefix.rstrip(": ")
    if fld.widget == "fieldset" and fld.children:
        for child in fld.active_children(value):
            _rows(form, child, paths.child(path, child.name), paths.get_in(value, [child.name]), lang,
                  state, rows, prefix=f"{label}: " if label and path else prefix, page_id=page_id)
        return
    if fld.widget == "repeatable" and fld.item is not None and isinstance(value, list) and value:
        item_name = text_for(fld.ui.get("item_label"), lang) or label
        for index, item in enumerate(value):
            _rows(form, fld.item, paths.child(path, index), item, lang, state, rows,
                  prefix=f"{item_name} {index + 1}: ", page_id=page_id)
        return
    change_page, change_id = _change_target(form, fld, path, page_id, state)
    rows.append({"path": path, "key": fld.key, "label": label, "page": page_id,
                 "id": paths.element_id(path),
                 "calculated": fld.key in form.calculated,
                 "change_page": change_page, "change_id": change_id,
                 "value": display_value(fld, value, lang) if value not in (None, "", [])
                 else gettext(_NOT_PROVIDED), "provided": value not in (None, "", [])})


def _change_target(form: FormDefinition, fld: Field, path: str, page_id: str,
                   state: FormState) -> tuple[str | None, str | None]:
    """Where a check-answers row's "Change" link goes, as (page id, element id).

    An answer that can be edited: its own question. A calculated answer: the one question it
    is calculated from, when that can be edited (a birth date calculated from the ID number
    links to the ID number). Anything else: (None, None), no link, since the page it is on
    would not let the applicant change it.
    """
    if fld.key not in form.calculated:
        return (page_id, paths.element_id(path)) if fld.accepts_input else (None, None)
    source = _calculated_source(form, fld.key, frozenset())
    if source is None:
        return None, None
    key = key_of(form, source)
    page = form.page_of.get(key or "")
    if key is None or page is None or not state.page_visible(page) or state.is_hidden(form, key):
        return None, None
    return page, paths.element_id(source)


def _calculated_source(form: FormDefinition, target: str, seen: frozenset[str]) -> str | None:
    """The instance path of the single editable question a calculated field is made from (through
    other calculated fields), or None when it reads none or several."""
    reads: set[str] = set()
    for rule in form.rules:
        if rule.action == "set" and rule.target == target:
            reads |= rule_reads(rule)
    if len(reads) != 1:
        return None
    source = next(iter(reads))
    key = key_of(form, source)
    if not key or key not in form.fields:
        return None
    if key in form.calculated:
        return None if key in seen else _calculated_source(form, key, seen | {target})
    fld = form.fields[key][0]
    if fld.widget in ("fieldset", "repeatable") or not fld.accepts_input:
        return None
    return source


def render_check_answers(form: FormDefinition, answers: Any, *, lang: str = "zh",
                         urls: Mapping[str, str] | None = None, csrf_token: str = "",
                         templates: Environment) -> Markup:
    """The check-answers summary; ``urls['change']`` is a page URL with ``{page}`` in it,
    ``urls['action']`` where "Confirm and send" posts, with ``csrf_token`` (required then);
    ``templates`` holds ``forms/*.html``."""
    urls = dict(urls or {})
    if urls.get("action") and not csrf_token:
        raise ValueError("a check-answers page that posts needs the CSRF token")
    sections = check_answers_rows(form, answers, lang)
    change = urls.get("change")
    for section in sections:
        for row in section["rows"]:
            # A calculated answer links to the question it is made from, or nowhere.
            row["change_url"] = (change.replace("{page}", row["change_page"]) + "#"
                                 + row["change_id"] if change and row["change_page"] else None)
    return Markup(templates.get_template("forms/_check_answers.html").render(
        sections=sections, urls=urls, lang=lang, form_title=text_for(form.title, lang),
        csrf=csrf_token))


def task_list(form: FormDefinition, answers: Any, lang: str = "zh") -> list[dict[str, Any]]:
    """Sections of a long form with their status: not_started, in_progress or completed."""
    state = evaluate(form, answers)
    result = []
    groups = [(s.id, s.title, s.pages) for s in form.sections] or [
        (p.id, p.title or form.title, (p.id,)) for p in form.pages]
    for section_id, title, page_ids in groups:
        pages = [form.page_by_id[p] for p in page_ids if state.page_visible(p)]
        if not pages:
            continue
        answered = any(paths.get_in(state.answers, paths.split(k)) not in (None, "", [], {})
                       for p in pages for k in p.keys if k)
        complete = answered and not any(validate_page(form, p.id, answers, state)
                                        for p in pages)
        status = "completed" if complete else ("in_progress" if answered else "not_started")
        result.append({"id": section_id, "title": text_for(title, lang),
                       "first_page": pages[0].id, "status": status})
    return result


def render_task_list(form: FormDefinition, answers: Any, *, lang: str = "zh",
                     urls: Mapping[str, str] | None = None, templates: Environment) -> Markup:
    """The task list; ``urls['page']`` is a page URL with ``{page}`` in it; ``templates``
    holds ``forms/*.html``."""
    page_url = dict(urls or {}).get("page", "{page}")
    tasks = task_list(form, answers, lang)
    for task in tasks:
        task["url"] = page_url.replace("{page}", task["first_page"])
        task["status_text"] = gettext(_STATUS[task["status"]])
    return Markup(templates.get_template("forms/_task_list.html").render(
        tasks=tasks, lang=lang))
