"""Issue 14 item 6: the design-time lint inside the loader and `defs check`: an error stops its
definition and fails the check, a warning is shown and blocks nothing, and the materials check
carries its rule id. The rules one by one: tests/unit/test_definition_lint.py."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tongban.cli import main
from tongban.definitions import load_directory


def _edit(root: Path, relative: str, old: str, new: str) -> int:
    """Replace old by new once; return the 1-based line of the change."""
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[:text.index(old)].count("\n") + 1


def test_a_lint_error_stops_its_form_and_defs_check_fails(defs_copy: Path) -> None:
    line = _edit(defs_copy, "form_definitions/urban-event-report.json", '"Where"', '""')
    result = load_directory(defs_copy)
    assert [str(p) for p in result.problems] == [
        f"form_definitions/urban-event-report.json:{line}:26: at /ui/pages/1/title the title "
        'of page "location" has no English text; add "en": the English wording '
        "[text-missing-language]"]
    assert "urban-event-report" not in result.forms
    check = CliRunner().invoke(main, ["defs", "check", str(defs_copy)])
    assert check.exit_code == 1
    assert check.stderr.splitlines()[-1] == "1 problem(s) found; fix them before publishing."


def test_a_warning_is_shown_and_does_not_block(defs_copy: Path) -> None:
    _edit(defs_copy, "workflow_definitions/enterprise-credit.yaml",
          "  contact:\n    zh: 上海市民服务热线 12345\n    en: Shanghai citizen service "
          "hotline 12345\n", "")
    line = _edit(defs_copy, "workflow_definitions/enterprise-credit.yaml", "guide:", "guide:")
    result = load_directory(defs_copy)
    assert result.ok and result.problems == []
    assert "enterprise-credit" in result.services
    assert [(p.file, p.line, p.severity, p.rule) for p in result.warnings] == [
        ("workflow_definitions/enterprise-credit.yaml", line, "warning",
         "guide-without-contact")]
    check = CliRunner().invoke(main, ["defs", "check", str(defs_copy)])
    assert check.exit_code == 0
    assert check.stderr.splitlines() == [
        str(result.warnings[0]),
        "1 warning(s): shown for the designer, they do not block publishing."]


def test_a_required_material_without_a_question_carries_its_rule(defs_copy: Path) -> None:
    _edit(defs_copy, "workflow_definitions/residence-points.yaml",
          "    form_field: materials.residence_permit\n", "")
    result = load_directory(defs_copy)
    assert [(p.rule, p.severity) for p in result.problems] == [
        ("material-not-collected", "error")]
