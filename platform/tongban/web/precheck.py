"""The eligibility pre-check page (/services/<code>/precheck): public, a plain form that works
without JavaScript (htmx swaps the answer in place). From "you can apply" the citizen starts
the application with the answers the form asks too already given. The judging is
tongban.precheck."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from .. import connectors, precheck
from ..definitions.publish import effective_version
from ..forms.definition import load_form
from ..i18n import current_lang, pick
from ..services import PublishedService, get_service
from . import apply
from .connector_views import account_id_number
from .database import request_session

bp = Blueprint("precheck", __name__)


def _service(code: str) -> PublishedService:
    found = get_service(request_session(), code, offered=True)
    if found is None or not found.content.get("precheck"):
        abort(404)
    return found


def _register(service: PublishedService) -> precheck.RegisterValues:
    """What the service's registers know of the signed-in person (nothing when signed out)."""
    if not current_user.is_authenticated:
        return precheck.RegisterValues()
    return precheck.register_values(
        request_session(), connectors.registry(current_app), service.content,
        account_id_number(current_user.id), actor_id=current_user.id,
        actor_name=current_user.username, request_id=getattr(g, "request_id", ""))


def _words(template: str, params: Mapping[str, Any]) -> str:
    lang = current_lang()
    shown = {key: value.get(lang) or value.get("zh", "") if isinstance(value, Mapping) else value
             for key, value in params.items()}
    return _(template) % shown


def _page(service: PublishedService, *, typed: Mapping[str, str], register: precheck.RegisterValues,
          errors: Mapping[str, str] | None = None, verdict: precheck.Verdict | None = None,
          status: int = 200) -> ResponseReturnValue:
    questions = precheck.questions(service.content["precheck"])
    errors = errors or {}
    by_key = {question.key: question for question in questions}
    summary = [{"text": text, "href": f"#{by_key[key].field_id}"}
               for key, text in errors.items()]
    keys = set(by_key)
    filled_from = "、".join(dict.fromkeys(pick(source) for path, source in register.sources.items()
                                          if path in keys))
    return render_template("portal/precheck.html", service=service, filled_from=filled_from,
                           failed_sources="、".join(pick(source) for source in register.failed),
                           block=service.content["precheck"], questions=questions,
                           typed=typed, errors=errors, summary=summary, verdict=verdict,
                           register=register, token=precheck.option_token), status


@bp.get("/services/<code>/precheck")
def page(code: str) -> ResponseReturnValue:
    """The questions; a link may carry answers (coming back from signing in), and a signed-in
    person's answers that a register knows start filled in."""
    service = _service(code)
    register = _register(service)
    typed = {question.key: precheck.option_token(register.values[question.key])
             for question in precheck.questions(service.content["precheck"])
             if question.key in register.values}
    typed.update({key: value[:precheck.MAX_TYPED] for key, value in request.args.items()})
    return _page(service, typed=typed, register=register)


def _judged(service: PublishedService) -> tuple[dict[str, Any], dict[str, str], dict[str, str],
                                       precheck.RegisterValues]:
    block = service.content["precheck"]
    answers, problems, typed = precheck.read_answers(block, request.form)
    errors = {key: _words(template, params) for key, (template, params) in problems.items()}
    return answers, errors, typed, _register(service)


@bp.post("/services/<code>/precheck")
def check(code: str) -> ResponseReturnValue:
    service = _service(code)
    answers, errors, typed, register = _judged(service)
    if errors:
        return _page(service, typed=typed, register=register, errors=errors, status=422)
    verdict = precheck.judge(service.content["precheck"], service.content["materials"],
                             answers, register.values)
    return _page(service, typed=typed, register=register, verdict=verdict)


@bp.post("/services/<code>/precheck/start")
def start(code: str) -> ResponseReturnValue:
    """Start the application from "you can apply": the answers are judged again (never
    trusted from the page), those the form asks too are carried into the draft."""
    service = _service(code)
    answers, errors, typed, register = _judged(service)
    if errors:
        return _page(service, typed=typed, register=register, errors=errors, status=422)
    verdict = precheck.judge(service.content["precheck"], service.content["materials"],
                             answers, register.values)
    if verdict.result != "eligible":
        return _page(service, typed=typed, register=register, verdict=verdict)
    form_row = effective_version(request_session(), "form", service.content["form"])
    if form_row is None:
        abort(404)
    carried = precheck.carried_answers(answers, load_form(form_row.content, name=form_row.code))
    values: dict[str, Any] = dict(typed)  # the answers, to check and start again after signing in
    come_back = url_for("precheck.page", code=code, **values)
    return apply.begin(code, carried, come_back=come_back)


@bp.get("/services/<code>/precheck/start")
def start_link(code: str) -> ResponseReturnValue:
    """A reload of the start address: back to the questions."""
    return redirect(url_for("precheck.page", code=code))
