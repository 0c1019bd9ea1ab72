"""The form editor's edits as pure functions: each result is a form the engine loads, the input
is never changed, and bad input is refused with the administrator's message."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tongban import PROJECT_ROOT
from tongban.console import form_edit as fe
from tongban.console.form_doc import (
    Choice,
    Clause,
    Condition,
    EditError,
    all_questions,
    dump,
    page_views,
    parse,
    parse_condition,
    question_of_pointer,
)
from tongban.forms import state
from tongban.forms.definition import check_form, load_form


def _empty() -> dict:
    return {"title": {"zh": "测试表单", "en": "Test form"},
            "schema": {"type": "object", "properties": {}}}


def _loads(doc: dict) -> None:
    assert check_form(doc) == [], check_form(doc)


def _with(*kinds: str) -> dict:
    doc = _empty()
    for number, kind in enumerate(kinds, 1):
        doc, _ = fe.add_question(doc, kind, f"问题{number}", f"Question {number}")
    return doc


def _refused(message: str, call, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(EditError) as caught:
        call(*args, **kwargs)
    assert str(caught.value) == message


@pytest.mark.parametrize("kind", list(fe.QUESTION_TYPES))
def test_every_question_type_added_loads_and_reads_back_as_that_type(kind: str) -> None:
    doc, key = fe.add_question(_empty(), kind, "您的回答", "Your answer")
    _loads(doc)
    question, = all_questions(doc)
    assert (question.key, question.kind, question.label_zh, question.label_en) == (
        key, kind, "您的回答", "Your answer")
    assert load_form(doc).field(key).label == {"zh": "您的回答", "en": "Your answer"}


def test_an_edit_never_changes_the_document_it_is_given() -> None:
    doc = _with("text", "choice")
    before = copy.deepcopy(doc)
    fe.update_question(doc, "q1", fe.QuestionEdit("新名", required=True, max_length=5))
    fe.move_question(doc, "q2", "up")
    fe.set_condition(doc, "q1", Condition("all", (Clause("q2", "eq", "option-1"),)))
    fe.delete_question(doc, "q1")
    fe.split_page(doc, "q2", "第二页")
    assert doc == before


def test_update_sets_texts_required_limits_and_a_named_pattern() -> None:
    doc = fe.update_question(_with("text"), "q1", fe.QuestionEdit(
        "姓名", "Name", "与身份证一致", "As on your ID card", required=True, min_length=2,
        max_length=20, pattern="cn_name"))
    _loads(doc)
    assert doc["schema"]["required"] == ["q1"]
    assert doc["schema"]["properties"]["q1"] == {
        "type": "string", "maxLength": 20, "title": "姓名", "minLength": 2,
        "pattern": "^[\\p{Han}·]{2,20}$"}
    assert doc["ui"]["fields"]["q1"]["hint"] == {"zh": "与身份证一致", "en": "As on your ID card"}
    question, = all_questions(doc)
    assert (question.required, question.pattern, question.min_length) == (True, "cn_name", 2)
    cleared = fe.update_question(doc, "q1", fe.QuestionEdit("姓名"))
    assert "required" not in cleared["schema"]
    assert "pattern" not in cleared["schema"]["properties"]["q1"]
    assert "hint" not in cleared["ui"]["fields"]["q1"]


def test_a_number_question_gets_a_range() -> None:
    doc = fe.update_question(_with("integer"), "q1", fe.QuestionEdit(
        "年龄", minimum=18.0, maximum=60.0))
    _loads(doc)
    assert doc["schema"]["properties"]["q1"]["minimum"] == 18
    assert load_form(doc).field("q1").widget == "integer"


def test_choices_are_written_with_both_languages_and_new_ones_get_free_values() -> None:
    doc = fe.update_question(_with("choice"), "q1", fe.QuestionEdit("类别", choices=(
        Choice("option-1", "市容", "City look"), Choice(None, "设施", "Facilities"),
        Choice(None, "其他", ""))))
    _loads(doc)
    assert doc["schema"]["properties"]["q1"]["oneOf"] == [
        {"const": "option-1", "title": "市容"}, {"const": "option-2", "title": "设施"},
        {"const": "option-3", "title": "其他"}]
    assert doc["ui"]["fields"]["q1"]["options"]["option-2"] == {"zh": "设施",
                                                                 "en": "Facilities"}


@pytest.mark.parametrize(("edit", "message"), [
    (fe.QuestionEdit(" "), "Enter the question in Chinese."),
    (fe.QuestionEdit("名", min_length=5, max_length=2),
     "The shortest answer cannot be longer than the longest answer."),
    (fe.QuestionEdit("名", minimum=5, maximum=2),
     "The smallest number cannot be more than the largest number."),
    (fe.QuestionEdit("名", min_length=-1), "A length cannot be less than 0."),
    (fe.QuestionEdit("名", pattern="regex"), "Choose an answer format from the list."),
    (fe.QuestionEdit("名", choices=()), "Give the question at least one choice."),
    (fe.QuestionEdit("名", choices=(Choice(None, "甲", ""), Choice(None, "甲", ""))),
     'The choice "甲" is listed twice.'),
])
def test_bad_question_edits_are_refused_with_a_message(edit: fe.QuestionEdit,
                                                       message: str) -> None:
    _refused(message, fe.update_question, _with("choice"), "q1", edit)


def test_add_question_refuses_an_unknown_type_and_a_missing_label() -> None:
    _refused("Choose the type of question.", fe.add_question, _empty(), "signature", "签名")
    _refused("Enter the question in Chinese.", fe.add_question, _empty(), "text", "  ")


def test_move_reorders_properties_without_pages_and_stops_at_the_ends() -> None:
    doc = fe.move_question(_with("text", "date", "integer"), "q3", "up")
    assert list(doc["schema"]["properties"]) == ["q1", "q3", "q2"]
    assert [q.key for q in all_questions(doc)] == ["q1", "q3", "q2"]
    _refused("The question is already the first or last one.", fe.move_question, doc, "q1",
             "up")


def test_move_past_the_end_of_a_page_goes_onto_the_next_page() -> None:
    doc = fe.split_page(_with("text", "date", "integer"), "q2", "第二页", "Page two")
    _loads(doc)
    assert [p["fields"] for p in doc["ui"]["pages"]] == [["q1"], ["q2", "q3"]]
    doc = fe.move_question(doc, "q2", "up")
    assert [p["fields"] for p in doc["ui"]["pages"]] == [["q1", "q2"], ["q3"]]
    _loads(doc)
    alone = fe.move_question(doc, "q3", "up")  # the page it leaves empty goes with it
    assert [p["fields"] for p in alone["ui"]["pages"]] == [["q1", "q2", "q3"]]
    _loads(alone)
    doc["logic"] = [{"show_page": "page-2", "when": {"!!": [{"var": "q1"}]}}]
    _refused("The question is the only one on its page and a rule of the form names that "
             "page: edit it in the text view.", fe.move_question, doc, "q3", "up")


def test_a_new_question_joins_the_named_page_and_pages_merge_back() -> None:
    doc = fe.split_page(_with("text", "date"), "q2", "第二页")
    doc, key = fe.add_question(doc, "mobile", "手机号码", page_id="page-1")
    assert [p["fields"] for p in doc["ui"]["pages"]] == [["q1", key], ["q2"]]
    _refused('There is no page "nowhere" in this form.', fe.add_question, doc, "text", "问",
             page_id="nowhere")
    merged = fe.merge_page(doc, "page-2")
    assert "pages" not in merged["ui"]
    _loads(merged)
    _refused("The first page has no page before it to join.", fe.merge_page, doc, "page-1")
    renamed = fe.rename_page(doc, "page-2", "联系方式", "Contact")
    assert page_views(renamed)[1].title_en == "Contact"


def test_condition_from_dropdowns_writes_json_logic_and_reads_back() -> None:
    doc = _with("choice", "integer", "yes_no", "choices", "text")
    condition = Condition("any", (Clause("q1", "eq", "选项二"), Clause("q2", "gt", "17"),
                                  Clause("q3", "eq", "是"), Clause("q4", "contains", "option-1"),
                                  Clause("q2", "answered")))
    doc = fe.set_condition(doc, "q5", condition)
    _loads(doc)
    assert doc["logic"] == [{"id": "show-q5", "show": "q5", "when": {"or": [
        {"==": [{"var": "q1"}, "option-2"]}, {">": [{"var": "q2"}, 17]},
        {"==": [{"var": "q3"}, True]}, {"in": ["option-1", {"var": "q4"}]},
        {"!!": [{"var": "q2"}]}]}}]
    question = all_questions(doc)[-1]
    assert question.condition == Condition("any", (
        Clause("q1", "eq", "option-2"), Clause("q2", "gt", 17), Clause("q3", "eq", True),
        Clause("q4", "contains", "option-1"), Clause("q2", "answered")))
    assert not question.condition_custom
    removed = fe.set_condition(doc, "q5", None)
    assert "logic" not in removed


def test_the_condition_holds_in_the_engine() -> None:
    doc = fe.set_condition(_with("choice", "text"), "q2",
                           Condition("all", (Clause("q1", "eq", "option-2"),)))
    form = load_form(doc)
    assert "q2" in state.evaluate(form, {"q1": "option-1"}).hidden_keys
    assert "q2" not in state.evaluate(form, {"q1": "option-2"}).hidden_keys


@pytest.mark.parametrize(("clause", "message"), [
    (Clause("nowhere", "eq", "1"), "Choose the question the condition is about."),
    (Clause("q4", "eq", "x"), "A question cannot depend on its own answer."),
    (Clause("q1", "like", "x"), "Choose how the answer is compared."),
    (Clause("q1", "eq", " "), "Choose or enter the answer the condition compares with."),
    (Clause("q1", "eq", "丙"), '"丙" is not one of the choices of "问题1".'),
    (Clause("q1", "contains", "option-1"), '"includes" only fits a question with several '
                                           'choices.'),
    (Clause("q1", "gt", "3"), '"is more than" and "is less than" only fit a number question.'),
    (Clause("q2", "gt", "many"), 'Enter a number for "问题2".'),
    (Clause("q3", "eq", "maybe"), "Choose yes or no."),
])
def test_bad_conditions_are_refused(clause: Clause, message: str) -> None:
    _refused(message, fe.set_condition, _with("choice", "integer", "yes_no", "text"), "q4",
             Condition("all", (clause,)))


def test_a_question_another_condition_reads_cannot_be_deleted() -> None:
    doc = fe.set_condition(_with("choice", "text"), "q2",
                           Condition("all", (Clause("q1", "answered"),)))
    _refused('The condition of "问题2" uses this question: change that condition first.',
             fe.delete_question, doc, "q1")
    gone = fe.delete_question(doc, "q2")
    assert "logic" not in gone or gone["logic"] == []
    assert list(gone["schema"]["properties"]) == ["q1"]
    _loads(gone)


def test_deleting_the_last_question_of_a_group_removes_the_group_too() -> None:
    """The blank template's one question sits in a group: deleted, the group went empty and
    applicants were shown a required box for raw JSON labelled with the group's title."""
    doc = _empty()
    doc["schema"] = {"type": "object", "required": ["request"], "properties": {"request": {
        "type": "object", "title": "申请事项", "required": ["details"],
        "properties": {"details": {"type": "string", "title": "申请事项说明"},
                       "note": {"type": "string", "title": "备注"}}}}}
    doc["ui"] = {"fields": {"request": {"label": {"zh": "申请事项", "en": "Your request"}},
                            "request.details": {"widget": "textarea"}},
                 "pages": [{"id": "request", "title": {"zh": "申请事项", "en": "Request"},
                            "fields": ["request"]}]}
    doc, key = fe.add_question(doc, "text", "犬只名字", "Dog's name")
    doc = fe.set_condition(doc, "request.note", Condition("all", (Clause(key, "answered"),)))
    one_left = fe.delete_question(doc, "request.details")  # the group keeps its other question
    assert list(one_left["schema"]["properties"]["request"]["properties"]) == ["note"]
    assert "required" not in one_left["schema"]["properties"]["request"]
    gone = fe.delete_question(one_left, "request.note")
    assert list(gone["schema"]["properties"]) == [key]
    assert "required" not in gone["schema"]
    assert gone["ui"]["fields"] == {key: {"label": {"zh": "犬只名字", "en": "Dog's name"}}}
    assert gone["ui"]["pages"][0]["fields"] == [key]
    assert gone.get("logic", []) == []  # the deleted question's condition went with it
    assert [q.key for q in all_questions(gone)] == [key]
    _loads(gone)


