"""Issue 13 item 3 (公开透明): a rule set in plain language, generated from its YAML, one sentence
pattern per indicator type, in Chinese and English."""

from __future__ import annotations

from pathlib import Path

import pytest

from tongban.definitions.yamlpos import read_yaml
from tongban.points import compile_rules
from tongban.points.plain import describe

ROOT = Path(__file__).resolve().parents[2]

DOCUMENT = """
id: plain-demo
name: {zh: 示例积分, en: Demo points}
kind: scorecard
effective: {from: 2026-01-01, to: 2026-12-31}
example: true
parameters:
  years_cap: {value: null, note: {zh: 年限积分是否封顶, en: Whether years are capped}}
  window: {value: 3, note: {zh: 减分追溯年限, en: Years a deduction counts}}
  strict: {value: false, note: {zh: 是否启用严格否决, en: Whether the strict veto is on}}
inputs:
  birth_date: {type: date, from: person.birth_date, required: true, name: {zh: 出生日期, en: Date of birth}}
  age: {type: integer, derive: {age_on_reference_date: birth_date}, unit: {zh: 周岁, en: years},
        name: {zh: 年龄, en: Age}}
  income: {type: number, from: money.income, required: true, unit: {zh: 万元, en: "10k CNY"},
           name: {zh: 年收入, en: Income}}
  level: {type: string, from: person.level, required: true, name: {zh: 学历, en: Education}}
  title: {type: string, from: person.title, required: true, name: {zh: 职称, en: Title}}
  years: {type: integer, from: work.years, required: true, unit: {zh: 年, en: years},
          name: {zh: 工作年限, en: Years worked}}
  local_spouse: {type: boolean, from: family.local, required: true,
                 name: {zh: 配偶为本市户籍, en: Local spouse}}
  fines: {type: dates, from: record.fines, default: [], name: {zh: 罚款日期, en: Dates of fines}}
  crime: {type: boolean, from: record.crime, required: true, name: {zh: 严重犯罪, en: Serious crime}}
  other: {type: boolean, from: record.other, default: false, name: {zh: 其他情形, en: Other}}
indicators:
  - id: age
    group: basic
    name: {zh: 年龄, en: Age}
    type: bands
    input: age
    bands:
      - {min: 0, max: 43, points: 30}
      - {min: 44, max: 44, points: 29}
      - {min: 45, max: 55, points: 10}
      - {min: 56, points: 0}
  - id: income
    group: basic
    name: {zh: 收入, en: Income}
    type: bands
    input: income
    bands:
      - {below: 10, points: 0}
      - {min: 10, below: 20, points: 5}
      - {min: 20, points: 10}
  - id: level
    group: basic
    name: {zh: 学历, en: Education}
    type: table
    input: level
    table:
      college: {points: 50, label: {zh: 大专, en: College}}
      bachelor: {points: 60, label: {zh: 本科, en: Bachelor}}
  - id: title
    group: basic
    name: {zh: 职称, en: Title}
    type: table
    input: title
    table:
      none: {points: 0, label: {zh: 无职称, en: No title}}
      senior: {points: 140, label: {zh: 高级职称, en: Senior title}}
  - id: level_or_title
    group: basic
    name: {zh: 学历与职称二选一, en: Education or title}
    type: group_max
    of: [level, title]
  - id: years
    group: basic
    name: {zh: 工作年限, en: Years worked}
    type: per_unit
    input: years
    per: 1
    points: 3
    cap: {param: years_cap}
  - id: spouse
    group: plus
    name: {zh: 配偶, en: Spouse}
    type: per_unit
    input: years
    when: {var: local_spouse}
    per: 1
    points: 4
    cap: 40
  - id: fines
    group: minus
    name: {zh: 罚款, en: Fines}
    type: deduction
    input: fines
    points: -50
    window: {years: {param: window}}
  - id: crime
    group: veto
    name: {zh: 严重犯罪, en: Serious crime}
    type: veto
    when: {"==": [{var: crime}, true]}
  - id: other
    group: veto
    name: {zh: 其他情形, en: Other}
    type: veto
    enabled: {param: strict}
    when: {var: other}
outcome:
  threshold: 120
"""


