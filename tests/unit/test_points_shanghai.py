"""Hand-worked cases of the Shanghai residence-permit rule set (workflow_definitions/rules/
sh-residence-points.yaml), each written from the rules in the reference notes, not from the
engine: the reference day is 2026-12-02 unless a case says otherwise."""

from __future__ import annotations

from datetime import date

import pytest
from points_world import AS_OF, answers, born, shanghai

from tongban.points import evaluate

RULES = shanghai()


def points(given: dict, indicator: str, rules=RULES, as_of: date = AS_OF) -> float:  # type: ignore[no-untyped-def,type-arg]
    return evaluate(rules, given, as_of).indicator(indicator).points


def test_the_base_case_scores_age_and_social_insurance_years_only() -> None:
    result = evaluate(RULES, answers(), AS_OF)
    counted = {item.id: item.points for item in result.indicators if item.points}
    assert counted == {"age": 30, "si_years": 15}
    assert (result.total, result.eligible, result.grade) == (45, False, None)
    assert result.indicator("age").explanation == {
        "zh": "年龄 36 周岁（43 周岁及以下）：30 分",
        "en": "Age 36 years (43 years or under): 30 points"}
    assert result.indicator("si_years").explanation == {
        "zh": "在本市工作及缴纳职工社保年限 5 年，每满 1 年积 3 分：15 分",
        "en": "Years working and paying social insurance in Shanghai 5 years, 3 per full "
              "year: 15 points"}


@pytest.mark.parametrize(("birth", "age", "expected"), [
    ("1983-12-03", 42, 30), ("1983-12-02", 43, 30),   # 43 on the reference day: still 30
    ("1982-12-03", 43, 30), ("1982-12-02", 44, 29),   # 44 from the birthday on
    ("1971-12-02", 55, 7), ("1970-12-03", 55, 7), ("1970-12-02", 56, 5),
    ("1965-12-03", 60, 5), ("1965-12-02", 61, 0),
])
def test_age_is_full_years_on_the_reference_day(birth: str, age: int, expected: int) -> None:
    item = evaluate(RULES, born(birth), AS_OF).indicator("age")
    assert (item.inputs["age"], item.points) == (age, expected)


def test_a_person_without_points_for_age_is_told_why() -> None:
    item = evaluate(RULES, born("1965-12-02"), AS_OF).indicator("age")
    assert item.explanation == {"zh": "年龄 61 周岁（61 周岁及以上）：0 分",
                                "en": "Age 61 years (61 years or over): 0 points"}


def test_a_leap_day_birthday_turns_a_year_older_on_1_march() -> None:
    leap = born("2000-02-29")
    assert evaluate(RULES, leap, date(2027, 2, 28)).indicator("age").inputs["age"] == 26
    assert evaluate(RULES, leap, date(2027, 3, 1)).indicator("age").inputs["age"] == 27
    assert evaluate(RULES, leap, date(2028, 2, 29)).indicator("age").inputs["age"] == 28


def test_education_and_title_count_the_higher_one_only() -> None:
    result = evaluate(RULES, answers(education={"level": "bachelor_degree"},
                                     qualification={"kind": "skill", "skill_level": 3}), AS_OF)
    education, skill = result.indicator("education"), result.indicator("qualification")
    group = result.indicator("education_or_qualification")
    assert (education.points, education.counted) == (90, False)
    assert (skill.points, skill.counted) == (60, False)
    assert (group.points, group.counted) == (90, True)
    assert result.total == 30 + 90 + 15
    assert education.explanation["zh"] == "本科学历并获学士学位：90 分；与职称和技能等级二选一，取较高者"
    assert group.explanation == {
        "zh": "教育背景 90 分与职称和技能等级 60 分二选一，取较高者：90 分",
        "en": "Education 90 points or Professional title and skill level 60 points, "
              "whichever is higher: 90 points"}


