"""The guide editor's edits as pure functions on a service file's text (no database): what
changes is only what was asked, comments and the rest of the file stay, and each refusal says
which field and why."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tongban.console import guide_edit as ge
from tongban.console.layout import parse, render

ROOT = Path(__file__).resolve().parents[2] / "workflow_definitions"
SHIPPED = sorted(path for path in ROOT.glob("*.yaml") if "guide:" in path.read_text("utf-8"))
POINTS = (ROOT / "residence-points.yaml").read_text("utf-8")

# The guide standard's elements residence-points gives after where (issue 17 item 6).
GUIDE_ELEMENTS = ["item_code", "item_type", "quantity_limit", "channels", "visits", "hours",
                  "special_steps", "result", "complaints", "remedy", "rights"]
ID_CARD_ELEMENTS = {"kind": ["original", "electronic"], "copies": 1,
                    "source": {"zh": "公安机关", "en": "Public security bureau"}}


def _as_read(text: str) -> ge.GuideEdit:
    """The guide form as the page fills it from the file."""
    guide = ge.read(text)
    return ge.GuideEdit(texts=guide.texts, audience=guide.audience,
                        statutory_days=guide.statutory_days, promised_days=guide.promised_days,
                        steps_zh=guide.steps_zh, steps_en=guide.steps_en,
                        draft_expiry_days=guide.draft_expiry_days)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_saving_what_was_read_gives_back_a_shipped_file_byte_for_byte(path: Path) -> None:
    text = path.read_text("utf-8")
    assert ge.update_guide(text, _as_read(text)) == text
    for material in ge.read(text).materials:
        same = ge.MaterialEdit(material.name, material.required, material.collected,
                               material.note)
        assert ge.update_material(text, material.index, same) == text


def test_a_file_the_console_wrote_keeps_its_folded_lines() -> None:
    """Working copies opened from live are written folded at 100 columns: kept so."""
    text = render("service", parse("x.yaml", POINTS))
    assert any(line.startswith("    reaching") for line in text.splitlines())  # folded
    assert ge.update_guide(text, _as_read(text)) == text


def test_a_guide_edit_changes_only_its_values_and_keeps_comments() -> None:
    edit = _as_read(POINTS)
    texts = {**edit.texts, "eligibility": ge.Text("新的条件", "New conditions"),
             "where": ge.Text()}
    out = ge.update_guide(POINTS, replace(edit, texts=texts, audience=("enterprise", "citizen"),
                                          steps_zh="网上申请\n\n审核", steps_en="Apply\nReview",
                                          draft_expiry_days=""))
    assert out.startswith("# 上海市居住证积分申请: residence-permit points application")
    assert "calendar: shanghai   # the working days its deadlines count in\n" in out
    data = parse("x.yaml", out)
    assert data["guide"]["eligibility"] == {"zh": "新的条件", "en": "New conditions"}
    assert "where" not in data["guide"]
    assert data["audience"] == ["citizen", "enterprise"]  # the schema's order
    assert list(data["guide"]) == ["eligibility", "legal_basis", "statutory_days",
                                   "promised_days", "fee", "contact", "steps", *GUIDE_ELEMENTS]
    assert data["guide"]["steps"] == [{"zh": "网上申请", "en": "Apply"},
                                      {"zh": "审核", "en": "Review"}]
    assert "settings" not in data  # emptied, so gone
    assert "    - {zh: 网上申请, en: Apply}\n" in out


def test_a_new_optional_text_goes_where_the_schema_puts_it() -> None:
    text = POINTS.replace("  contact:\n    zh: 上海市民服务热线 12345\n"
                          "    en: Shanghai citizen service hotline 12345\n", "")
    edit = _as_read(text)
    out = ge.update_guide(text, replace(edit, texts={**edit.texts,
                                                     "contact": ge.Text("12345", "12345")}))
    guide = parse("x.yaml", out)["guide"]
    assert list(guide)[5:7] == ["where", "contact"]
    assert guide["contact"] == {"zh": "12345", "en": "12345"}


@pytest.mark.parametrize(("change", "at", "message"), [
    ({"name": ge.Text("", "x")}, "name_zh", "Enter the service name in Chinese."),
    ({"summary": ge.Text("x", " ")}, "summary_en", "Enter the summary in English."),
    ({"legal_basis": ge.Text()}, "legal_basis_zh", "Enter the legal basis in Chinese."),
    ({"contact": ge.Text("", "12345")}, "contact_zh", "Enter the contact in Chinese."),
])
def test_a_missing_language_is_refused_at_its_field(change: dict[str, ge.Text], at: str,
                                                     message: str) -> None:
    edit = _as_read(POINTS)
    with pytest.raises(ge.GuideEditError) as caught:
        ge.update_guide(POINTS, replace(edit, texts={**edit.texts, **change}))
    assert (caught.value.at, str(caught.value)) == (at, message)


def test_every_mistake_is_found_in_the_order_of_the_page() -> None:
    edit = replace(_as_read(POINTS), audience=(), statutory_days="-1", promised_days="1.5",
                   steps_zh="a\nb", steps_en="a", draft_expiry_days="400",
                   texts={**_as_read(POINTS).texts, "fee": ge.Text("不收费", "")})
    assert [(e.at, str(e)) for e in ge.problems(edit)] == [
        ("audience", "Choose who the service is for."),
        ("statutory_days", "Enter the statutory time limit as a whole number of working days, "
                           "from 0 to 365."),
        ("promised_days", "Enter the promised time limit as a whole number of working days, "
                          "from 0 to 365."),
        ("fee_en", "Enter the fee in English (for example Free of charge)."),
        ("steps_en", "Give each step in both languages, one a line: there are 2 in Chinese "
                     "and 1 in English."),
        ("draft_expiry_days", "Enter how many days an unfinished application is kept as a "
                              "whole number from 1 to 365, or leave it empty.")]


def test_a_file_that_does_not_parse_is_refused() -> None:
    with pytest.raises(ge.GuideEditError) as caught:
        ge.update_guide("guide: [1\n", _as_read(POINTS))
    assert str(caught.value) == ("The service file is not valid YAML: correct it in the text "
                                 "view first.")
    with pytest.raises(ge.GuideEditError):
        ge.read("- a list\n")


def test_a_material_is_added_at_the_end_with_a_code_made_for_it() -> None:
    out, index = ge.add_material(POINTS, ge.MaterialEdit(
        ge.Text("照片", "Photo"), required=False, collected=ge.AT_COUNTER,
        note=ge.Text("一寸", "One inch")))
    assert index == 3
    assert parse("x.yaml", out)["materials"][3] == {
        "code": "material-4", "name": {"zh": "照片", "en": "Photo"}, "required": False,
        "checked_at_counter": True, "note": {"zh": "一寸", "en": "One inch"}}
    assert out.startswith(POINTS[:POINTS.index("form: residence-points")])  # the rest kept
    assert "    name: {zh: 照片, en: Photo}\n" in out


@pytest.mark.parametrize(("code", "message"), [
    ("ID", "A material code is lower-case letters, digits and hyphens, starting with a letter "
           "(for example id-card)."),
    ("diploma", 'The material code "diploma" is already used.'),
])
def test_a_bad_material_code_is_refused(code: str, message: str) -> None:
    with pytest.raises(ge.GuideEditError) as caught:
        ge.add_material(POINTS, ge.MaterialEdit(ge.Text("照片", "Photo"), code=code))
    assert (caught.value.at, str(caught.value)) == ("new-code", message)


def test_a_material_edit_switches_how_it_is_collected() -> None:
    counter = ge.update_material(POINTS, 0, ge.MaterialEdit(
        ge.Text("居民身份证", "Resident identity card"), collected=ge.AT_COUNTER))
    first = parse("x.yaml", counter)["materials"][0]
    assert first == {"code": "id-card", "type": "id-card",  # the catalogue type is kept
                     "name": {"zh": "居民身份证", "en": "Resident identity card"},
                     "required": True, "checked_at_counter": True, **ID_CARD_ELEMENTS}
    back = ge.update_material(counter, 0, ge.MaterialEdit(
        ge.Text("居民身份证", "Resident identity card"), collected="materials.id_card"))
    assert back == POINTS
    with pytest.raises(ge.GuideEditError) as caught:
        ge.update_material(POINTS, 0, ge.MaterialEdit(ge.Text("", "ID card")))
    assert (caught.value.at, str(caught.value)) == (
        "material-0-name_zh", "Enter the material's name in Chinese.")


def test_materials_move_and_go() -> None:
    moved, to = ge.move_material(POINTS, 2, "up")
    assert to == 1
    assert [m["code"] for m in parse("x.yaml", moved)["materials"]] == [
        "id-card", "diploma", "residence-permit"]
    assert ge.move_material(moved, 1, "down")[0] == POINTS
    gone = ge.remove_material(POINTS, 1)
    assert [m["code"] for m in parse("x.yaml", gone)["materials"]] == ["id-card", "diploma"]
    for call, message in ((lambda: ge.move_material(POINTS, 0, "up"),
                           "The material is already at the top of the list."),
                          (lambda: ge.move_material(POINTS, 2, "down"),
                           "The material is already at the bottom of the list."),
                          (lambda: ge.remove_material(POINTS, 3),
                           "There is no material 4 in the list.")):
        with pytest.raises(ge.GuideEditError) as caught:
            call()
        assert str(caught.value) == message


@pytest.mark.parametrize(("pointer", "field"), [
    ("/name/en", "name_en"), ("/summary", "summary_zh"), ("/audience/0", "audience"),
    ("/guide/promised_days", "promised_days"), ("/guide/eligibility/en", "eligibility_en"),
    ("/guide/steps/1/en", "steps_en"), ("/materials/2/form_field", "material-2"),
    ("/settings/draft_expiry_days", "draft_expiry_days"), ("/guide", ""), ("/form", ""),
    ("", ""),
])
def test_a_check_s_problem_is_placed_at_its_field(pointer: str, field: str) -> None:
    assert ge.field_of(pointer) == field
