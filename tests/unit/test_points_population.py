"""The synthetic population (issue 13, item 6): deterministic, valid against the
residence-points form, readable back from its files, and scored by the engine exactly as the
hand-written reference function scores it."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from tests.unit.points_world import BASE, born, shanghai
from tests.unit.points_world import answers as hand_worked

from tongban import PROJECT_ROOT
from tongban.forms.definition import load_form
from tongban.forms.state import evaluate as form_state
from tongban.forms.state import validate_submission
from tongban.points import evaluate
from tongban.points import population as pop
from tongban.points.chart import bins, svg, terminal
from tongban.points.files import file_rules
from tongban.points.simulate import SimulationError, read_population
from tongban.points.totals import total_of

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
import points_handwritten as hand  # noqa: E402  (bench/ is not a package)

FORM = PROJECT_ROOT / "form_definitions" / "residence-points.json"
AS_OF = date(2026, 12, 2)


def test_the_same_seed_gives_the_same_people_and_another_seed_others() -> None:
    assert pop.generate(50, 7) == pop.generate(50, 7)
    assert pop.generate(50, 7) != pop.generate(50, 8)


def test_a_slice_of_a_population_is_the_same_people_as_in_the_whole() -> None:
    whole = pop.generate(40, 3)
    assert list(pop.people(10, 3, start=25)) == whole[25:35]


def test_every_generated_person_passes_the_form_except_the_vetoed_who_are_blocked() -> None:
    form = load_form(FORM)
    problems: Counter[tuple[str | None, str]] = Counter()
    vetoed = 0
    for answers in pop.generate(600, 11):
        assert form_state(form, answers).answers == answers  # the shape an application stores
        errors = validate_submission(form, answers)
        vetoed += answers["record"]["serious_crime"]
        problems.update((error.key, error.code) for error in errors)
    assert problems == Counter({("record.serious_crime", "block"): vetoed})


def test_the_mix_is_realistic() -> None:
    people = pop.generate(3000, 5)
    ages = [hand._age(date.fromisoformat(p["applicant"]["birth_date"]), pop.DEFAULT_AS_OF)
            for p in people]
    assert min(ages) >= 22 and max(ages) <= 60
    assert 28 <= sorted(ages)[len(ages) // 2] <= 38
    levels = Counter(p["education"]["level"] for p in people)
    assert set(levels) == {"none", "college", "bachelor", "bachelor_degree", "master", "doctor"}
    assert levels["bachelor_degree"] > levels["doctor"]
    assert all(p["social_insurance"]["months"] >= 6 for p in people)
    assert 0 < sum(p["record"]["serious_crime"] for p in people) < 30
    assert 0 < sum("detention_dates" in p["record"] for p in people) < 150


def test_the_engine_and_the_hand_written_function_agree_on_three_thousand_people() -> None:
    rule_set = file_rules("sh-residence-points")
    disagreements = []
    for index, answers in enumerate(pop.generate(3000, 21)):
        ours = evaluate(rule_set, answers, AS_OF)
        total, eligible, vetoes = hand.score(answers, AS_OF)
        if (ours.total, ours.eligible, [v.id for v in ours.vetoes]) != (total, eligible, vetoes):
            disagreements.append((index, ours.total, total))
    assert disagreements == []


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_a_population_file_reads_back_as_the_same_answers(tmp_path: Path, suffix: str) -> None:
    people = pop.generate(30, 4)
    path = tmp_path / f"people{suffix}"
    pop.write(people, path)
    read = read_population(path, load_form(FORM))
    assert [person.answers for person in read] == people
    assert read[0].label == f"#1 {people[0]['applicant']['name']}"


def test_a_population_file_that_is_not_a_list_of_answers_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "people.json"
    path.write_text('{"applicant": {}}', encoding="utf-8")
    with pytest.raises(SimulationError) as caught:
        read_population(path)
    assert str(caught.value) == f"{path}: expected a JSON list of answers (one object a person)"


def test_the_histogram_counts_every_total_in_bins_of_ten_with_empty_bins_kept() -> None:
    histogram = bins([118, 119, 120, 145, 121.5], baseline=[110, 120])
    assert [(b.low, b.count, b.baseline) for b in histogram] == [
        (110, 2, 1), (120, 2, 1), (130, 0, 0), (140, 1, 0)]
    text = terminal(histogram, threshold=120)
    assert text.splitlines()[1].endswith("2 (was 1) ◀ pass mark")


def test_the_svg_chart_has_a_title_and_a_description_and_no_script() -> None:
    drawn = svg(bins([100, 125, 125]), title="Totals <draft>", description="3 people",
                threshold=120, threshold_label="pass mark 120")
    assert '<title id="chart-title">Totals &lt;draft&gt;</title>' in drawn
    assert '<desc id="chart-desc">3 people</desc>' in drawn
    assert 'role="img" aria-labelledby="chart-title chart-desc"' in drawn
    assert "<script" not in drawn and "pass mark 120" in drawn


def test_the_totals_scorer_gives_what_evaluate_gives_on_generated_and_hand_worked_people(
        ) -> None:
    people = pop.generate(2000, 17) + [
        born("1982-12-02"), born("1982-12-03"), born("1966-01-01"), born("1960-02-29"),
        hand_worked(qualification={"kind": "skill", "skill_level": "2"}),
        hand_worked(qualification={"kind": "title", "title_level": "senior"},
                education={"level": "doctor", "shortage_major": True}),
        hand_worked(social_insurance={"months": "61", "base_band": "3_or_more", "base_months": 24,
                                  "average_annual_tax": "1234567.89"}),
        hand_worked(family={"spouse_local": True, "marriage_years": 15}),
        hand_worked(record={"detention_dates": ["2023-12-02", "2023-12-01", "2027-01-01"]}),
        hand_worked(record={"serious_crime": True}, awards={"level": "national"})]
    for rule_set in (shanghai(), shanghai(si_years_cap=30, deduction_window_years=5,
                                          family_planning_veto=True)):
        for answers_ in people:
            ours = evaluate(rule_set, answers_, AS_OF)
            fast = total_of(rule_set, answers_, AS_OF)
            assert (fast.total, fast.eligible, fast.grade, fast.vetoes) == (
                ours.total, ours.eligible, ours.grade, tuple(v.id for v in ours.vetoes))


@pytest.mark.parametrize(("changed", "error"), [
    ({"education": {}}, "MissingInput"),
    ({"social_insurance": {"months": "many", "base_band": "1_to_2"}}, "BadInput"),
    ({"applicant": {"birth_date": "1990-02-30"}}, "BadInput"),
])
def test_the_totals_scorer_refuses_what_evaluate_refuses(changed: dict[str, dict[str, str]],
                                                         error: str) -> None:
    answers_ = {**BASE, **changed}
    with pytest.raises(Exception) as engine:
        evaluate(shanghai(), answers_, AS_OF)
    with pytest.raises(Exception) as fast:
        total_of(shanghai(), answers_, AS_OF)
    assert type(engine.value).__name__ == type(fast.value).__name__ == error
    assert str(engine.value) == str(fast.value)


def test_the_totals_scorer_gives_what_evaluate_gives_for_every_indicator_kind() -> None:
    from tests.unit.test_points_format import GRADING, SMALL

    from tongban.definitions.yamlpos import read_yaml
    from tongban.points import compile_rules

    small = compile_rules(read_yaml(SMALL).data)
    grading = compile_rules(read_yaml(GRADING).data)
    cases = [(small, {"work": work}) for work in (
        {"hours": 12, "level": "a", "fines": ["2025-06-01", "2024-11-30"], "warnings": 2},
        {"hours": 1.5, "level": "c"}, {"hours": "33.5", "level": "b", "banned": True},
        {"hours": 19.99, "level": "b", "warnings": "3", "banned": "false"},
        {"hours": 0, "level": "a", "fines": [{"date": "2026-01-01"}]})]
    cases += [(grading, {"tax": tax}) for tax in (
        {"on_time_share": "0.9", "overdue_days": 30}, {"on_time_share": 0.333, "overdue_days": 7},
        {"on_time_share": 1, "overdue_days": 500})]
    for rule_set, answers_ in cases:
        ours = evaluate(rule_set, answers_, date(2026, 11, 30))
        fast = total_of(rule_set, answers_, date(2026, 11, 30))
        assert (fast.total, fast.eligible, fast.grade, fast.vetoes) == (
            ours.total, ours.eligible, ours.grade, tuple(v.id for v in ours.vetoes)), answers_