@pytest.mark.parametrize(("education", "qualification", "expected"), [
    ("master", {"kind": "title", "title_level": "senior"}, 140),
    ("master", {"kind": "title", "title_level": "intermediate"}, 100),  # a tie counts once
    ("doctor", {"kind": "skill", "skill_level": 2}, 110),
    ("college", {"kind": "skill", "skill_level": 5}, 50),
    ("none", {"kind": "skill", "skill_level": 1}, 140),
    ("bachelor", {"kind": "skill", "skill_level": 4}, 60),
])
def test_the_education_or_title_table(education: str, qualification: dict, expected: int) -> None:  # type: ignore[type-arg]
    given = answers(education={"level": education}, qualification=qualification)
    assert points(given, "education_or_qualification") == expected


@pytest.mark.parametrize(("months", "expected"), [(0, 0), (11, 0), (35, 6), (36, 9), (240, 60)])
def test_social_insurance_years_are_3_points_each_full_year(months: int, expected: int) -> None:
    assert points(answers(social_insurance={"months": months}), "si_years") == expected


def test_the_social_insurance_years_cap_is_a_parameter() -> None:
    given = answers(social_insurance={"months": 240})
    assert points(given, "si_years", shanghai(si_years_cap=30)) == 30
    item = evaluate(shanghai(si_years_cap=30), given, AS_OF).indicator("si_years")
    assert item.explanation["zh"] == ("在本市工作及缴纳职工社保年限 20 年，每满 1 年积 3 分，最高 30 分："
                                      "30 分（已达上限）")


@pytest.mark.parametrize(("band", "months", "expected"), [
    ("0_8_to_1", 36, 25), ("0_8_to_1", 35, 0), ("1_to_2", 48, 50), ("2_to_3", 36, 100),
    ("2_to_3", 24, 0), ("3_or_more", 24, 120), ("3_or_more", 23, 0), ("below_0_8", 48, 0),
])
def test_the_social_insurance_base(band: str, months: int, expected: int) -> None:
    given = answers(social_insurance={"base_band": band, "base_months": months})
    assert points(given, "si_base") == expected


def test_too_few_months_at_a_base_is_explained() -> None:
    given = answers(social_insurance={"base_band": "0_8_to_1", "base_months": 35})
    assert evaluate(RULES, given, AS_OF).indicator("si_base").explanation["en"] == (
        "Too few months at that base (3 times: 24 months in 3 years; otherwise 36 months in 4 "
        "years): 0 points")


def test_shortage_major_and_fresh_graduate() -> None:
    given = answers(education={"level": "college", "shortage_major": True,
                               "fresh_graduate": True})
    result = evaluate(RULES, given, AS_OF)
    assert (result.indicator("shortage_major").points,
            result.indicator("fresh_graduate").points) == (30, 10)
    assert result.total == 30 + 50 + 15 + 30 + 10


@pytest.mark.parametrize(("tax", "cap", "expected"), [
    ("99999.99", 100, 0), ("100000.00", 100, 10), ("250000.00", 100, 20),
    ("1500000.00", 100, 100), ("1500000.00", 120, 120), ("1150000.00", 120, 110),
])
def test_investment_is_10_per_full_100000_capped_by_a_parameter(tax: str, cap: int,
                                                                 expected: int) -> None:
    given = answers(social_insurance={"average_annual_tax": tax})
    assert points(given, "investment", shanghai(investment_cap=cap)) == expected


@pytest.mark.parametrize(("level", "expected"), [
    ("none", 0), ("municipal_special", 30), ("municipal_general", 60), ("national", 110)])
def test_awards(level: str, expected: int) -> None:
    assert points(answers(awards={"level": level}), "awards") == expected


