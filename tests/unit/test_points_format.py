"""The rules format: what each kind of indicator does on a small rule set of its own, and every
bad rules file refused with its file:line and the exact reason (docs/points.md, "Rules format")."""

from __future__ import annotations

from datetime import date

import pytest

from tongban.definitions.yamlpos import read_yaml
from tongban.points import BadInput, MissingInput, RulesError, compile_rules, evaluate
from tongban.points.check import check_document

SMALL = """\
id: small
name: {zh: 小规则, en: Small rules}
kind: scorecard
effective: {from: 2026-01-01, to: 2026-12-31}
parameters:
  hours_cap: {value: 20, note: {zh: 上限, en: The cap}}
  window: {value: 2, note: {zh: 年限, en: Years back}}
inputs:
  hours: {type: number, from: work.hours, required: true, unit: {zh: 小时, en: h}, name: {zh: 时长, en: Time}}
  level: {type: string, from: work.level, required: true, name: {zh: 等级, en: Level}}
  fines: {type: dates, from: work.fines, name: {zh: 罚款, en: Fines}}
  warnings: {type: integer, from: work.warnings, default: 0, name: {zh: 警告, en: Warnings}}
  banned: {type: boolean, from: work.banned, default: false, name: {zh: 禁止, en: Banned}}
  double: {type: number, derive: {logic: {"*": [{var: hours}, 2]}}, name: {zh: 双倍, en: Double}}
indicators:
  - id: hours_band
    group: basic
    name: {zh: 时长档, en: Hours band}
    type: bands
    input: hours
    bands:
      - {below: 10, points: 1}
      - {min: 10, below: 20, points: 2}
      - {min: 20, points: 3}
  - id: level
    group: basic
    name: {zh: 等级分, en: Level points}
    type: table
    input: level
    table:
      a: {points: 5, label: {zh: 甲等, en: Grade A}}
      b: {points: 4, label: {zh: 乙等, en: Grade B}}
  - id: per_hour
    group: plus
    name: {zh: 时长分, en: Hour points}
    type: per_unit
    input: double
    per: 4
    points: 1.5
    cap: {param: hours_cap}
  - id: best
    group: basic
    name: {zh: 取高, en: Best of two}
    type: group_max
    of: [hours_band, level]
  - id: fines
    group: minus
    name: {zh: 罚款, en: Fines}
    type: deduction
    input: fines
    points: -2
    window: {years: {param: window}}
  - id: warnings
    group: minus
    name: {zh: 警告, en: Warnings}
    type: deduction
    input: warnings
    points: -1
  - id: banned
    group: veto
    name: {zh: 禁止, en: Ban}
    type: veto
    when: {var: banned}
outcome:
  threshold: 10
"""

GRADING = """\
id: credit
name: {zh: 信用, en: Credit}
kind: grading
effective: {from: 2026-01-01}
example: true
inputs:
  on_time: {type: number, from: tax.on_time_share, required: true, name: {zh: 按时纳税比例, en: On time}}
  overdue: {type: integer, from: tax.overdue_days, required: true, name: {zh: 逾期天数, en: Days overdue}}
indicators:
  - id: score
    group: basic
    name: {zh: 信用得分, en: Credit score}
    type: weighted
    components:
      - {input: on_time, weight: 3, min: 0, max: 1}
      - {input: overdue, weight: 1, min: 0, max: 100, higher_is_better: false}
outcome:
  grades: [{min: 90, grade: A}, {min: 75, grade: B}, {min: 60, grade: C}, {min: 0, grade: D}]
"""


def problems(text: str, file: str = "rules/small.yaml") -> list[str]:
    return [str(p) for p in check_document(read_yaml(text), file)]


def small(text: str = SMALL):  # type: ignore[no-untyped-def]
    return compile_rules(read_yaml(text).data)


WORK = {"work": {"hours": 12, "level": "a", "fines": ["2025-06-01", "2024-11-30"],
                 "warnings": 2}}


def test_each_indicator_kind_on_a_small_rule_set() -> None:
    result = evaluate(small(), WORK, date(2026, 11, 30))
    by_id = {item.id: (item.points, item.counted) for item in result.indicators}
    assert by_id == {"hours_band": (2, False), "level": (5, False), "per_hour": (9, True),
                     "best": (5, True), "fines": (-4, True), "warnings": (-2, True),
                     "banned": (0, True)}
    assert result.total == 9 + 5 - 4 - 2 == 8
    assert result.eligible is False
    assert result.indicator("hours_band").explanation["zh"] == (
        "时长档 12 小时（10 小时及以上、不足 20 小时）：2 分；与等级分二选一，取较高者")
    assert result.indicator("per_hour").explanation["en"] == (
        "Hour points 24, 1.5 per full 4, at most 20: 9 points")
    assert result.indicator("warnings").explanation["zh"] == "警告 2 次，每次 -1 分：-2 分"


