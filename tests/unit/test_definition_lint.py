"""Issue 14 item 6: design-time lint. Each rule with a definition it refuses (the exact message)
and one it lets through; then the loader, `defs check` and the shipped definitions."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from click.testing import CliRunner

from tongban import PROJECT_ROOT
from tongban.cli import main
from tongban.definitions import load_directory
from tongban.definitions.flowcheck import DepartmentInfo
from tongban.definitions.lint import RULES, lint_flow, lint_form, lint_materials, lint_service
from tongban.definitions.problems import Problem
from tongban.definitions.yamlpos import read_json, read_yaml
from tongban.forms.definition import load_form

FORM = "form_definitions/t.json"
FLOW = "workflow_definitions/flows/t.yaml"
SERVICE = "workflow_definitions/t.yaml"


def _form(properties: dict[str, Any], fields: dict[str, Any] | None = None,
          **extra: Any) -> dict[str, Any]:
    return {"title": {"zh": "测试", "en": "Test"},
            "schema": {"type": "object", "properties": properties},
            "ui": {"fields": fields or {}, **extra.pop("ui", {})}, **extra}


NAME = {"type": "string", "title": "姓名"}
NAME_UI = {"label": {"zh": "姓名", "en": "Full name"}}


def _good(**more: Any) -> dict[str, Any]:
    return _form({"name": NAME}, {"name": NAME_UI}, **more)


def lint(form: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(pointer, severity, rule, message) of every finding."""
    document = read_json(json.dumps(form, ensure_ascii=False, indent=1))
    compiled = load_form(document.data, name=FORM)
    return [(p.pointer, p.severity, p.rule, p.message)
            for p in lint_form(document, FORM, compiled)]


def test_a_form_with_labels_and_hints_in_both_languages_passes() -> None:
    form = _good()
    form["ui"]["fields"]["name"] = {**NAME_UI, "hint": {"zh": "与身份证一致", "en": "As on your ID"}}
    assert lint(form) == []


# --- labels ---------------------------------------------------------------------------------

def test_a_question_without_a_label_is_refused() -> None:
    assert lint(_form({"name": {"type": "string"}})) == [
        ("/schema/properties/name", "error", "label-missing",
         'question "name" has no label, so people (and screen readers) see only its key; add a '
         '"title" to its schema or a label in ui.fields')]


LABEL_MOVE = "move the detail to the hint, the page or the service guide"


def _long_label(length: int) -> dict[str, Any]:
    return _form({"name": NAME}, {"name": {"label": {"zh": "问" * length, "en": "Name"}}})


def _long_declaration(length: int) -> dict[str, Any]:
    return _form({"agree": {"type": "boolean", "const": True, "title": "声明"}},
                 {"agree": {"label": {"zh": "声明", "en": "I" * length}}})


def _long_hint(length: int) -> dict[str, Any]:
    return _form({"name": NAME}, {"name": {**NAME_UI, "hint": {"zh": "提示", "en": "h" * length}}})


@pytest.mark.parametrize(("make", "limit", "pointer", "rule", "what", "move"), [
    (_long_label, 250, "/ui/fields/name/label/zh", "label-too-long",
     'Chinese label of question "name"', LABEL_MOVE),
    (_long_declaration, 2000, "/ui/fields/agree/label/en", "label-too-long",
     'English declaration of question "agree"', LABEL_MOVE),
    (_long_hint, 500, "/ui/fields/name/hint/en", "hint-too-long",
     'English hint of question "name"', "move the detail to the service guide"),
])
def test_a_text_over_its_gov_uk_limit_is_refused(make: Any, limit: int, pointer: str, rule: str,
                                                  what: str, move: str) -> None:
    assert lint(make(limit)) == []
    assert lint(make(limit + 1)) == [
        (pointer, "error", rule, f"the {what} is {limit + 1} characters; expected {limit} or "
                                 f"fewer (GOV.UK Forms' limit): {move}")]