def test_a_local_spouse_gives_4_a_year_up_to_40() -> None:
    assert points(answers(family={"spouse_local": True, "marriage_years": 5}),
                  "spouse_local") == 20
    assert points(answers(family={"spouse_local": True, "marriage_years": 12}),
                  "spouse_local") == 40
    item = evaluate(RULES, answers(family={"spouse_local": False, "marriage_years": 12}),
                    AS_OF).indicator("spouse_local")
    assert (item.points, item.explanation["zh"]) == (
        0, "配偶为本市户籍人员：配偶不是本市户籍人员：0 分")
    assert item.inputs == {"family.marriage_years": 12, "family.spouse_local": False}


def test_deductions_count_within_the_window_ending_on_the_reference_day() -> None:
    given = answers(record={"serious_crime": False,
                            "false_material_dates": ["2023-12-02", "2023-12-01"],
                            "detention_dates": ["2026-12-02", "2025-06-30"],
                            "criminal_record_dates": ["2020-01-01"]})
    result = evaluate(RULES, given, AS_OF)
    assert result.indicator("false_materials").points == -150  # 2023-12-02 is in, 12-01 out
    assert result.indicator("detentions").points == -100
    assert result.indicator("criminal_records").points == 0
    assert result.total == 45 - 150 - 100
    assert result.indicator("false_materials").explanation == {
        "zh": "提供虚假材料：近 3 年内（2023-12-02 至 2026-12-02）1 次，每次 -150 分"
              "（另有 1 次在 2023-12-02 之前，不计）：-150 分",
        "en": "False materials: 1 in the last 3 years (2023-12-02 to 2026-12-02), -150 each "
              "(1 before 2023-12-02 not counted): -150 points"}


def test_a_five_year_window_is_a_parameter() -> None:
    given = answers(record={"serious_crime": False, "criminal_record_dates": ["2022-01-01"]})
    assert points(given, "criminal_records") == 0
    assert points(given, "criminal_records", shanghai(deduction_window_years=5)) == -150


def test_a_serious_crime_vetoes_whatever_the_points() -> None:
    given = answers(education={"level": "doctor"}, record={"serious_crime": True})
    result = evaluate(RULES, given, AS_OF)
    assert result.total == 30 + 110 + 15
    assert result.eligible is False
    assert [veto.id for veto in result.vetoes] == ["serious_crime"]
    assert result.to_json()["vetoes"] == [{"id": "serious_crime", "explanation": {
        "zh": "严重刑事犯罪记录：一票否决，无论积分多少均不符合条件",
        "en": "Serious criminal record: veto; not eligible whatever the points"}}]


def test_the_family_planning_veto_applies_only_when_its_parameter_is_on() -> None:
    given = answers(education={"level": "doctor"},
                    record={"serious_crime": False, "family_planning_violation": True})
    assert evaluate(RULES, given, AS_OF).eligible is True
    result = evaluate(shanghai(family_planning_veto=True), given, AS_OF)
    assert (result.eligible, [v.id for v in result.vetoes]) == (False, ["family_planning"])


@pytest.mark.parametrize(("birth", "months", "total", "eligible"), [
    ("1982-12-02", 0, 119, False),  # 44 years: 29 + bachelor's degree 90
    ("1990-05-01", 0, 120, True),   # 30 + 90
    ("1980-12-02", 24, 121, True),  # 46 years: 25 + 90 + 2 years of SI 6
])
def test_the_pass_mark_is_120(birth: str, months: int, total: int, eligible: bool) -> None:
    given = answers(applicant={"birth_date": birth}, education={"level": "bachelor_degree"},
                    social_insurance={"months": months})
    result = evaluate(RULES, given, AS_OF)
    assert (result.total, result.eligible, result.threshold) == (total, eligible, 120)


def test_every_indicator_explains_itself_even_at_zero_points() -> None:
    result = evaluate(RULES, answers(social_insurance={"months": 0}), AS_OF)
    assert len(result.indicators) == len(RULES.indicators) == 16
    for item in result.indicators:
        assert item.explanation["zh"] and item.explanation["en"], item.id
        assert item.explanation["zh"].endswith(("分", "不影响资格", "不适用", "取较高者")), item
