"""Administrators: simulate a rule set (published, or a draft pasted or uploaded) over a
generated population or the stored applications, and see the distribution, the pass counts and
who crosses the pass mark against the current version (issue 13, item 6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlmodel import col

from ..i18n import pick
from ..models import DefinitionVersion, Role
from ..points import population as pop
from ..points.chart import svg
from ..points.rules import RuleSet
from ..points.simulate import (
    Person,
    Report,
    SimulationError,
    draft_rules,
    published_version,
    simulate,
    stored_applications,
)
from ..policy import holds
from ..worktime import TZ
from .access import current_actor, department_tree, require_role
from .database import request_session

bp = Blueprint("points_admin", __name__, url_prefix="/admin/points")

ROLES = (Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
MAX_GENERATED = 20_000
"""A browser request scores at most this many generated people; larger runs use the command."""
MAX_DRAFT_BYTES = 256 * 1024


@dataclass(frozen=True)
class RuleSetChoice:
    id: str
    name: str
    versions: list[int]


def _choices() -> list[RuleSetChoice]:
    rows = request_session().scalars(
        select(DefinitionVersion).where(col(DefinitionVersion.kind) == "rules")
        .order_by(col(DefinitionVersion.code), col(DefinitionVersion.version).desc())).all()
    found: dict[str, RuleSetChoice] = {}
    for row in rows:
        choice = found.setdefault(row.code, RuleSetChoice(row.code, pick(row.content.get("name")),
                                                          []))
        choice.versions.append(row.version)
    return list(found.values())


def _page(values: dict[str, Any], *, errors: dict[str, str] | None = None,
          problems: list[str] | None = None, report: Report | None = None, chart: str = "",
          status: int = 200) -> ResponseReturnValue:
    return render_template("points/simulate.html", choices=_choices(), values=values,
                           errors=errors or {}, problems=problems or [], report=report,
                           chart=chart, max_generated=MAX_GENERATED), status


def _defaults() -> dict[str, Any]:
    return {"source": "published", "rules": "", "text": "", "people": "generated",
            "count": "1000", "seed": "1", "as_of": datetime.now(TZ).date().isoformat(),
            "against": "current"}


@bp.get("/simulate")
@require_role(*ROLES)
def simulate_form() -> ResponseReturnValue:
    return _page(_defaults())


def _whole(text: str, low: int, high: int) -> int | None:
    text = text.strip()
    if not text.lstrip("-").isdigit():
        return None
    value = int(text)
    return value if low <= value <= high else None


@bp.post("/simulate")
@require_role(*ROLES)
def simulate_run() -> ResponseReturnValue:
    form = request.form
    values = {**_defaults(), **{key: form.get(key, "") for key in
                                ("source", "rules", "text", "people", "count", "seed", "as_of",
                                 "against")}}
    errors: dict[str, str] = {}
    problems: list[str] = []
    session = request_session()
    rule_set: RuleSet | None = None
    if values["source"] == "draft":
        upload = request.files.get("file")
        text, file = values["text"], _("pasted text")
        if upload is not None and upload.filename:
            raw = upload.read(MAX_DRAFT_BYTES + 1)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                errors["text"] = _("The uploaded file is not UTF-8 text.")
            file = upload.filename
            values["text"] = text
        if not errors and not text.strip():
            errors["text"] = _("Paste a draft rules file in YAML or choose a file.")
        elif not errors and len(text.encode("utf-8")) > MAX_DRAFT_BYTES:
            errors["text"] = _("The draft is larger than 256 KB.")
        elif not errors:
            try:
                rule_set = draft_rules(text, file)
            except SimulationError as error:
                problems = [_("Line %(line)s, column %(column)s: %(message)s", line=p.line,
                              column=p.column, message=p.message) for p in error.problems]
                errors["text"] = _("The draft has %(count)s problem(s); nothing was simulated.",
                                   count=len(problems))
    else:
        rule_id, _sep, version = values["rules"].partition("@")
        known = {c.id: c for c in _choices()}
        if rule_id not in known or (version and not (version.isdigit()
                                                     and int(version) in known[rule_id].versions)):
            errors["rules"] = _("Choose a published rule set.")
        else:
            rule_set = published_version(session, rule_id, int(version) if version else None)
    try:
        as_of = date.fromisoformat(values["as_of"].strip())
    except ValueError:
        errors["as_of"] = _("Enter the day to score on as YYYY-MM-DD, for example 2026-07-01.")
    count = seed = 0
    if values["people"] == "generated":
        found = _whole(values["count"], 1, MAX_GENERATED)
        if found is None:
            errors["count"] = _("Enter a whole number of people from 1 to %(max)s.",
                                max=format(MAX_GENERATED, ","))
        count = found or 0
        found_seed = _whole(values["seed"], 0, 2 ** 31)
        if found_seed is None:
            errors["seed"] = _("Enter the seed as a whole number, 0 or more.")
        seed = found_seed or 0
    elif values["people"] != "applications":
        errors["people"] = _("Choose who to score.")
    if values["against"] not in ("current", "none") and not values["against"].isdigit():
        errors["against"] = _("Choose what to compare with.")
    if errors or rule_set is None:
        return _page(values, errors=errors, problems=problems, status=422)
    against = _against(rule_set, values["against"])
    if values["people"] == "generated":
        people = generated_people(count, seed)
        source = _("%(count)s generated people (seed %(seed)s)", count=format(count, ","), seed=seed)
    else:
        actor, tree = current_actor(), department_tree()
        people = stored_applications(
            session, rule_set.id,
            keep=lambda application: holds(actor, ROLES, application.department_code, tree))
        source = _("stored applications")
    report = simulate(rule_set, people, as_of, against=against, source=source)
    return _page(values, report=report, chart=report_chart(report))


def generated_people(count: int, seed: int) -> list[Person]:
    return [Person(_("Person %(number)s", number=i + 1), answers)
            for i, answers in enumerate(pop.people(count, seed))]


def _against(rule_set: RuleSet, wanted: str) -> RuleSet | None:
    if wanted == "none":
        return None
    try:
        if wanted == "current":
            current = published_version(request_session(), rule_set.id)
            return None if current.version == rule_set.version else current
        return published_version(request_session(), rule_set.id, int(wanted))
    except SimulationError:
        return None  # never published, or no such version: nothing to compare with


def report_chart(report: Report) -> str:
    what = (_("version %(version)s", version=report.version) if report.version is not None
            else _("the draft"))
    description = _("Totals of %(count)s people in bins of 10 points. %(passed)s pass, "
                    "%(vetoed)s vetoed, %(missing)s missing an input.",
                    count=format(report.scored, ","), passed=format(report.passed, ","),
                    vetoed=format(report.vetoed, ","), missing=format(report.missing_count, ","))
    before = ""
    if report.against_version is not None:
        before = _("version %(version)s", version=report.against_version)
        description += " " + _("Outlines show %(version)s, under which %(passed)s pass.",
                               version=before, passed=format(report.baseline_passed, ","))
    return svg(report.histogram(),
               title=_("Distribution of totals: %(what)s", what=what),
               description=description, threshold=report.threshold,
               threshold_label=_("pass mark %(points)s", points=format(report.threshold, "g"))
               if report.threshold is not None else "",
               series=(what, before))
