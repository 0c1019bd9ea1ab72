"""The Shanghai residence-permit points rules written by hand as one Python function: the
baseline of bench/points.py and the second opinion the engine is checked against on generated
applicants (tests/unit/test_points_population.py). The engine itself holds no policy in Python;
this file does, on purpose, and must follow workflow_definitions/rules/sh-residence-points.yaml.

It reads the residence-points form's answers as stored and returns the total, whether the
applicant passes, and the vetoes. Values: /work/shared/reference/shanghai-points-rules.md.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

THRESHOLD = 120
EDUCATION = {"none": 0, "college": 50, "bachelor": 60, "bachelor_degree": 90, "master": 100,
             "doctor": 110}
SKILL = {5: 15, 4: 30, 3: 60, 2: 100, 1: 140}
TITLE = {"intermediate": 100, "senior": 140}
SI_BASE = {"0_8_to_1": 25, "1_to_2": 50, "2_to_3": 100, "3_or_more": 120}
AWARDS = {"none": 0, "municipal_special": 30, "municipal_general": 60, "national": 110}


class Missing(ValueError):
    """A required answer is absent."""


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _years_before(day: date, years: int) -> date:
    if day.month == 2 and day.day == 29:
        return date(day.year - years, 2, 28)
    return day.replace(year=day.year - years)


def age_points(age: int) -> int:
    if age <= 43:
        return 30
    if age <= 55:
        return 7 + 2 * (55 - age)
    if age <= 60:
        return 5
    return 0


def score(answers: dict[str, Any], as_of: date, *, si_years_cap: int | None = None,
          investment_cap: int = 100, deduction_window_years: int = 3
          ) -> tuple[int, bool, list[str]]:
    """(total, eligible, veto ids) of one application on ``as_of``."""
    applicant = answers.get("applicant") or {}
    if not applicant.get("birth_date"):
        raise Missing("applicant.birth_date")
    total = age_points(_age(date.fromisoformat(applicant["birth_date"]), as_of))

    education = answers.get("education") or {}
    if "level" not in education:
        raise Missing("education.level")
    qualification = answers.get("qualification") or {}
    kind = qualification.get("kind")
    if kind is None:
        raise Missing("qualification.kind")
    title = 0
    if kind == "skill":
        title = SKILL.get(qualification.get("skill_level"), 0)
    elif kind == "title":
        title = TITLE.get(qualification.get("title_level"), 0)
    total += max(EDUCATION[education["level"]], title)  # 二选一: the higher one counts

    social = answers.get("social_insurance") or {}
    if "months" not in social:
        raise Missing("social_insurance.months")
    if "base_band" not in social:
        raise Missing("social_insurance.base_band")
    si_years = social["months"] // 12
    if si_years_cap is not None:
        si_years = min(si_years, si_years_cap)
    total += 3 * si_years
    band = social["base_band"]
    base_months = social.get("base_months") or 0
    if band in SI_BASE and base_months >= (24 if band == "3_or_more" else 36):
        total += SI_BASE[band]

    if education.get("shortage_major"):
        total += 30
    tax = Decimal(social.get("average_annual_tax") or 0)
    if tax >= 100_000:
        total += min(investment_cap, 10 * int(tax // 100_000))
    if education.get("fresh_graduate"):
        total += 10
    total += AWARDS[(answers.get("awards") or {}).get("level", "none")]
    family = answers.get("family") or {}
    if family.get("spouse_local"):
        total += min(40, 4 * (family.get("marriage_years") or 0))

    record = answers.get("record") or {}
    if "serious_crime" not in record:
        raise Missing("record.serious_crime")
    window_start = _years_before(as_of, deduction_window_years)
    for key, points in (("false_material_dates", 150), ("detention_dates", 50),
                        ("criminal_record_dates", 150)):
        for day in record.get(key) or ():
            if window_start <= date.fromisoformat(day) <= as_of:
                total -= points
    vetoes = ["serious_crime"] if record.get("serious_crime") else []
    return total, total >= THRESHOLD and not vetoes, vetoes
