"""The form editor at /admin/services/<code>/form: the question list, the live preview drawn by
the form engine, undo and redo, and the text view of the same file (docs/console.md).

Every change is one post that reads the working copy's form file, applies one edit of
:mod:`tongban.console.form_edit` and saves it with the revision the page was drawn from; a
refusal or a stale revision draws the page again with what was posted kept.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_wtf.csrf import generate_csrf
from sqlmodel import Session

from ..console import form_edit, workspace
from ..console.form_doc import (
    NAMED_PATTERNS,
    OPERATORS,
    QUESTION_TYPES,
    Choice,
    Clause,
    Condition,
    Doc,
    EditError,
    dump,
    page_views,
    parse,
)
from ..console.form_editing import EditorView, editor_view, form_path, starting_text
from ..forms import coerce, render, state
from ..forms.definition import FormDefinitionError, load_form
from ..i18n import N_
from ..models import Role, ServiceDraft, User
from .access import require_role
from .console_editor import add_history, editor_user, open_file, save_edit
from .database import request_session, request_transaction
from .urls import fixed_url

FORM_SCHEMA = Path(__file__).resolve().parent.parent / "forms" / "form.schema.json"
bp = Blueprint("console_form", __name__, url_prefix="/admin/services/<code>/form")

# Query parameters the editor keeps across every post: the preview's switches, the question
# being edited and the view (question list or text).
_STATE = ("lang", "elder", "phone", "page", "q", "view")
_PREVIEW_HEADERS = {
    "X-Frame-Options": "SAMEORIGIN",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'self'"),
}


def _state() -> dict[str, Any]:
    values: dict[str, Any] = {name: request.values.get(name, "") for name in _STATE}
    values["lang"] = "en" if values["lang"] == "en" else "zh"
    for switch in ("elder", "phone"):
        values[switch] = "1" if values[switch] == "1" else ""
    values["view"] = "text" if values["view"] == "text" else ""
    return {name: value for name, value in values.items() if value and value != "zh"}


def _open(tx: Session, code: str) -> tuple[User, ServiceDraft, str]:
    return open_file(tx, code, form_path)


def _draw(code: str, *, error: str = "", error_at: str = "", stale: int | None = None,
          posted: dict[str, Any] | None = None, status: int = 200) -> ResponseReturnValue:
    with request_transaction() as tx:
        user, draft, path = _open(tx, code)
        view = editor_view(tx, code, draft, path)
        del user
    return render_template(
        "console/form_editor.html", code=code, view=view, state=_state(), error=error,
        error_at=error_at, stale=stale, posted=posted or {}, types=QUESTION_TYPES,
        csrf=generate_csrf(),  # once: every question carries a few small forms
        operators=OPERATORS, patterns=NAMED_PATTERNS,
        preview_url=url_for(".preview", code=code, rev=view.revision, **{
            k: v for k, v in _state().items() if k in ("lang", "elder", "page")})), status


@bp.get("")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def editor(code: str) -> ResponseReturnValue:
    return _draw(code)


def _back(code: str, focus: str | None = None) -> ResponseReturnValue:
    values = _state()
    if focus is not None:
        values["q"] = focus
    anchor = f"#q-{focus}" if focus else ""
    return redirect(url_for(".editor", code=code, **values) + anchor, 303)


def _edit(code: str, change: Callable[[Doc], tuple[Doc, str | None]], *,
          at: str = "") -> ResponseReturnValue:
    """Apply one edit to the working copy's form file and save it with the posted revision."""
    def edit(_tx: Session, draft: ServiceDraft, path: str) -> tuple[str, str | None]:
        doc, focus = change(parse(starting_text(code, draft.files, path)))
        return dump(doc), focus
    return save_edit(code, form_path, edit, draw=_draw, back=lambda q: _back(code, q), at=at)


@bp.post("/add")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def add(code: str) -> ResponseReturnValue:
    def change(doc: Doc) -> tuple[Doc, str | None]:
        return form_edit.add_question(doc, request.form.get("kind", ""),
                                      request.form.get("label_zh", ""),
                                      request.form.get("label_en", ""),
                                      page_id=request.form.get("to_page") or None)
    return _edit(code, change, at="add")


def _number(name: str, *, whole: bool) -> Any:
    text = request.form.get(name, "").strip()
    if not text:
        return None
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        raise EditError(N_("Enter a whole number.") if whole else N_("Enter a number.")) from None
    return value


def _choices() -> tuple[Choice, ...] | None:
    if "choice-count" not in request.form:
        return None
    count = request.form.get("choice-count", "0")
    rows = []
    for index in range(int(count) if count.isdigit() else 0):
        zh = request.form.get(f"choice-{index}-zh", "").strip()
        en = request.form.get(f"choice-{index}-en", "").strip()
        value = request.form.get(f"choice-{index}-value") or None
        if zh:
            rows.append(Choice(value, zh, en))
        elif en:
            raise EditError(N_("Enter the Chinese text of the choice \"%(choice)s\"."), choice=en)
    return tuple(rows)


@bp.post("/question/<key>")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def update(code: str, key: str) -> ResponseReturnValue:
    def change(doc: Doc) -> tuple[Doc, str | None]:
        form = request.form
        edit = form_edit.QuestionEdit(
            label_zh=form.get("label_zh", ""), label_en=form.get("label_en", ""),
            hint_zh=form.get("hint_zh", ""), hint_en=form.get("hint_en", ""),
            required=form.get("required") == "1",
            min_length=_number("min_length", whole=True),
            max_length=_number("max_length", whole=True),
            minimum=_number("minimum", whole=False), maximum=_number("maximum", whole=False),
            pattern=form.get("pattern", ""), choices=_choices())
        return form_edit.update_question(doc, key, edit), key
    return _edit(code, change, at=key)


