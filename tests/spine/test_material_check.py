"""Issue 10 §4: a service guide's materials and its form's upload questions are cross-checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from tongban import PROJECT_ROOT
from tongban.definitions import load_directory

from .definition_files import edit

RESIDENCE = "workflow_definitions/residence-points.yaml"
HOUSEHOLD = "workflow_definitions/household-transfer.yaml"
FILE_QUESTIONS = ("file questions: materials.diploma, materials.id_card, "
                  "materials.qualification_certificate, materials.residence_permit")


def _line_of(root: Path, relative: str, needle: str, occurrence: int = 1) -> int:
    lines = (root / relative).read_text(encoding="utf-8").splitlines()
    found = [i for i, line in enumerate(lines, 1) if needle in line]
    return found[occurrence - 1]


def test_every_required_material_of_the_demo_services_has_an_upload_question() -> None:
    result = load_directory(PROJECT_ROOT)
    assert result.problems == []
    for service in result.services.values():
        form = result.forms[service.content["form"]].content
        for material in service.content["materials"]:
            if material["required"]:
                group, name = material["form_field"].split(".")
                assert name in form["schema"]["properties"][group]["required"], material


MISMATCHES = [
    # (what is wrong, file, old text, new text, line needle after edit, expected message)
    ("a required material with no question", RESIDENCE,
     "    form_field: materials.residence_permit\n", "",
     "code: residence-permit",
     f'required material "residence-permit" has no upload question: name one with form_field '
     f"({FILE_QUESTIONS}) or mark it checked_at_counter: true"),
    ("a question that does not exist", RESIDENCE,
     "form_field: materials.residence_permit", "form_field: materials.permit",
     "form_field: materials.permit",
     f'form_field "materials.permit" of material "residence-permit" is not a question of the '
     f"form ({FILE_QUESTIONS})"),
    ("a question that is not an upload", RESIDENCE,
     "form_field: materials.residence_permit", "form_field: applicant.permit_number",
     "form_field: applicant.permit_number",
     f'form_field "applicant.permit_number" of material "residence-permit" is not a file '
     f"question ({FILE_QUESTIONS})"),
    ("an upload that may be left empty", RESIDENCE,
     "form_field: materials.residence_permit", "form_field: materials.qualification_certificate",
     "form_field: materials.qualification_certificate",
     'material "residence-permit" is required but the form question '
     '"materials.qualification_certificate" can be left empty: list it (and each group around '
     'it) under the schema\'s "required", with no logic rule that hides it or its page'),
    ("one question for two materials", RESIDENCE,
     "form_field: materials.residence_permit", "form_field: materials.id_card",
     "form_field: materials.id_card#2",
     'form_field "materials.id_card" of material "residence-permit" already collects material '
     '"id-card"'),
    ("both a question and the counter", HOUSEHOLD,
     "form_field: materials.hukou_booklet",
     "form_field: materials.hukou_booklet\n    checked_at_counter: true",
     "checked_at_counter: true",
     'material "hukou-booklet" names a form question and is also checked at the counter; keep '
     "one of form_field and checked_at_counter"),
]


@pytest.mark.parametrize(("what", "file", "old", "new", "needle", "message"), MISMATCHES,
                         ids=[row[0] for row in MISMATCHES])
def test_a_guide_that_disagrees_with_its_form_is_a_load_error_with_file_and_line(
        defs_copy: Path, what: str, file: str, old: str, new: str, needle: str,
        message: str) -> None:
    edit(defs_copy, file, old, new)
    text, _, occurrence = needle.partition("#")
    line = _line_of(defs_copy, file, text, int(occurrence or 1))
    result = load_directory(defs_copy)
    assert [(p.file, p.line, p.message) for p in result.problems] == [(file, line, message)]
    assert file.split("/")[1].removesuffix(".yaml") not in result.services


def test_a_required_upload_on_a_page_a_rule_can_hide_does_not_count(defs_copy: Path) -> None:
    form = "form_definitions/household-transfer.json"
    edit(defs_copy, form, '"show_page": "members"', '"show_page": "materials"')
    result = load_directory(defs_copy)
    assert [(p.file, p.line) for p in result.problems] == [
        (HOUSEHOLD, _line_of(defs_copy, HOUSEHOLD, f"form_field: materials.{key}"))
        for key in ("id_card", "hukou_booklet", "approval_letter")]
    assert all("can be left empty" in p.message for p in result.problems)


def test_a_material_checked_at_the_counter_needs_no_question(defs_copy: Path) -> None:
    edit(defs_copy, RESIDENCE, "form_field: materials.residence_permit",
          "checked_at_counter: true")
    result = load_directory(defs_copy)
    assert result.problems == []
    assert "residence-points" in result.services


def test_defs_check_names_the_material_the_form_forgot(defs_copy: Path, cli) -> None:  # type: ignore[no-untyped-def]
    edit(defs_copy, HOUSEHOLD, "    form_field: materials.approval_letter\n", "")
    result = cli("defs", "check", str(defs_copy))
    assert result.exit_code == 1
    line = _line_of(defs_copy, HOUSEHOLD, "code: approval-letter")
    assert (f"{HOUSEHOLD}:{line}:11: at /materials/2/code required material \"approval-letter\" "
            "has no upload question" in result.output)
