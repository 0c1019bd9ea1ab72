"""The test bench of a service in the admin console (/admin/services/<code>/bench): its test
cases with their results, and a run of one's own against the draft (answers, actors, timed
actions) that can be saved as a new test case (docs/console.md, "Test bench")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from io import StringIO
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from ..console import service_cases
from ..console import workspace as ws
from ..console.layout import CASE_NAME_PATTERN, case_files, case_path, parse, path_of
from ..forms.definition import FormDefinition, load_form
from ..forms.fields import Field
from ..models import Role
from .access import require_role
from .database import request_session, request_transaction
from .services_admin import guard, refused_text, signed_in_user

bp = Blueprint("service_bench", __name__, url_prefix="/admin/services")
ACTION_ROWS = 3  # empty action rows offered below the ones already there
MAX_ROWS = 200  # action rows read from a post at most
# The test-bench actions a row may pick (docs/flows.md, "The script").
ACTIONS = ("claim", "release", "accept", "refuse_intake", "approve", "reject", "vote", "return",
           "resubmit", "request_correction", "submit_correction", "transfer", "add_signer",
           "withdraw", "withdraw_action", "comment", "cc", "remind", "run_outbox", "deliver",
           "pause_clock", "resume_clock")
TASK_NODE_TYPES = frozenset({"task", "vote"})


@dataclass
class BenchForm:
    """What the bench page's form holds: answers by field key, users as YAML, the actions."""

    answers: dict[str, str] = field(default_factory=dict)
    users: str = ""
    applicant: str = ""
    start_at: str = ""
    actions: list[dict[str, str]] = field(default_factory=list)
    name: str = ""
    title: str = ""


def _yaml_text(value: Any) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = None
    yaml.allow_unicode = True
    yaml.width = 100
    out = StringIO()
    yaml.dump(value, out)
    return out.getvalue()


def _flow_text(value: Any) -> str:
    """A value as one line of YAML flow style (an action row's extra arguments)."""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = True
    yaml.allow_unicode = True
    yaml.width = 4096
    out = StringIO()
    yaml.dump(value, out)
    return out.getvalue().strip().removesuffix("...").strip()


def _draft_form(code: str, files: dict[str, str]) -> FormDefinition | None:
    service = parse(path_of("service", code), files.get(path_of("service", code), ""))
    if not isinstance(service, dict) or not isinstance(service.get("form"), str):
        return None
    content = parse(path_of("form", service["form"]), files.get(path_of("form", service["form"]), ""))
    if not isinstance(content, dict):
        return None
    try:
        return load_form(content, name=service["form"])
    except ValueError:
        return None


def answer_fields(form: FormDefinition | None) -> list[Field]:
    """The form's single-value questions, in the form's order: the answers table's rows (a
    list question such as family members is not offered)."""
    if form is None:
        return []
    found = []
    lists = [fld.key + "." for fld in form.root.walk() if fld.item is not None]
    for fld in form.root.walk():
        if fld is form.root or fld.children or fld.item is not None or fld.read_only:
            continue
        if fld.is_item or any(fld.key.startswith(prefix) for prefix in lists):
            continue
        found.append(fld)
    return found


def _typed(fld: Field, text: str) -> Any:
    for option in fld.options:
        if str(option.value) == text:
            return option.value
    if fld.type == "boolean":
        return {"true": True, "false": False}.get(text.lower(), text)
    if fld.type in ("integer", "number") and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
        return int(text) if fld.type == "integer" or "." not in text else float(text)
    return text