# --- both languages --------------------------------------------------------------------------

FIX = 'ui.fields["name"].label = {"zh": ..., "en": ...} with both texts'


@pytest.mark.parametrize(("form", "pointer", "message"), [
    (_form({"name": NAME}), "/schema/properties/name/title",
     f'the label of question "name" has no English text; add {FIX}'),
    (_form({"name": NAME}, {"name": {"label": {"zh": "姓名"}}}), "/ui/fields/name/label",
     f'the label of question "name" has no English text; add {FIX}'),
    (_form({"name": {"type": "string"}}, {"name": {"label": {"zh": "", "en": "Name"}}}),
     "/ui/fields/name/label", f'the label of question "name" has no Chinese text; add {FIX}'),
    (_form({"name": NAME}, {"name": {**NAME_UI, "hint": {"zh": "与身份证一致"}}}),
     "/ui/fields/name/hint", 'the hint of question "name" has no English text; add '
     'ui.fields["name"].hint = {"zh": ..., "en": ...} with both texts'),
    ({**_good(), "title": {"zh": "测试"}}, "/title",
     "the form's title has no English text; add \"en\": the English wording"),
    ({**_good(), "description": {"zh": "说明"}}, "/description",
     "the form's description has no English text; add \"en\": the English wording"),
    (_good(ui={"pages": [{"id": "p", "title": {"zh": "页"}, "fields": ["name"]}]}),
     "/ui/pages/0/title",
     'the title of page "p" has no English text; add "en": the English wording'),
    (_good(ui={"sections": [{"id": "s", "title": {"zh": "节"}}],
               "pages": [{"id": "p", "title": {"zh": "页", "en": "Page"}, "fields": ["name"],
                          "section": "s"}]}),
     "/ui/sections/0/title",
     'the title of section "s" has no English text; add "en": the English wording'),
    (_form({"pet": {"title": "宠物", "oneOf": [{"const": "cat", "title": "猫"},
                                               {"const": "dog", "title": "狗"}]}},
           {"pet": {"label": {"zh": "宠物", "en": "Pet"}}}), "/schema/properties/pet",
     'option "cat" of question "pet" has no English text; add '
     'ui.fields["pet"].options["cat"] = {"zh": ..., "en": ...}'),
])
def test_a_text_missing_a_language_is_refused(form: dict[str, Any], pointer: str,
                                              message: str) -> None:
    assert lint(form) == [(pointer, "error", "text-missing-language", message)]


def test_yes_no_options_and_options_in_digits_need_no_english() -> None:
    form = _form({"ok": {"type": "boolean", "title": "同意"},
                  "year": {"title": "年份", "enum": [2025, 2026]},
                  "band": {"title": "档次", "enum": ["1-5", "6-10"]}},
                 {"ok": {"label": {"zh": "同意", "en": "Agree"}},
                  "year": {"label": {"zh": "年份", "en": "Year"}},
                  "band": {"label": {"zh": "档次", "en": "Band"}}})
    assert lint(form) == []


# --- colour ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("hint", "cue"), [
    ({"zh": "标红的项为必填", "en": "Items marked with * are required"}, "标红"),
    ({"zh": "带*的为必填项", "en": "Fields marked in red are required"}, "marked in red"),
    ({"zh": "红色字段为必填", "en": "Required"}, "红色字段"),
    ({"zh": "必填", "en": "The green boxes are optional"}, "green boxes"),
])
def test_a_colour_only_cue_is_refused(hint: dict[str, str], cue: str) -> None:
    form = _form({"name": NAME}, {"name": {**NAME_UI, "hint": hint}})
    assert lint(form) == [
        ("/ui/fields/name/hint", "error", "colour-only-cue",
         f'the hint of question "name" points at a colour ("{cue}"); people who can\'t tell '
         "colours apart, and screen readers, miss it: say it in words (such as 必填, optional) "
         "instead")]


