"""A service's test cases (console/service_cases.py): the shipped cases pass, an expectation
that differs fails with both values, answers the form refuses and a bad case file are said,
and "save as test case" writes a case that passes (docs/console.md, "Test cases")."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from tongban import PROJECT_ROOT
from tongban.console.layout import case_of, case_path
from tongban.console.service_cases import (
    CaseResult,
    case_problems,
    case_text,
    folder_cases,
    run_case,
    run_cases,
)
from tongban.definitions.loader import DefinitionSet, load_directory
from tongban.definitions.yamlpos import read_yaml

HOUSEHOLD = "household-transfer"
RESIDENCE = "residence-points"


@cache
def repository() -> DefinitionSet:
    return load_directory(PROJECT_ROOT)


def shipped(code: str, name: str) -> str:
    return folder_cases(PROJECT_ROOT, code)[code][name]


def run(code: str, text: str, name: str = "case") -> CaseResult:
    return run_case(repository(), code, name, text)


def test_two_demo_services_ship_cases_and_every_shipped_case_passes() -> None:
    cases = folder_cases(PROJECT_ROOT)
    assert {HOUSEHOLD, RESIDENCE} <= set(cases)
    for code, texts in cases.items():
        files = {case_path(code, name): text for name, text in texts.items()}
        for result in run_cases(repository(), [], code, files):
            assert result.passed, (code, result.name, result.problems, result.failures)
            assert result.checks


def test_the_residence_case_checks_route_values_points_steps_and_dates() -> None:
    result = run(RESIDENCE, shipped(RESIDENCE, "corrected-district"))
    names = {check.name for check in result.checks}
    assert {"route", "status", "values.applicant.work_district", "points.total",
            "points.eligible", "steps.initial_review.offered", "steps.intake.due",
            "app_due"} <= names
    assert result.points == {"total": 201, "eligible": True, "grade": None}


def test_an_expectation_that_differs_fails_with_what_was_expected_and_what_the_run_gave() -> None:
    text = shipped(HOUSEHOLD, "talent-approved").replace("  status: approved", "  status: rejected")
    text = text.replace("approved: [police_pd]", "approved: [police_city]")
    result = run(HOUSEHOLD, text)
    assert not result.passed and not result.problems
    assert [(c.name, c.expected, c.actual) for c in result.failures] == [
        ("status", "rejected", "approved"),
        ("steps.district.approved", ["police_city"], ["police_pd"]),
    ]


def test_answers_the_form_refuses_fail_the_case_before_anything_runs() -> None:
    text = shipped(HOUSEHOLD, "talent-approved").replace('mobile: "13812345678"', 'mobile: "123"')
    result = run(HOUSEHOLD, text)
    assert not result.passed and result.trace == []
    assert [(c.name, c.actual) for c in result.failures] == [
        ("answers", ["applicant.mobile (format)"])]


@pytest.mark.parametrize(("change", "problem"), [
    (("expect:\n", "expect:\n  colour: red\n"),
     "workflow_definitions/tests/household-transfer/case.yaml:{line}:11: at /expect/colour "
     'unknown key "colour"; expected one of: app_due, points, route, status, steps, values'),
    (("actor: hr_city,", "actor: nobody,"),
     "workflow_definitions/tests/household-transfer/case.yaml:{line}:35: at /actions/3/actor "
     '"nobody" is not in users'),
])
def test_a_bad_case_file_names_the_file_and_the_line(change: tuple[str, str],
                                                     problem: str) -> None:
    text = shipped(HOUSEHOLD, "talent-approved").replace(*change, 1)
    line = next(number for number, content in enumerate(text.splitlines(), start=1)
                if change[1].strip().splitlines()[-1] in content)
    result = run(HOUSEHOLD, text)
    assert not result.passed
    assert result.problems == [problem.format(line=line)]
    found = case_problems(repository(), HOUSEHOLD, "case", text)
    assert str(found[0]) == result.problems[0]


def test_a_case_of_a_service_that_does_not_exist_is_a_problem() -> None:
    found = case_problems(repository(), "no-such-service", "case", "title: x\n")
    assert [p.message for p in found] == ['there is no service "no-such-service" for this test case']


def test_a_run_saved_as_a_case_passes_and_reads_back() -> None:
    document = read_yaml(shipped(RESIDENCE, "corrected-district"))
    script = {key: value for key, value in document.data.items() if key != "expect"}
    first = run(RESIDENCE, case_text(script, {"status": "x"}))
    assert first.observed["status"] == "approved"
    saved = case_text(script, first.observed)
    again = run(RESIDENCE, saved)
    assert again.passed and len(again.checks) >= 10
    assert not re.search(r" +\n", saved)


def test_case_paths_belong_to_one_service() -> None:
    assert case_of("workflow_definitions/tests/household-transfer/a-1.yaml") == (HOUSEHOLD, "a-1")
    for path in ("workflow_definitions/tests/household-transfer/../x.yaml",
                 "workflow_definitions/tests/household-transfer/a/b.yaml",
                 "workflow_definitions/tests/Bad/a.yaml", "workflow_definitions/household.yaml"):
        assert case_of(path) is None


def test_the_documented_example_case_passes() -> None:
    docs = (Path(PROJECT_ROOT) / "docs" / "console.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- case example -->\n```yaml\n(.*?)```", docs, re.S)
    assert found is not None
    assert found.group(1) == shipped(HOUSEHOLD, "talent-approved")


def test_the_cli_runs_the_repository_cases(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("defs", "test", HOUSEHOLD)
    assert result.exit_code == 0, result.output
    assert "PASS household-transfer/talent-approved" in result.output
    assert "1 of 1 test case(s) passed." in result.output
    assert cli("defs", "test", "no-such-service").exit_code == 2