def test_points_that_are_not_whole_keep_two_decimals() -> None:
    result = evaluate(small(), {"work": {"hours": 1.5, "level": "c"}}, date(2026, 1, 1))
    assert result.indicator("per_hour").points == 0
    assert result.indicator("level").explanation == {
        "zh": "等级分：“c”不在计分表中：0 分；与时长档二选一，取较高者",
        "en": 'Level points: "c" is not in the table: 0 points; either this or Hours band, '
              "whichever is higher"}
    grading = compile_rules(read_yaml(GRADING).data)
    result = evaluate(grading, {"tax": {"on_time_share": "0.9", "overdue_days": 30}},
                      date(2026, 5, 1))
    assert result.total == 85  # (3 * 0.9 + 1 * 0.7) / 4 * 100
    assert result.grade == "B" and result.eligible is True and result.threshold is None
    # (3 * 0.333 + 1 * 0.93) / 4 * 100 = 48.225, half up
    result = evaluate(grading, {"tax": {"on_time_share": 0.333, "overdue_days": 7}},
                      date(2026, 5, 1))
    assert result.to_json()["total"] == 48.23 and result.grade == "D"
    assert result.indicator("score").explanation["zh"] == (
        "信用得分：按时纳税比例 0.33（权重 3）；逾期天数 7（权重 1）；加权得分 48.23")


def test_a_veto_makes_the_result_ineligible() -> None:
    result = evaluate(small(), {"work": {"hours": 100, "level": "a", "banned": True}},
                      date(2026, 1, 1))
    assert result.total >= 10 and result.eligible is False


def test_missing_required_input_names_it_in_both_languages() -> None:
    with pytest.raises(MissingInput) as caught:
        evaluate(small(), {"work": {"level": "a"}}, date(2026, 1, 1))
    assert (caught.value.input_id, caught.value.path) == ("hours", "work.hours")
    assert str(caught.value) == ('the required input "hours" (Time) is missing: expected at '
                                 "work.hours in the answers")
    assert caught.value.message("zh") == "缺少必需的输入“时长”（hours），应在答案的 work.hours 处"
    with pytest.raises(MissingInput, match='"level"'):
        evaluate(small(), {"work": {"hours": 3, "level": ""}}, date(2026, 1, 1))