def test_a_colour_as_an_answer_is_no_cue() -> None:
    form = _form({"colour": {"type": "string", "title": "车身颜色"}},
                 {"colour": {"label": {"zh": "车身颜色", "en": "Colour of the car"},
                             "hint": {"zh": "如红色、白色", "en": "Such as red or white"}}})
    assert lint(form) == []


# --- choices --------------------------------------------------------------------------------

def _choice(count: int, widget: str | None = None, many: bool = False) -> dict[str, Any]:
    values = [f"v{i}" for i in range(count)]
    schema: dict[str, Any] = {"title": "选择", "enum": values}
    if many:
        schema = {"title": "选择", "type": "array", "uniqueItems": True, "items": {"enum": values}}
    ui: dict[str, Any] = {"label": {"zh": "选择", "en": "Choose"},
                          "options": {v: {"zh": v, "en": v} for v in values}}
    if widget:
        ui["widget"] = widget
    return _form({"pick": schema}, {"pick": ui})


def test_a_single_choice_over_30_options_needs_an_autocomplete() -> None:
    assert lint(_choice(31)) == [
        ("/schema/properties/pick", "error", "choices-need-autocomplete",
         'question "pick" has 31 options shown as select; a list over 30 is hard to scan: set '
         '"widget": "autocomplete" in ui.fields["pick"]')]
    assert lint(_choice(30)) == []
    assert lint(_choice(31, "autocomplete")) == []
    assert lint(_choice(31, "radios"))[0][:3] == ("/ui/fields/pick/widget", "error",
                                                  "choices-need-autocomplete")


def test_a_multiple_choice_over_30_options_is_refused() -> None:
    assert lint(_choice(31, many=True)) == [
        ("/schema/properties/pick", "error", "too-many-choices",
         'question "pick" lets people tick from 31 options; expected 30 or fewer (GOV.UK Forms\' '
         "limit): split the question, or ask for one choice with an autocomplete")]
    assert lint(_choice(30, many=True)) == []


def test_a_single_choice_over_3000_options_is_refused() -> None:
    assert lint(_choice(3001, "autocomplete")) == [
        ("/schema/properties/pick", "error", "too-many-choices",
         'question "pick" has 3001 options; expected 3000 or fewer (GOV.UK Forms\' limit): '
         "narrow the list with an earlier question")]


def test_a_single_choice_of_one_option_is_refused() -> None:
    assert lint(_choice(1)) == [
        ("/schema/properties/pick", "error", "too-few-choices",
         'question "pick" offers 1 option, so there is nothing to choose: add the other answers, '
         'or drop the question (a box that must be ticked is "type": "boolean", "const": true)')]
    assert lint(_choice(2)) == []
    assert lint(_choice(1, many=True)) == []  # one box to tick among checkboxes is a choice


# --- repeats, placeholders, pages ------------------------------------------------------------

@pytest.mark.parametrize(("most", "found"), [(50, False), (51, True)])
def test_a_list_of_more_than_50_answers_is_a_warning(most: int, found: bool) -> None:
    form = _form({"dates": {"type": "array", "title": "日期", "maxItems": most,
                            "items": {"type": "string", "format": "date"}}},
                 {"dates": {"label": {"zh": "日期", "en": "Dates"}}})
    expected = [("/schema/properties/dates/maxItems", "warning", "too-many-answers",
                 f'question "dates" allows {most} answers; people can\'t check a list that long '
                 "on a phone: expected maxItems of 50 or fewer (GOV.UK Forms' limit), or an "
                 "upload of a list instead")]
    assert lint(form) == (expected if found else [])


def test_a_list_without_a_limit_is_a_warning() -> None:
    form = _form({"dates": {"type": "array", "title": "日期",
                            "items": {"type": "string", "format": "date"}}},
                 {"dates": {"label": {"zh": "日期", "en": "Dates"}}})
    assert lint(form) == [
        ("/schema/properties/dates", "warning", "too-many-answers",
         'question "dates" allows any number of answers; people can\'t check a list that long '
         "on a phone: expected maxItems of 50 or fewer (GOV.UK Forms' limit), or an upload of a "
         "list instead")]


