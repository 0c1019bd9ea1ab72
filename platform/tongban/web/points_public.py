"""Public points pages, no sign-in (公开透明): the published rule sets, each one's rules in plain
language, and the self-check calculator that scores a citizen's answers with the same engine
as an application, storing nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlmodel import Session, col

from ..forms import render
from ..forms.definition import FormDefinition, load_form
from ..forms.errors import FieldError
from ..i18n import current_lang
from ..models import DefinitionVersion
from ..points import (
    BadInput,
    MissingInput,
    RuleSet,
    UnknownRuleSet,
    evaluate,
    plain,
    published_rule_sets,
    rules_for,
    selfcheck,
)
from ..services import current_services
from ..worktime import TZ, local_day
from .database import request_session

bp = Blueprint("points_public", __name__, url_prefix="/points")


@dataclass(frozen=True)
class Listed:
    id: str
    name: dict[str, str]
    version: int
    example: bool
    effective: str


def _rule_set_or_404(session: Session, rule_set_id: str) -> RuleSet:
    try:
        return rules_for(session, rule_set_id)
    except UnknownRuleSet:
        abort(404)


def _service_form(session: Session, rule_set_id: str) -> tuple[Any, FormDefinition | None]:
    """The first published service that names the rule set, and its current form."""
    for service in current_services(session):
        if service.content.get("rules") != rule_set_id:
            continue
        row = session.scalars(
            select(DefinitionVersion)
            .where(col(DefinitionVersion.kind) == "form",
                   col(DefinitionVersion.code) == service.content["form"])
            .order_by(col(DefinitionVersion.version).desc()).limit(1)).first()
        if row is not None:
            return service, load_form(row.content, name=f"{row.code}@{row.version}")
        return service, None
    return None, None


def _described(rule_set: RuleSet, form: FormDefinition | None) -> plain.PlainRules:
    content = dict(rule_set.content)
    units = plain.form_units(form, content.get("inputs") or {}) if form is not None else None
    return plain.describe(content, current_lang(), version=rule_set.version, units=units)


@bp.get("", strict_slashes=False)
def index() -> str:
    session = request_session()
    listed = []
    for entry in published_rule_sets(session):
        rule_set = rules_for(session, entry.id)
        listed.append(Listed(entry.id, entry.name, rule_set.version or 0, rule_set.example,
                             plain.describe(dict(rule_set.content), current_lang()).effective))
    return render_template("points/index.html", rule_sets=listed)


@bp.get("/<rule_set_id>")
def rules(rule_set_id: str) -> str:
    session = request_session()
    rule_set = _rule_set_or_404(session, rule_set_id)
    service, form = _service_form(session, rule_set_id)
    return render_template("points/rules.html", rule_set=rule_set, service=service,
                           described=_described(rule_set, form))


def _as_of() -> date:
    """Today in Shanghai: ages and look-back windows count on the day the citizen sees."""
    return local_day(datetime.now(TZ))


@bp.route("/<rule_set_id>/check", methods=["GET", "POST"])
def check(rule_set_id: str) -> ResponseReturnValue:
    session = request_session()
    rule_set = _rule_set_or_404(session, rule_set_id)
    service, service_form = _service_form(session, rule_set_id)
    found = selfcheck.questions(dict(rule_set.content), service_form,
                                name=f"self-check:{rule_set.id}@{rule_set.version}")
    lang = current_lang()
    answers: Any = selfcheck.initial(found)
    errors: list[FieldError] = []
    raw = None
    result = None
    as_of = _as_of()
    if request.method == "POST":
        answered = selfcheck.read_answers(found, request.form)
        answers, errors, raw = answered.answers, answered.errors, answered.raw
        if not errors:
            try:
                result = evaluate(rule_set, answers, as_of).to_json()
            except MissingInput as exc:
                errors = [selfcheck.missing_error(found, exc.path or "")]
            except BadInput as exc:  # an answer the form accepted but the rules cannot read
                errors = [FieldError(exc.path, exc.path if exc.path in found.form.fields
                                     else None, "type", {})]
    action = url_for("points_public.check", rule_set_id=rule_set.id)
    body = render.render_page(
        found.form, selfcheck.PAGE_ID, answers, errors, lang=lang, raw=raw,
        csrf_token=generate_csrf(), templates=current_app.jinja_env,
        urls={"action": action + "#result", "back": url_for("points_public.rules",
                                                          rule_set_id=rule_set.id)},
        submit=_("Work out my result"))
    status = 422 if errors else 200
    return render_template("points/check.html", rule_set=rule_set, service=service, body=body,
                           has_errors=bool(errors), result=result, as_of=as_of,
                           described=_described(rule_set, service_form)), status
