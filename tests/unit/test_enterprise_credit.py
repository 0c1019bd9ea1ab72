"""Issue 13 item 4: the example enterprise credit grading (weighted score -> A/B/C/D), its form
and its plain-language rules, worked by hand at the grade edges."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from forms_fixtures.app import forms_ctx  # noqa: F401 - fixtures
from werkzeug.datastructures import MultiDict

from tongban.definitions.yamlpos import read_yaml
from tongban.forms.coerce import coerce_page
from tongban.forms.definition import load_form
from tongban.forms.errors import message
from tongban.forms.state import validate_page
from tongban.points import compile_rules, evaluate
from tongban.points.plain import describe

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "workflow_definitions" / "rules" / "enterprise-credit.yaml"
FORM = ROOT / "form_definitions" / "enterprise-credit.json"
AS_OF = date(2026, 12, 2)


@pytest.fixture(scope="module")
def content() -> dict:
    return read_yaml(RULES.read_text("utf-8")).data


def _answers(tax: str, penalties: int, records: int, arrears: int, established: str) -> dict:
    return {"enterprise": {"name": "上海示例科技有限公司", "uscc": "91310000MA1FL8LY01",
                           "established_on": established},
            "compliance": {"tax_rating": tax, "penalties": penalties,
                           "enforcement_records": records, "si_arrears_months": arrears},
            "contact": {"name": "王经理", "mobile": "13800138000"}}


# Worked by hand: 30 x tax score/100 + 25 x (1 - penalties/4) + 20 x (1 - records/2)
# + 15 x (1 - arrears months/6) + 10 x years/10, each share kept within 0..1.
CASES = [
    # (what, answers, total, grade)
    ("spotless, ten years", ("A", 0, 0, 0, "2016-12-02"), 100, "A"),
    ("exactly 90 (M, nine full years today)", ("M", 0, 0, 0, "2017-12-02"), 90, "A"),
    ("a day short of nine years: 89", ("M", 0, 0, 0, "2017-12-03"), 89, "B"),
    ("exactly 75 (C, three years)", ("C", 0, 0, 0, "2023-12-02"), 75, "B"),
    ("74 (C, two years)", ("C", 0, 0, 0, "2024-12-02"), 74, "C"),
    ("exactly 60 (D, new)", ("D", 0, 0, 0, "2026-06-01"), 60, "C"),
    ("57.5 (D, one month of arrears)", ("D", 0, 0, 1, "2026-06-01"), 57.5, "D"),
    ("a mixed record: 60.5", ("B", 2, 1, 3, "2021-12-02"), 60.5, "C"),
    ("beyond every limit: 0", ("D", 5, 3, 7, "2026-11-30"), 0, "D"),
]


@pytest.mark.parametrize(("what", "answers", "total", "grade"), CASES, ids=[c[0] for c in CASES])
def test_the_credit_rules_grade_hand_worked_enterprises(content, what, answers, total,
                                                         grade) -> None:
    result = evaluate(compile_rules(content, version=1), _answers(*answers), AS_OF).to_json()
    assert (result["total"], result["grade"]) == (total, grade)


def test_the_credit_rules_are_an_example_graded_on_weights_adding_up_to_100(content) -> None:
    rule_set = compile_rules(content, version=1)
    assert rule_set.example is True
    assert rule_set.kind == "grading"
    assert sum(c.weight for i in rule_set.indicators for c in i.components) == 100


def test_the_credit_form_asks_for_a_checked_unified_social_credit_code(forms_ctx) -> None:  # noqa: F811
    form = load_form(str(FORM))
    post = MultiDict({"enterprise.name": "上海示例科技有限公司", "enterprise.uscc": "91310000MA1FL8LY0X",
                      "enterprise.established_on:year": "2016",
                      "enterprise.established_on:month": "5",
                      "enterprise.established_on:day": "20"})
    result = coerce_page(form, "enterprise", post)
    errors = [*result.errors, *validate_page(form, "enterprise", result.answers)]
    assert [message(e, form, "en") for e in errors] == [
        "The unified social credit code's check character is wrong. Check the last character."]
    post["enterprise.uscc"] = "91310000MA1FL8LY01"
    result = coerce_page(form, "enterprise", post)
    assert result.errors == [] and validate_page(form, "enterprise", result.answers) == []


def test_the_credit_rules_in_plain_chinese_name_each_weight_and_grade(content) -> None:
    described = describe(content, "zh", version=1)
    assert described.example is True
    assert described.effective == "自 2026年1月1日 起施行"
    assert described.version_text == "第 1 版"
    (credit,) = described.indicators
    assert credit.sentences == ("由以下各项加权计算，满分 100 分：",)
    assert credit.items[1] == "近三年行政处罚次数（权重 25%）：0 次得满分，4 次及以上得 0，其间按比例"
    assert credit.items[4] == "经营年限（权重 10%）：0 年得 0，10 年及以上得满分，其间按比例"
    assert described.outcome == ("A 级（守信）：90 分及以上",
                                 "B 级（基本守信）：75 分及以上，不足 90 分",
                                 "C 级（失信风险）：60 分及以上，不足 75 分",
                                 "D 级（严重失信风险）：不足 60 分")


def test_the_credit_rules_in_plain_english(content) -> None:
    described = describe(content, "en", version=1)
    assert described.effective == "In force from 1 January 2026"
    assert described.indicators[0].items[3] == (
        "Months of social insurance arrears (weight 15%): 0 months scores in full, 6 months or "
        "more scores nothing, in proportion in between")
    assert described.outcome[-1] == "Grade D (Serious risk): under 60"