def test_placeholder_text_is_a_warning() -> None:
    form = _form({"name": NAME}, {"name": {**NAME_UI, "placeholder": {"zh": "张三", "en": "Li"}}})
    assert lint(form) == [
        ("/ui/fields/name/placeholder", "warning", "placeholder-text",
         'question "name" has placeholder text, which disappears as people type and is too '
         "faint for many to read: put it in the hint instead")]


def _page_of(count: int) -> dict[str, Any]:
    properties = {f"q{i}": {"type": "string", "title": f"问题{i}"} for i in range(count)}
    fields = {f"q{i}": {"label": {"zh": f"问题{i}", "en": f"Question {i}"}}
              for i in range(count)}
    return _form(properties, fields, ui={"pages": [
        {"id": "all", "title": {"zh": "全部", "en": "All"}, "fields": list(properties)}]})


def test_a_page_of_more_than_10_questions_is_a_warning() -> None:
    assert lint(_page_of(11)) == [
        ("/ui/pages/0/fields", "warning", "page-too-many-questions",
         'page "all" asks 11 questions; expected 10 or fewer: split it into pages (GOV.UK asks '
         "one question per page)")]
    assert lint(_page_of(10)) == []


# --- duplicate labels ------------------------------------------------------------------------

def _twins(**more: Any) -> dict[str, Any]:
    label = {"label": {"zh": "号码", "en": "Number"}}
    return _form({"a": {"type": "string"}, "b": {"type": "string"}}, {"a": label, "b": label},
                 **more)


def test_two_questions_with_one_label_on_a_page_are_refused() -> None:
    assert lint(_twins()) == [
        ("/ui/fields/b/label/zh", "error", "duplicate-label",
         'questions "a" and "b" on page "main" have the same Chinese label "号码"; people (and '
         "the error summary) can't tell them apart: give each its own label"),
        ("/ui/fields/b/label/en", "error", "duplicate-label",
         'questions "a" and "b" on page "main" have the same English label "Number"; people '
         "(and the error summary) can't tell them apart: give each its own label")]


def test_one_label_on_two_pages_or_in_two_groups_is_fine() -> None:
    assert lint(_twins(ui={"pages": [
        {"id": "one", "title": {"zh": "一", "en": "One"}, "fields": ["a"]},
        {"id": "two", "title": {"zh": "二", "en": "Two"}, "fields": ["b"]}]})) == []
    name = {"type": "object", "title": "人", "properties": {"name": NAME}}
    fields = {"me": {"label": {"zh": "本人", "en": "You"}},
              "spouse": {"label": {"zh": "配偶", "en": "Your spouse"}},
              "me.name": NAME_UI, "spouse.name": NAME_UI}
    assert lint(_form({"me": name, "spouse": copy.deepcopy(name)}, fields)) == []


def test_one_label_on_questions_never_shown_together_is_fine() -> None:
    form = _twins()
    form["schema"]["properties"]["kind"] = {"title": "类别", "enum": ["x", "y"]}
    form["ui"]["fields"]["kind"] = {"label": {"zh": "类别", "en": "Kind"},
                                    "options": {"x": {"zh": "甲", "en": "X"},
                                                "y": {"zh": "乙", "en": "Y"}}}
    form["logic"] = [{"id": "a", "show": "a", "when": {"==": [{"var": "kind"}, "x"]}},
                     {"id": "b", "show": "b", "when": {"==": [{"var": "kind"}, "y"]}}]
    assert lint(form) == []
    form["logic"][1]["when"] = {"==": [{"var": "kind"}, "x"]}
    assert [rule for _, _, rule, _ in lint(form)] == ["duplicate-label", "duplicate-label"]


# --- the service guide -----------------------------------------------------------------------

GUIDE = """\
code: t
guide:
  statutory_days: 10
  promised_days: {promised}
{contact}"""