def _put(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value


def _get(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def form_from_case(data: dict[str, Any], fields: list[Field]) -> BenchForm:
    """The bench form filled from a case's data."""
    answers = data.get("answers", {})
    actions = []
    for action in data.get("actions", []):
        extra = {k: v for k, v in action.items()
                 if k not in ("at", "actor", "action", "task", "comment")}
        actions.append({"at": _text(action.get("at")), "actor": _text(action.get("actor")),
                        "action": _text(action.get("action")), "task": _text(action.get("task")),
                        "comment": _text(action.get("comment")),
                        "extra": _flow_text(extra) if extra else ""})
    return BenchForm(answers={f.key: _text(_get(answers, f.key)) for f in fields},
                     users=_yaml_text(data.get("users", {})) if data.get("users") else "",
                     applicant=_text(data.get("applicant")), start_at=_text(data.get("start_at")),
                     actions=actions, title=_text(data.get("title")))


def form_from_request(fields: list[Field]) -> BenchForm:
    posted = request.form
    rows = []
    count = int(posted["rows"]) if posted.get("rows", "").isdigit() else 0
    for index in range(min(count, MAX_ROWS)):
        row = {key: posted.get(f"{key}-{index}", "").strip()[:2000]
               for key in ("at", "actor", "action", "task", "comment", "extra")}
        if row["action"]:
            rows.append(row)
    return BenchForm(answers={f.key: posted.get(f"answer-{f.key}", "").strip()[:500]
                              for f in fields},
                     users=posted.get("users", "")[:20000], applicant=posted.get("applicant", "").strip(),
                     start_at=posted.get("start_at", "").strip(), actions=rows,
                     name=posted.get("name", "").strip(), title=posted.get("title", "").strip()[:200])


def script_data(bench: BenchForm, fields: list[Field]) -> tuple[dict[str, Any], dict[str, str]]:
    """The case's script keys from the form, and the errors by field id."""
    errors: dict[str, str] = {}
    answers: dict[str, Any] = {}
    for fld in fields:
        text = bench.answers.get(fld.key, "")
        if text:
            _put(answers, fld.key, _typed(fld, text))
    try:
        users = YAML(typ="safe", pure=True).load(bench.users) if bench.users.strip() else None
    except YAMLError:
        users = None
    if not isinstance(users, dict) or not users:
        errors["users"] = _("Enter the users as YAML: one username per line, with a name and "
                            "roles, as in the example.")
        users = {}
    actions: list[dict[str, Any]] = []
    for index, row in enumerate(bench.actions):
        action: dict[str, Any] = {"at": row["at"], "action": row["action"]}
        if row["at"] == "":
            action.pop("at")
        for key in ("actor", "task", "comment"):
            if row[key]:
                action[key] = int(row[key]) if key == "task" and row[key].isdigit() else row[key]
        if row["extra"]:
            try:
                extra = YAML(typ="safe", pure=True).load(row["extra"])
            except YAMLError:
                extra = None
            if not isinstance(extra, dict):
                errors[f"extra-{index}"] = _("Write the other arguments as a YAML mapping, "
                                             "for example {answers: {a: 1}}.")
            else:
                action.update(extra)
        actions.append(action)
    data = {"title": bench.title or _("A run on the test bench"), "answers": answers,
            "users": users, "applicant": bench.applicant, "start_at": bench.start_at,
            "actions": actions}
    return data, errors


@dataclass
class Choices:
    fields: list[Field]
    users: list[str]
    actions: tuple[str, ...]
    tasks: list[str]


def _choices(code: str, files: dict[str, str], bench: BenchForm) -> Choices:
    form = _draft_form(code, files)
    service = parse(path_of("service", code), files.get(path_of("service", code), ""))
    flow_code = service.get("flow") if isinstance(service, dict) else None
    flow = parse(path_of("flow", flow_code), files.get(path_of("flow", flow_code), "")) \
        if isinstance(flow_code, str) else None
    nodes = flow.get("nodes", {}) if isinstance(flow, dict) else {}
    tasks = [node for node, spec in nodes.items()
             if isinstance(spec, dict) and spec.get("type") in TASK_NODE_TYPES]
    try:
        users = YAML(typ="safe", pure=True).load(bench.users) if bench.users.strip() else {}
    except YAMLError:
        users = {}
    return Choices(answer_fields(form), sorted(users) if isinstance(users, dict) else [],
                   ACTIONS, tasks)


def _files(code: str) -> dict[str, str]:
    """The working copy's files, the copy opened from live when the service has none yet (it
    brings the repository's cases of the service)."""
    session = request_session()
    if ws.get_draft(session, code) is None:
        with request_transaction() as tx:
            ws.open_draft(tx, code, signed_in_user())
    draft = ws.get_draft(session, code)
    assert draft is not None
    return dict(draft.files)


def _page(code: str, *, bench: BenchForm | None = None, run: Any = None, case: str = "",
          errors: dict[str, str] | None = None, status: int = 200) -> ResponseReturnValue:
    session = request_session()
    files = _files(code)
    texts = case_files(code, files)
    results = service_cases.run_draft_cases(session, code, files)
    if bench is None:
        data = parse(case_path(code, case), texts[case]) if case in texts else None
        empty = BenchForm()
        fields = _choices(code, files, empty).fields
        bench = form_from_case(data, fields) if isinstance(data, dict) else empty
    choices = _choices(code, files, bench)
    rows = [*bench.actions, *({"at": "", "actor": "", "action": "", "task": "", "comment": "",
                               "extra": ""} for _ in range(ACTION_ROWS))]
    return render_template("admin/service_bench.html", code=code, results=results,
                           bench=bench, rows=rows, choices=choices, run=run, case=case,
                           errors=errors or {}, saved=request.args.get("saved", "")), status


@bp.get("/<code>/bench")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def bench_page(code: str) -> ResponseReturnValue:
    guard(code)
    case = request.args.get("case", "")
    run = None
    if case:
        session = request_session()
        files = _files(code)
        text = case_files(code, files).get(case)
        if text is not None:
            run = service_cases.run_draft_case(session, code, files, case, text)
    return _page(code, run=run, case=case)


@bp.post("/<code>/bench")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def bench_run(code: str) -> ResponseReturnValue:
    """Run the form's script against the draft; with ``save``, store it with what the run
    gave as its expectations, as a new test case of the working copy."""
    guard(code)
    session = request_session()
    files = _files(code)
    fields = _choices(code, files, BenchForm()).fields
    bench = form_from_request(fields)
    data, errors = script_data(bench, fields)
    saving = "save" in request.form
    if saving:
        if not re.fullmatch(CASE_NAME_PATTERN, bench.name):
            errors["name"] = _("Enter a name of lower-case letters, digits, hyphens and "
                               "underscores, such as approved-first-time.")
        elif case_path(code, bench.name) in files:
            errors["name"] = _("There is already a test case with this name: choose another.")
    if errors:
        return _page(code, bench=bench, errors=errors, status=422)
    text = service_cases.case_text(data, {"status": "submitted"})
    run = service_cases.run_draft_case(session, code, files, bench.name or "new", text)
    if run.problems or not run.observed:  # it could not run, or the form refused the answers
        return _page(code, bench=bench, run=run, status=422)
    run.checks = []  # a new run has no expectations of its own: the page shows what it gave
    if not saving:
        return _page(code, bench=bench, run=run)
    text = service_cases.case_text(data, run.observed)
    user = signed_in_user()
    try:
        with request_transaction() as tx:
            working = ws.open_draft(tx, code, user)
            ws.save_file(tx, working, case_path(code, bench.name), text,
                         expected_revision=working.revision, user=user)
    except ws.WorkspaceRefused as exc:
        return _page(code, bench=bench, run=run, errors={"name": refused_text(exc)},
                     status=422)
    return redirect(url_for("service_bench.bench_page", code=code, case=bench.name,
                            saved="1"))