@bp.post("/question/<key>/move")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def move(code: str, key: str) -> ResponseReturnValue:
    return _edit(code, lambda doc: (form_edit.move_question(
        doc, key, request.form.get("direction", "")), key), at=key)


@bp.post("/question/<key>/delete")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def delete(code: str, key: str) -> ResponseReturnValue:
    return _edit(code, lambda doc: (form_edit.delete_question(doc, key), None), at=key)


@bp.post("/question/<key>/split")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def split(code: str, key: str) -> ResponseReturnValue:
    return _edit(code, lambda doc: (form_edit.split_page(
        doc, key, request.form.get("title_zh", ""), request.form.get("title_en", "")), key),
        at=key)


def _posted_condition(doc: Doc) -> Condition | None:
    if request.form.get("clear") == "1":
        return None
    kinds = {q.key: q.kind for page in page_views(doc) for q in page.questions}
    clauses = []
    count = request.form.get("clause-count", "0")
    for index in range(int(count) if count.isdigit() else 0):
        question = request.form.get(f"clause-{index}-question", "")
        if not question:
            continue
        operator = request.form.get(f"clause-{index}-operator", "")
        value: Any = request.form.get(f"clause-{index}-value", "")
        if kinds.get(question) in ("choice", "choices", "yes_no"):
            picked = request.form.get(f"clause-{index}-answer", "")
            owner, _sep, answer = picked.partition("::")
            if picked and owner != question:
                raise EditError(N_("Choose one of the answers of the question the condition is "
                                   "about."))
            value = answer or value
        clauses.append(Clause(question, operator, value))
    if not clauses:
        raise EditError(N_("Choose the question the condition is about."))
    return Condition(request.form.get("combine", "all"), tuple(clauses))


@bp.post("/question/<key>/condition")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def condition(code: str, key: str) -> ResponseReturnValue:
    return _edit(code, lambda doc: (form_edit.set_condition(doc, key, _posted_condition(doc)),
                                    key), at=key)


@bp.post("/page/<page_id>")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def page(code: str, page_id: str) -> ResponseReturnValue:
    if request.form.get("merge") == "1":
        return _edit(code, lambda doc: (form_edit.merge_page(doc, page_id), None),
                     at="page-" + page_id)
    return _edit(code, lambda doc: (form_edit.rename_page(
        doc, page_id, request.form.get("title_zh", ""), request.form.get("title_en", "")),
        None), at="page-" + page_id)


@bp.post("/text")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def text(code: str) -> ResponseReturnValue:
    """Save the text view: any text is kept in the working copy; its problems are shown."""
    posted = request.form.get("text", "").replace("\r\n", "\n")
    return save_edit(code, form_path, lambda _tx, _draft, _path: (posted, None), draw=_draw,
                     back=lambda _q: _back(code), at="text")


@bp.route("/preview", methods=["GET", "POST"])
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def preview(code: str) -> ResponseReturnValue:
    """One page of the working copy's form as citizens see it, drawn by the form engine; a
    post checks the answers typed into the preview (nothing is kept)."""
    session = request_session()
    editor_user(session, code)
    draft = workspace.get_draft(session, code)
    path = form_path(code, draft.files) if draft is not None else None
    if draft is None or path is None:
        abort(404)
    lang = "en" if request.values.get("lang") == "en" else "zh"
    elder = request.values.get("elder") == "1"
    with force_locale("en" if lang == "en" else "zh_CN"):
        try:
            form = load_form(parse(starting_text(code, draft.files, path)), name=path)
        except (EditError, FormDefinitionError):
            body = render_template("console/_preview_broken.html")
            return body, 200, _PREVIEW_HEADERS
        page_id = request.values.get("page", "")
        if page_id not in form.page_by_id:
            page_id = form.pages[0].id
        answers: Any = {}
        errors: list[Any] = []
        raw = None
        if request.method == "POST":
            result = coerce.coerce_page(form, page_id, request.form, {})
            current = state.evaluate(form, result.answers)
            errors = [*result.errors, *state.validate_page(form, page_id, current.answers,
                                                           current)]
            answers, raw = result.answers, result.raw
        action = url_for(".preview", code=code, lang=lang, elder="1" if elder else None,
                         page=page_id)
        body = render.render_page(form, page_id, answers, errors, lang=lang, raw=raw,
                                  csrf_token=generate_csrf(), templates=current_app.jinja_env,
                                  urls={"action": action,
                                        "regions": fixed_url("regions.provinces")})
        page_def = form.page_by_id[page_id]
        html = render_template("console/form_preview.html", body=body, lang=lang, elder=elder,
                               title=render.text_for(page_def.title, lang)
                               or render.text_for(form.title, lang))
    return html, 200, _PREVIEW_HEADERS


@bp.get("/schema.json")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def schema(code: str) -> ResponseReturnValue:
    """The form file format (forms/form.schema.json), for the text view's completion."""
    del code
    return send_file(FORM_SCHEMA, mimetype="application/json", max_age=3600)


add_history(bp, form_path, draw=_draw, back=_back, focus="q")

__all__ = ["EditorView", "bp"]