@pytest.mark.parametrize(("work", "message"), [
    ({"hours": "many", "level": "a"},
     "the answer at work.hours ('many') cannot be read as \"hours\": expected a number"),
    ({"hours": 1, "level": "a", "fines": ["2026-02-30"]},
     "the answer at work.fines (['2026-02-30']) cannot be read as \"fines\": expected a list of "
     "dates (YYYY-MM-DD)"),
    ({"hours": 1, "level": "a", "warnings": 1.5},
     "the answer at work.warnings (1.5) cannot be read as \"warnings\": expected a whole number"),
    ({"hours": 1, "level": "a", "banned": "yes"},
     "the answer at work.banned ('yes') cannot be read as \"banned\": expected true or false"),
])
def test_an_answer_of_the_wrong_type_is_refused(work: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(BadInput) as caught:
        evaluate(small(), {"work": work}, date(2026, 1, 1))
    assert str(caught.value) == message


def test_the_small_rule_sets_are_sound() -> None:
    assert problems(SMALL) == []
    assert problems(GRADING, "rules/credit.yaml") == []


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("      - {min: 10, below: 20, points: 2}", "      - {min: 9, below: 20, points: 2}",
     "rules/small.yaml:23:9: at /indicators/0/bands/1 the band from 9 overlaps the band any to "
     "below 10 (band 1)"),
    ("      - {min: 20, points: 3}", "      - {min: 21, points: 3}",
     "rules/small.yaml:24:9: at /indicators/0/bands/2 the bands leave a gap: 20 to 21 is in no "
     "band"),
    ("    cap: {param: hours_cap}", "    cap: -5",
     "rules/small.yaml:40:10: at /indicators/2/cap the cap is -5; a cap cannot be below zero"),
    ("  hours_cap: {value: 20,", "  hours_cap: {value: -1,",
     'rules/small.yaml:6:22: at /parameters/hours_cap/value the cap parameter "hours_cap" is -1; '
     "a cap cannot be below zero"),
    ("    input: double", "    input: triple",
     'rules/small.yaml:37:12: at /indicators/2/input unknown input "triple"; expected one of: '
     "banned, double, fines, hours, level, warnings"),
    ("{var: hours}, 2]", "{var: hourz}, 2]",
     'rules/small.yaml:14:35: at /inputs/double/derive/logic unknown input "hourz" in the rule; '
     "expected one of: banned, double, fines, hours, level, warnings (or param.NAME)"),
    ("    cap: {param: hours_cap}", "    cap: {param: hour_cap}",
     'rules/small.yaml:40:18: at /indicators/2/cap/param unknown parameter "hour_cap"; expected '
     "one of: hours_cap, window"),
    ("    of: [hours_band, level]", "    of: [hours_band, levels]",
     'rules/small.yaml:45:22: at /indicators/3/of/1 unknown indicator "levels"; expected one of: '
     "hours_band, level, per_hour, fines, warnings, banned"),
    ("    when: {var: banned}", "    when: {var: banned, log: 1}",
     "rules/small.yaml:63:5: at /indicators/6/when JsonLogic: object with 2 keys at / is not an "
     "operation (an operation has exactly one key)"),
    ("    when: {var: banned}", "    when: {log: {var: banned}}",
     "rules/small.yaml:63:5: at /indicators/6/when JsonLogic: unknown operator 'log' at /log"),
    ("    points: -2", "    points: 2",
     "rules/small.yaml:51:13: at /indicators/4/points a deduction takes points below zero, not 2"),
    ("  window: {value: 2,", "  window: {value: 0,",
     "rules/small.yaml:7:19: at /parameters/window/value a window is a whole number of years "
     "above zero, not 0"),
    ("effective: {from: 2026-01-01, to: 2026-12-31}", "effective: {from: 2026-01-01, to: 2025-12-31}",
     "rules/small.yaml:4:35: at /effective/to the effective range ends (2025-12-31) before it "
     "starts (2026-01-01)"),
    ("  threshold: 10", "  grades: [{min: 1, grade: A}]",
     "rules/small.yaml:64:1: at /outcome a scorecard needs outcome.threshold (the pass mark)"),
    ("    type: table", "    type: tabel",
     'rules/small.yaml:28:11: at /indicators/1/type expected one of: "bands", "table", '
     '"per_unit", "group_max", "deduction", "veto", "weighted"'),
    ("  window: {value: 2, note: {zh: 年限, en: Years back}}", "  window: {value: 2}",
     'rules/small.yaml:7:3: at /parameters/window missing required key "note"'),
])
def test_a_bad_rules_file_is_refused_with_file_line_and_reason(old: str, new: str,
                                                               expected: str) -> None:
    assert old in SMALL
    assert problems(SMALL.replace(old, new)) == [expected]


def test_derived_values_in_a_circle_are_refused() -> None:
    text = SMALL.replace(
        '  double: {type: number, derive: {logic: {"*": [{var: hours}, 2]}}, name: {zh: 双倍, en: Double}}',
        '  double: {type: number, derive: {logic: {"*": [{var: half}, 4]}}, name: {zh: 双倍, en: Double}}\n'
        '  half: {type: number, derive: {logic: {"/": [{var: double}, 2]}}, name: {zh: 一半, en: Half}}')
    assert problems(text) == [
        "rules/small.yaml:14:26: at /inputs/double/derive the derived values depend on themselves: "
        "double → half → double"]


def test_compile_rules_refuses_a_document_with_problems() -> None:
    with pytest.raises(RulesError) as caught:
        compile_rules(read_yaml(SMALL.replace("    input: double", "    input: triple")).data)
    assert str(caught.value) == (
        '<rules>:1:1: at /indicators/2/input unknown input "triple"; expected one of: banned, '
        "double, fines, hours, level, warnings")


def test_the_fast_scorer_agrees_on_the_small_rule_sets() -> None:
    from tongban.points.fast import score

    for answers, day in [(WORK, date(2026, 11, 30)),
                         ({"work": {"hours": 100, "level": "b", "banned": True}}, date(2026, 1, 1)),
                         ({"work": {"hours": 1.5, "level": "c"}}, date(2026, 1, 1))]:
        slow = evaluate(small(), answers, day)
        fast = score(small(), answers, day)
        assert (fast.total, fast.eligible) == (slow.total, slow.eligible)
        assert fast.points == {item.id: item.points for item in slow.indicators}
    grading = compile_rules(read_yaml(GRADING).data)
    for share, overdue in [("0.9", 30), (0.333, 7), (1, 0), (0, 200)]:
        answers = {"tax": {"on_time_share": share, "overdue_days": overdue}}
        slow = evaluate(grading, answers, date(2026, 5, 1))
        fast = score(grading, answers, date(2026, 5, 1))
        assert (fast.total, fast.grade, fast.eligible) == (slow.total, slow.grade, slow.eligible)
    with pytest.raises(MissingInput, match='"hours"'):
        score(small(), {"work": {"level": "a"}}, date(2026, 1, 1))