def test_a_rule_written_by_hand_is_kept_and_marked_for_the_text_view() -> None:
    doc = _with("integer", "text")
    doc["logic"] = [{"show": "q2", "when": {">": [{"+": [{"var": "q1"}, 1]}, 3]}}]
    question = all_questions(doc)[1]
    assert question.condition is None and question.condition_custom
    assert parse_condition({"and": []}) is None


def test_shipped_forms_read_as_questions_and_survive_a_no_op_round_trip() -> None:
    for path in sorted((Path(PROJECT_ROOT) / "form_definitions").glob("*.json")):
        text = path.read_text(encoding="utf-8")
        doc = parse(text)
        assert all_questions(doc), path.name
        assert parse(dump(doc)) == json.loads(text)


def test_a_problem_pointer_names_its_question() -> None:
    doc = fe.set_condition(_with("choice", "text"), "q2",
                           Condition("all", (Clause("q1", "answered"),)))
    doc["schema"]["required"] = ["q2"]
    assert question_of_pointer(doc, "/schema/properties/q1/oneOf/0") == "q1"
    assert question_of_pointer(doc, "/ui/fields/q2/label") == "q2"
    assert question_of_pointer(doc, "/logic/0/when") == "q2"
    assert question_of_pointer(doc, "/schema/required/0") == "q2"
    assert question_of_pointer(doc, "/title") is None


def test_text_that_is_not_json_is_refused_with_its_line() -> None:
    _refused("The form file is not valid JSON (line 2, column 1): correct it in the text view.",
             parse, '{"title":\n}')
    _refused("The form file must be a JSON object: correct it in the text view.", parse, "[]")