def lint_guide(promised: int, contact: bool = True) -> list[tuple[str, str, str, str]]:
    text = GUIDE.format(promised=promised,
                        contact="  contact: {zh: 热线 12345, en: Hotline 12345}\n" if contact
                        else "")
    return [(p.pointer, p.severity, p.rule, p.message)
            for p in lint_service(read_yaml(text), SERVICE)]


def test_a_promise_longer_than_the_law_is_refused() -> None:
    assert lint_guide(11) == [
        ("/guide/promised_days", "error", "promised-over-statutory",
         "the promised time (11 working days) is longer than the statutory time (10); expected "
         "promised_days of 10 or fewer (承诺时限 may only shorten 法定时限)")]
    assert lint_guide(10) == []


def test_a_guide_without_contact_is_a_warning() -> None:
    assert lint_guide(5, contact=False) == [
        ("/guide", "warning", "guide-without-contact",
         "the guide has no contact; GOV.UK Forms asks for contact details before a form goes "
         "live: add contact: {zh: ..., en: ...} (a telephone number or a counter)")]


UPLOAD_FORM = {"title": {"zh": "测", "en": "T"}, "schema": {
    "type": "object", "required": ["scan"],
    "properties": {"scan": {"type": "string", "title": "扫描件", "contentMediaType": "image/png"},
                   "extra": {"type": "string", "title": "其他", "contentMediaType": "image/png"}}}}


@pytest.mark.parametrize(("field", "required", "found"), [
    ("scan", "false", True), ("scan", "true", False), ("extra", "false", False)])
def test_an_optional_material_the_form_insists_on_is_refused(field: str, required: str,
                                                            found: bool) -> None:
    text = (f"code: t\nmaterials:\n  - code: scan\n    name: {{zh: 扫描件, en: Scan}}\n"
            f"    required: {required}\n    form_field: {field}\n")
    problems = lint_materials(read_yaml(text), SERVICE, load_form(UPLOAD_FORM, name=FORM))
    expected = [Problem(SERVICE, 5, 15, "/materials/0/required",
                        'material "scan" is optional in the guide, but the form question "scan" '
                        "must always be answered: make the material required: true, or take the "
                        'question out of the schema\'s "required"')]
    assert problems == (expected if found else [])
    assert [p.rule for p in problems] == (["optional-material-required"] if found else [])


# --- the flow: a task nobody can act on ----------------------------------------------------

DEPARTMENTS = {
    "bureau": DepartmentInfo("bureau", None, None),
    "bureau-a": DepartmentInfo("bureau-a", "bureau", "310101"),
    "bureau-b": DepartmentInfo("bureau-b", "bureau", "310104"),
    "other": DepartmentInfo("other", None, None),
}


def _district_form(values: list[str] | None, required: bool = True) -> Any:
    schema: dict[str, Any] = {"type": "string", "title": "区"}
    if values is not None:
        schema["enum"] = values
    return load_form({"title": {"zh": "测", "en": "T"}, "schema": {
        "type": "object", "required": ["district"] if required else [],
        "properties": {"district": schema}}}, name=FORM)


def lint_task(who: str, form: Any, extra: str = "",
              more_nodes: str = "") -> list[tuple[str, str, str, str]]:
    text = (f"code: t\nnodes:\n  start: {{type: start, next: review}}\n"
            f"  review:\n    type: task\n    who: {who}\n{extra}    next: done\n"
            f"{more_nodes}  done: {{type: end}}\n")
    return [(p.pointer, p.severity, p.rule, p.message)
            for p in lint_flow(read_yaml(text), FLOW, form, "svc", DEPARTMENTS)]


DISTRICT = "{role: reviewer, department: {district_of: district, under: bureau}}"
ADVICE = ('or set "when_empty: department_admin" on the task so the department\'s administrator '
          "takes those")


