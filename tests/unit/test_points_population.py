"""The synthetic population (issue 13, item 6): deterministic, valid against the
residence-points form, readable back from its files, and scored by the engine exactly as the
hand-written reference function scores it."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from tests.unit.points_world import shanghai

from tongban import PROJECT_ROOT
from tongban.forms.definition import load_form
from tongban.forms.state import evaluate as form_state
from tongban.forms.state import validate_submission
from tongban.points import evaluate
from tongban.points import population as pop
from tongban.points.chart import bins, svg, terminal
from tongban.points.fast import score
from tongban.points.files import file_rules
from tongban.points.simulate import SimulationError, read_population

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


def test_the_compiled_score_gives_what_evaluate_gives_on_generated_people() -> None:
    for rule_set in (shanghai(), shanghai(si_years_cap=30, deduction_window_years=5,
                                          family_planning_veto=True)):
        for answers in pop.generate(1500, 17):
            ours = evaluate(rule_set, answers, AS_OF)
            fast = score(rule_set, answers, AS_OF)
            assert (fast.total, fast.eligible, fast.grade, fast.vetoed) == (
                ours.total, ours.eligible, ours.grade, tuple(v.id for v in ours.vetoes))