@pytest.fixture(scope="module")
def content() -> dict:
    data = read_yaml(DOCUMENT).data
    compile_rules(data, version=1)  # the document is a valid rule set
    return data


def _by_id(content: dict, lang: str) -> dict:
    return {i.id: i for i in describe(content, lang, version=2).indicators}


def test_bands_read_as_one_sentence_with_the_unit(content) -> None:
    zh, en = _by_id(content, "zh"), _by_id(content, "en")
    assert zh["age"].sentences == (
        "43 周岁及以下 30 分；44 周岁 29 分；45–55 周岁 10 分；56 周岁及以上 0 分",)
    assert en["age"].sentences == ("43 years or under: 30 points; 44 years: 29 points; "
                                   "45 to 55 years: 10 points; 56 years or over: 0 points",)
    assert zh["income"].sentences == ("不足 10 万元 0 分；10 万元至不足 20 万元 5 分；20 万元及以上 10 分",)


def test_a_table_is_a_list_of_its_rows(content) -> None:
    assert _by_id(content, "zh")["level"].items == ("大专：50 分", "本科：60 分")
    assert _by_id(content, "en")["title"].items == ("No title: 0 points", "Senior title: 140 points")


def test_per_unit_names_its_cap_or_that_there_is_none_and_its_condition(content) -> None:
    zh, en = _by_id(content, "zh"), _by_id(content, "en")
    assert zh["years"].sentences == ("每满 1 年得 3 分，不设上限",)
    assert en["years"].sentences == ("3 points for each full year, with no upper limit",)
    assert zh["spouse"].sentences == ("配偶为本市户籍为“是”的，每满 1 年得 4 分，最高 40 分",)


def test_group_max_says_only_the_higher_counts(content) -> None:
    assert _by_id(content, "zh")["level_or_title"].sentences == (
        "学历、职称只计其中较高的一项（二选一，取较高者）",)
    assert _by_id(content, "en")["level_or_title"].sentences == (
        "Only the higher of Education and Title counts (they do not add up)",)


def test_a_deduction_names_its_look_back_window(content) -> None:
    assert _by_id(content, "zh")["fines"].sentences == ("每次扣 50 分，只计最近 3 年内的记录",)
    assert _by_id(content, "en")["fines"].sentences == (
        "50 points taken off for each one in the last 3 years",)


def test_a_veto_says_its_condition_and_one_switched_off_says_so(content) -> None:
    zh = _by_id(content, "zh")
    assert zh["crime"].sentences == ("一票否决：严重犯罪为“是”的，不论积分多少，均不符合条件。",)
    assert zh["other"].sentences[-1] == "此项暂不启用（由政策参数关闭）。"


def test_the_threshold_dates_version_parameters_and_example_flag(content) -> None:
    zh = describe(content, "zh", version=2)
    assert zh.outcome == ("总分达到 120 分的符合条件；有一票否决情形的，不论总分多少均不符合条件。",)
    assert zh.effective == "自 2026年1月1日 起施行，至 2026年12月31日 止"
    assert zh.version_text == "第 2 版"
    assert zh.example is True
    assert [(p.note, p.value) for p in zh.parameters] == [
        ("年限积分是否封顶", "不设"), ("减分追溯年限", "3"), ("是否启用严格否决", "否")]
    en = describe(content, "en", version=2)
    assert en.effective == "In force from 1 January 2026 to 31 December 2026"
    assert [g for g, _ in en.groups] == ["basic", "plus", "minus", "veto"]


@pytest.mark.parametrize("name", ["sh-residence-points", "enterprise-credit"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_indicator_of_the_shipped_rule_sets_is_described(name: str, lang: str) -> None:
    content = read_yaml((ROOT / "workflow_definitions" / "rules" / f"{name}.yaml")
                        .read_text("utf-8")).data
    described = describe(content, lang, version=1)
    assert len(described.indicators) == len(content["indicators"])
    for indicator in described.indicators:
        assert indicator.sentences or indicator.items, indicator.id
    assert described.outcome
