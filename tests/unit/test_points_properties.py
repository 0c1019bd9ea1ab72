"""Properties of the Shanghai rule set over generated answers: the total is the sum of the
counted parts, a further deduction never raises it, and the result is deterministic."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from points_world import shanghai

from tongban.points import evaluate
from tongban.points.explain import number
from tongban.points.fast import score

RULES = shanghai()
FIVE_YEARS = shanghai(deduction_window_years=5, si_years_cap=30, investment_cap=120,
                      family_planning_veto=True)

days = st.dates(min_value=date(2014, 1, 1), max_value=date(2027, 12, 31))
qualifications = st.one_of(
    st.just({"kind": "none"}),
    st.builds(lambda level: {"kind": "skill", "skill_level": level}, st.integers(1, 5)),
    st.builds(lambda level: {"kind": "title", "title_level": level},
              st.sampled_from(["intermediate", "senior"])),
)


@st.composite
def shanghai_answers(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "applicant": {"birth_date": draw(st.dates(date(1950, 1, 1), date(2008, 12, 31))).isoformat()},
        "education": {"level": draw(st.sampled_from(
            ["none", "college", "bachelor", "bachelor_degree", "master", "doctor"])),
            "shortage_major": draw(st.booleans()), "fresh_graduate": draw(st.booleans())},
        "qualification": draw(qualifications),
        "social_insurance": {
            "months": draw(st.integers(0, 600)),
            "base_band": draw(st.sampled_from(["below_0_8", "0_8_to_1", "1_to_2", "2_to_3",
                                               "3_or_more"])),
            "base_months": draw(st.integers(0, 48)),
            "average_annual_tax": f"{draw(st.integers(0, 3_000_000_00)) / 100:.2f}"},
        "family": {"spouse_local": draw(st.booleans()), "marriage_years": draw(st.integers(0, 80))},
        "awards": {"level": draw(st.sampled_from(["none", "municipal_special",
                                                  "municipal_general", "national"]))},
        "record": {"serious_crime": draw(st.booleans()),
                   "family_planning_violation": draw(st.booleans()),
                   "false_material_dates": [d.isoformat() for d in draw(st.lists(days, max_size=3))],
                   "detention_dates": [d.isoformat() for d in draw(st.lists(days, max_size=3))],
                   "criminal_record_dates": [d.isoformat() for d in draw(st.lists(days, max_size=3))]},
    }


as_of_days = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))


@settings(max_examples=150, deadline=None)
@given(shanghai_answers(), as_of_days, st.booleans())
def test_the_total_is_the_sum_of_the_counted_parts(answers: dict[str, Any], as_of: date,
                                                    other: bool) -> None:
    result = evaluate(FIVE_YEARS if other else RULES, answers, as_of)
    assert result.total == number(sum(i.points for i in result.indicators if i.counted))
    stored = result.to_json()
    assert stored["total"] == number(sum(i["points"] for i in stored["indicators"] if i["counted"]))
    assert result.eligible == (result.total >= 120 and not result.vetoes)


@settings(max_examples=150, deadline=None)
@given(shanghai_answers(), as_of_days, st.sampled_from(
    ["false_material_dates", "detention_dates", "criminal_record_dates"]),
    st.integers(0, 3000))
def test_a_further_deduction_never_raises_the_total(answers: dict[str, Any], as_of: date,
                                                    kind: str, days_back: int) -> None:
    before = evaluate(RULES, answers, as_of)
    answers["record"][kind] = [*answers["record"][kind],
                               (as_of - timedelta(days=days_back)).isoformat()]
    after = evaluate(RULES, answers, as_of)
    assert after.total <= before.total
    assert after.eligible <= before.eligible


@settings(max_examples=100, deadline=None)
@given(shanghai_answers(), as_of_days)
def test_an_evaluation_is_deterministic_and_its_json_round_trips(answers: dict[str, Any],
                                                                  as_of: date) -> None:
    first = evaluate(RULES, answers, as_of).to_json()
    again = evaluate(shanghai(), json.loads(json.dumps(answers)), as_of).to_json()
    assert first == again
    assert json.loads(json.dumps(first, ensure_ascii=False)) == first


@settings(max_examples=150, deadline=None)
@given(shanghai_answers(), as_of_days, st.booleans())
def test_the_fast_scorer_gives_what_evaluate_gives(answers: dict[str, Any], as_of: date,
                                                   other: bool) -> None:
    rules = FIVE_YEARS if other else RULES
    slow = evaluate(rules, answers, as_of)
    fast = score(rules, answers, as_of)
    assert (fast.total, fast.eligible, fast.grade) == (slow.total, slow.eligible, slow.grade)
    assert fast.points == {item.id: item.points for item in slow.indicators}
    assert fast.vetoed == tuple(item.id for item in slow.vetoes)