def test_a_district_without_an_office_leaves_a_task_with_nobody() -> None:
    assert lint_task(DISTRICT, _district_form(["310101", "310104", "310105"])) == [
        ("/nodes/review/who/department/district_of", "error", "task-without-actor",
         'nobody can act on task "review" for the answers 310105 of "district" in service "svc": '
         'no district office under "bureau" serves them; add a district office with that region '
         f"to the department catalogue, {ADVICE}")]
    assert lint_task(DISTRICT, _district_form(["310101", "310104"])) == []
    assert lint_task(DISTRICT, _district_form(["310101", "310105"]),
                     "    when_empty: department_admin\n") == []


def test_a_district_question_that_may_be_left_empty_leaves_a_task_with_nobody() -> None:
    assert lint_task(DISTRICT, _district_form(["310101"], required=False)) == [
        ("/nodes/review/who/department/district_of", "error", "task-without-actor",
         'nobody can act on task "review" when "district" is left empty in service "svc": make '
         f"the question required, {ADVICE}")]


def test_a_department_from_a_free_answer_is_a_warning() -> None:
    assert lint_task(DISTRICT, _district_form(None)) == [
        ("/nodes/review/who/department/district_of", "warning", "task-without-actor",
         'task "review" picks its department from the free answer "district" in service "svc", '
         "so an answer the catalogue does not cover leaves nobody to act: ask it as a choice, "
         f"{ADVICE}")]


def test_a_department_chosen_in_the_form_must_be_in_the_catalogue() -> None:
    who = "{role: reviewer, department: {field: district}}"
    assert lint_task(who, _district_form(["bureau-a", "nowhere"])) == [
        ("/nodes/review/who/department/field", "error", "task-without-actor",
         'nobody can act on task "review" for the answers nowhere of "district" in service '
         '"svc": no department of the catalogue is them; add the department to the department '
         f"catalogue, {ADVICE}")]
    assert lint_task(who, _district_form(["bureau-a", "other"])) == []


def test_four_eyes_over_the_same_single_user_leaves_a_task_with_nobody() -> None:
    first = "  check:\n    type: task\n    who: {users: [wang]}\n    next: done\n"
    assert lint_task("{users: [wang]}", _district_form(None), "    exclusive_with: [check]\n",
                     first) == [
        ("/nodes/review/exclusive_with", "error", "task-without-actor",
         'nobody can act on task "review": its only users (wang) act on the tasks it is '
         "exclusive_with; add another user to it or drop exclusive_with")]
    assert lint_task("{users: [wang, li]}", _district_form(None),
                     "    exclusive_with: [check]\n", first) == []


# --- the loader, defs check and the shipped definitions --------------------------------------

@pytest.fixture(scope="module")
def shipped() -> Any:
    return load_directory(PROJECT_ROOT)


def test_the_shipped_definitions_pass_the_lint_without_a_warning(shipped: Any) -> None:
    assert shipped.problems == []
    assert shipped.warnings == []


def test_defs_check_of_the_repository_reports_no_errors() -> None:
    result = CliRunner().invoke(main, ["defs", "check", str(PROJECT_ROOT)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: 7 service(s), 7 form(s)")


def test_a_problem_reads_as_before_and_a_warning_says_so() -> None:
    error = Problem("f.json", 3, 5, "/x", "bad")
    assert str(error) == "f.json:3:5: at /x bad"
    assert error.severity == "error"
    warning = Problem("f.json", 3, 5, "/x", "meh", severity="warning", rule="r")
    assert str(warning) == "f.json:3:5: at /x warning: meh [r]"


def test_every_rule_is_documented_with_its_severity() -> None:
    text = (PROJECT_ROOT / "docs" / "definitions.md").read_text("utf-8")
    section = text[text.index("## Design-time lint"):]
    section = section[:section.index("\n## ", 5)] if "\n## " in section[5:] else section
    rows = dict(re.findall(r"^\| `([a-z-]+)` \| (error|warning)", section, re.M))
    assert rows == RULES
