"""Issue 10 §4: a date question can say in the form file that it can't be in the future (or
the past); "today" is taken in the TIME_ZONE setting."""

from __future__ import annotations

import datetime

import pytest
from forms_fixtures.app import forms_ctx  # noqa: F401 - fixture

from tongban.forms import date_limits
from tongban.forms.definition import FormDefinitionError, load_form
from tongban.forms.errors import message
from tongban.forms.state import validate_page, validate_submission

TODAY = datetime.date(2026, 3, 2)


def _form(ui: dict, *, in_list: bool = False) -> dict:
    day = {"type": "string", "format": "date", "title": "Day"}
    schema = ({"type": "object", "properties": {"visits": {"type": "array", "items": {
        "type": "object", "properties": {"day": day}}}}} if in_list
        else {"type": "object", "properties": {"day": day, "note": {"type": "string"}}})
    key = "visits.day" if in_list else "day"
    return {"title": {"zh": "测试", "en": "Test"}, "schema": schema,
            "ui": {"fields": {key: {"label": {"zh": "发现日期", "en": "Date you saw it"}, **ui}},
                   "pages": [{"id": "one", "fields": ["visits"] if in_list else ["day", "note"]}]}}


@pytest.fixture
def on_the_second_of_march(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(date_limits, "today", lambda now=None: TODAY)


@pytest.mark.parametrize(("limit", "answer", "expected"), [
    ({"not_after": "today"}, "2026-03-03", ["Date you saw it must be today or in the past"]),
    ({"not_after": "today"}, "2026-03-02", []),
    ({"not_after": "today"}, "2025-12-31", []),
    ({"not_before": "today"}, "2026-03-01", ["Date you saw it must be today or in the future"]),
    ({"not_before": "today"}, "2026-03-02", []),
    ({"not_after": "2025-12-31"}, "2026-01-01",
     ["Date you saw it must be the same as or before 2025-12-31"]),
    ({"not_before": "2025-01-01"}, "2024-12-31",
     ["Date you saw it must be the same as or after 2025-01-01"]),
    ({"not_before": "2025-01-01", "not_after": "today"}, "2025-06-30", []),
])
def test_a_date_outside_its_limit_is_refused_on_the_page_and_at_submit(
        forms_ctx, on_the_second_of_march, limit: dict, answer: str,  # noqa: F811
        expected: list[str]) -> None:
    form = load_form(_form(limit), name="limits.json")
    for errors in (validate_page(form, "one", {"day": answer}),
                   validate_submission(form, {"day": answer})):
        assert [message(e, form, "en") for e in errors] == expected


def test_a_date_in_each_repeated_group_is_checked_at_its_own_path(
        forms_ctx, on_the_second_of_march) -> None:  # noqa: F811
    form = load_form(_form({"not_after": "today"}, in_list=True), name="limits.json")
    answers = {"visits": [{"day": "2026-03-01"}, {"day": "2027-01-01"}]}
    assert [(e.path, e.code) for e in validate_submission(form, answers)] == [
        ("visits.1.day", "date_not_after_today")]


def test_an_answer_that_is_not_a_date_gets_the_format_message_only(
        forms_ctx, on_the_second_of_march) -> None:  # noqa: F811
    form = load_form(_form({"not_after": "today"}), name="limits.json")
    assert [e.code for e in validate_page(form, "one", {"day": "2026-02-30"})] == ["format"]


@pytest.mark.parametrize(("zone", "expected"), [("Asia/Shanghai", datetime.date(2026, 3, 2)),
                                                ("UTC", datetime.date(2026, 3, 1))])
def test_today_is_the_date_in_the_configured_time_zone(zone: str, expected) -> None:  # type: ignore[no-untyped-def]
    # 17:30 UTC on 1 March is already 2 March in Shanghai.
    instant = datetime.datetime(2026, 3, 1, 17, 30, tzinfo=datetime.UTC)
    try:
        date_limits.use_time_zone(zone)
        assert date_limits.today(instant) == expected
    finally:
        date_limits.use_time_zone(date_limits.DEFAULT_TIME_ZONE)


BAD_LIMITS = [
    ({"not_after": "tomorrow"}, "/ui/fields/day/not_after", "does not match"),
    ({"not_after": "2025-02-30"}, "/ui/fields/day/not_after",
     "'2025-02-30' is not a real date; use \"today\" or YYYY-MM-DD"),
    ({"not_before": "2026-01-01", "not_after": "2025-01-01"}, "/ui/fields/day/not_before",
     "not_before 2026-01-01 is after not_after 2025-01-01: no date could be given"),
]


@pytest.mark.parametrize(("limit", "pointer", "expected"), BAD_LIMITS)
def test_a_limit_that_cannot_work_is_refused_when_the_form_loads(
        limit: dict, pointer: str, expected: str) -> None:
    with pytest.raises(FormDefinitionError) as caught:
        load_form(_form(limit), name="limits.json")
    [error] = caught.value.errors
    assert error.pointer == pointer and expected in error.message


def test_a_limit_on_a_question_that_is_not_a_date_is_refused_with_its_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    form = _form({})
    form["ui"]["fields"]["note"] = {"not_after": "today"}
    path = tmp_path / "limits.json"
    path.write_text(json.dumps(form, indent=2, ensure_ascii=False), "utf-8")
    with pytest.raises(FormDefinitionError) as caught:
        load_form(path, name="limits.json")
    [error] = caught.value.errors
    assert error.message == "not_after applies to date questions only; 'note' is a text question"
    line = path.read_text("utf-8").splitlines()[error.line - 1]
    assert '"not_after": "today"' in line
