"""Definition files: every bad file gets file:line and a plain reason; publishing is all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tongban import PROJECT_ROOT
from tongban.definitions import load_directory, publish
from tongban.models import AuditEvent, DefinitionVersion

from .definition_files import edit

SERVICE = "workflow_definitions/residence-points.yaml"


def _line_of(root: Path, relative: str, needle: str) -> int:
    lines = (root / relative).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def test_shipped_definitions_have_no_problems() -> None:
    result = load_directory(PROJECT_ROOT)
    assert result.problems == []
    assert set(result.services) == {"residence-points", "urban-event-report", "household-transfer",
                                    "enterprise-credit", "birth-certificate", "newborn-household",
                                    "social-security-card"}
    assert set(result.bundles) == {"newborn"}


BAD_FILES = [
    # (what is wrong, old text, new text, line needle after edit, expected message)
    ("syntax error", "statutory_days: 20", "statutory_days: [20",
     "statutory_days: [20", "YAML syntax error: "),
    ("duplicate key", "promised_days: 15", "promised_days: 15\n  promised_days: 16",
     "promised_days: 16", 'duplicate key "promised_days" (first defined on line '),
    ("unknown key", "promised_days: 15", "promised_days: 15\n  promise_days: 16",
     "promise_days: 16", 'unknown key "promise_days"; expected one of: channels, complaints, '
                          "contact, eligibility, fee, hours, item_code, item_type, legal_basis, "
                          "promised_days, quantity_limit, remedy, result, rights, special_steps, "
                          "statutory_days, steps, visits, where"),
    ("wrong type", "statutory_days: 20", "statutory_days: twenty",
     "statutory_days: twenty", "expected a whole number, found text"),
    ("alias bomb", "audience: [citizen]",
     'audience: &a [citizen]\nx: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
     "audience: &a", "YAML anchors and aliases (& and *) are not allowed"),
    ("missing form", "form: residence-points", "form: no-such-form",
     "form: no-such-form", 'the form "no-such-form" does not exist: expected '
                           "form_definitions/no-such-form.json"),
]


@pytest.mark.parametrize(("what", "old", "new", "needle", "message"), BAD_FILES,
                         ids=[row[0] for row in BAD_FILES])
def test_a_bad_service_file_is_reported_with_file_and_line(
        defs_copy: Path, what: str, old: str, new: str, needle: str, message: str) -> None:
    edit(defs_copy, SERVICE, old, new)
    result = load_directory(defs_copy)
    assert len(result.problems) == 1, [str(p) for p in result.problems]
    problem = result.problems[0]
    assert problem.file == SERVICE
    assert problem.line == _line_of(defs_copy, SERVICE, needle) or what == "syntax error"
    assert problem.message.startswith(message)
    assert "residence-points" not in result.services


def test_a_syntax_error_points_at_the_broken_line(defs_copy: Path) -> None:
    edit(defs_copy, SERVICE, "  statutory_days: 20", "  statutory_days: 20\n    bad: [")
    problem = load_directory(defs_copy).problems[0]
    assert problem.file == SERVICE
    assert abs(problem.line - _line_of(defs_copy, SERVICE, "bad: [")) <= 1


def test_a_form_file_with_a_json_error_names_line_and_column(defs_copy: Path) -> None:
    form = "form_definitions/household-transfer.json"
    edit(defs_copy, form, '"type": "object",', '"type": "object"')
    problem = load_directory(defs_copy).problems[0]
    assert problem.file == form
    assert problem.message == "JSON syntax error: Expecting ',' delimiter"
    assert problem.line == _line_of(defs_copy, form, '"type": "object"') + 1


def test_defs_check_prints_every_problem_and_exits_non_zero(defs_copy: Path, cli) -> None:  # type: ignore[no-untyped-def]
    edit(defs_copy, SERVICE, "statutory_days: 20", "statutory_days: twenty")
    edit(defs_copy, "workflow_definitions/household-transfer.yaml",
          "form: household-transfer", "form: nowhere")
    result = cli("defs", "check", str(defs_copy))
    assert result.exit_code == 1
    line = _line_of(defs_copy, SERVICE, "statutory_days: twenty")
    assert (f"{SERVICE}:{line}:19: at /guide/statutory_days expected a whole number, found text"
            in result.output)
    assert 'workflow_definitions/household-transfer.yaml:' in result.output
    assert "2 problem(s) found; fix them before publishing." in result.output


def test_defs_check_never_touches_the_database(defs_copy: Path, cli, session) -> None:  # type: ignore[no-untyped-def]
    result = cli("defs", "check", str(defs_copy))
    assert result.exit_code == 0, result.output
    assert session.scalar(select(func.count()).select_from(DefinitionVersion)) == 0


def test_publish_makes_versions_once_and_again_only_for_changed_files(
        defs_copy: Path, session) -> None:  # type: ignore[no-untyped-def]
    first = publish(session, load_directory(defs_copy), author="ops", comment="first")
    session.commit()
    # 7 forms, 7 flows, 7 services, the department catalogue, the material catalogue,
    # 2 calendars, 2 points rule sets, the green-points ledger, the newborn bundle
    assert len(first.created) == 29
    again = publish(session, load_directory(defs_copy), author="ops")
    session.commit()
    assert again.created == [] and len(again.unchanged) == 29

    edit(defs_copy, SERVICE, "promised_days: 15", "promised_days: 12")
    third = publish(session, load_directory(defs_copy), author="ops", comment="faster")
    session.commit()
    assert [(v.kind, v.code, v.version, v.comment) for v in third.created] == [
        ("service", "residence-points", 2, "faster")]
    old = session.scalars(select(DefinitionVersion).where(
        DefinitionVersion.code == "residence-points", DefinitionVersion.kind == "service",
        DefinitionVersion.version == 1)).one()
    assert old.content["guide"]["promised_days"] == 15  # earlier versions never change
    assert session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "definition.publish")) == 30


def test_a_set_with_any_problem_publishes_nothing(defs_copy: Path, cli, session) -> None:  # type: ignore[no-untyped-def]
    edit(defs_copy, "workflow_definitions/household-transfer.yaml",
          "form: household-transfer", "form: nowhere")
    result = cli("defs", "publish", str(defs_copy), "--author", "ops")
    assert result.exit_code == 1
    assert "1 problem(s) found; nothing was published." in result.output
    assert session.scalar(select(func.count()).select_from(DefinitionVersion)) == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_publish_command_reports_new_and_unchanged(defs_copy: Path, cli) -> None:  # type: ignore[no-untyped-def]
    first = cli("defs", "publish", str(defs_copy), "--author", "ops")
    assert first.exit_code == 0, first.output
    assert "29 new version(s), 0 unchanged." in first.output
    second = cli("defs", "publish", str(defs_copy), "--author", "ops")
    assert "0 new version(s), 29 unchanged." in second.output


def test_a_loader_problem_is_english_in_defs_check_and_translated_on_a_page(
        defs_copy: Path, cli, app) -> None:  # type: ignore[no-untyped-def]
    """The command line speaks English; the console shows the same problem in the page's
    language (Chinese by default)."""
    from flask import session as browser

    from tongban.web.services_admin import problem_text

    edit(defs_copy, SERVICE, "form: residence-points", "form: no-such-form")
    assert 'the form "no-such-form" does not exist: expected ' \
        "form_definitions/no-such-form.json" in cli("defs", "check", str(defs_copy)).output
    (problem,) = load_directory(defs_copy).problems
    with app.test_request_context("/"):
        assert problem_text(problem) == \
            "表单“no-such-form”不存在：应为 form_definitions/no-such-form.json。"
    with app.test_request_context("/"):
        browser["locale"] = "en"
        assert problem_text(problem) == problem.message
