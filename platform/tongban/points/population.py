"""Synthetic applicants for the residence-points form: deterministic, realistic answers for
simulations, tests and benchmarks (issue 13, items 6 and 9).

Person ``i`` of seed ``s`` depends on ``(s, i)`` only, so any slice of a population can be made
on its own (a worker process makes its share of a million without the rest) and the same seed
always gives the same people. The answers have the form's exact shape, as an application stores
them: hidden questions absent, calculated ones (the date of birth) filled in. Every person passes
the form's validation, except that a few (``veto_rate``) have a serious criminal record: the form
stops those at the door (a ``block`` rule), the rules veto them, and a simulation must show both.
"""

from __future__ import annotations

import bisect
import csv
import io
import itertools
import json
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from tongban.forms.formats import id_number_check_character, uscc_check_character

FORM_CODE = "residence-points"
DEFAULT_AS_OF = date(2026, 7, 1)
"""The day ages are counted on: every applicant is 22 to 60 on it."""

# Shares are weights of a discrete choice: (value, weight).
EDUCATION = (("none", 8), ("college", 22), ("bachelor", 10), ("bachelor_degree", 36),
             ("master", 19), ("doctor", 5))
QUALIFICATION = (("none", 56), ("skill", 24), ("title", 20))
SKILL_LEVEL = ((5, 20), (4, 30), (3, 30), (2, 14), (1, 6))
TITLE_LEVEL = (("intermediate", 76), ("senior", 24))
BASE_BAND = (("below_0_8", 14), ("0_8_to_1", 24), ("1_to_2", 38), ("2_to_3", 15),
             ("3_or_more", 9))
AWARD = (("none", 95.0), ("municipal_special", 3.0), ("municipal_general", 1.5),
         ("national", 0.5))
DISTRICTS = ("310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112",
             "310113", "310114", "310115", "310116", "310117", "310118", "310120", "310151")
BIRTH_REGIONS = ("310104", "310115", "320102", "320583", "330106", "340104", "410105",
                 "420106", "510104", "360102", "370102", "430102", "350102", "130102",
                 "230102", "500101", "610113", "450102", "220102", "140105")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉宇浩然欣怡子涵雨轩"
FIELDS_OF_STUDY = ("计算机科学与技术", "软件工程", "集成电路设计", "临床医学", "护理学", "机械工程",
                   "金融学", "会计学", "汉语言文学", "电气工程", "生物医学工程", "人工智能")
EMPLOYER_WORDS = ("浦江", "申城", "东方", "长江", "华亭", "静安", "徐汇", "临港", "张江", "虹桥")
EMPLOYER_KINDS = ("科技有限公司", "信息技术有限公司", "医疗器械有限公司", "咨询有限公司",
                  "制造有限公司", "贸易有限公司")


@dataclass(frozen=True)
class Mix:
    """How often the rarer things happen (a share of 1)."""

    veto_rate: float = 0.003
    false_materials_rate: float = 0.01
    detention_rate: float = 0.02
    criminal_rate: float = 0.005
    shortage_major_rate: float = 0.08
    investor_rate: float = 0.03
    spouse_local_rate: float = 0.22


_CUMULATIVE: dict[int, tuple[tuple[Any, ...], list[float]]] = {}


def _choose(rng: _Draws, table: tuple[tuple[Any, float], ...]) -> Any:
    """A value drawn by weight: what ``rng.choices(values, weights)[0]`` draws (the same one
    random number), with the running totals worked out once per table."""
    found = _CUMULATIVE.get(id(table))
    if found is None:
        values, weights = zip(*table, strict=True)
        found = _CUMULATIVE[id(table)] = (values, list(itertools.accumulate(weights)))
    values, cumulative = found
    return values[bisect.bisect(cumulative, rng.random() * cumulative[-1], 0,
                                len(cumulative) - 1)]


class _Draws:
    """The draws a person is made of, all from one stream of ``random()`` numbers: a pick is
    ``seq[int(random() * len(seq))]``, a few times faster than ``Random.choice`` and
    ``randrange`` (which loop on ``getrandbits``); the bias of at most len / 2**53 is nil."""

    __slots__ = ("random", "triangular", "uniform")

    def __init__(self, rng: random.Random) -> None:
        self.random = rng.random
        self.triangular = rng.triangular
        self.uniform = rng.uniform

    def choice(self, sequence: Any) -> Any:
        return sequence[int(self.random() * len(sequence))]

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            start, stop = 0, start
        return start + step * int(self.random() * ((stop - start + step - 1) // step))

    def randint(self, low: int, high: int) -> int:
        return low + int(self.random() * (high - low + 1))


def _birth_date(rng: _Draws, as_of: date) -> date:
    # Ages 22-60, most applicants between 26 and 40 (a triangular shape peaking at 31).
    age = min(60, max(22, int(rng.triangular(22, 61, 31))))
    youngest = date(as_of.year - age - 1, as_of.month, 1) + timedelta(days=1)
    try:
        oldest_day = as_of.replace(year=as_of.year - age)
    except ValueError:  # 29 February
        oldest_day = date(as_of.year - age, 2, 28)
    span = (oldest_day - youngest).days
    return youngest + timedelta(days=rng.randrange(max(1, span)))


def _id_number(rng: _Draws, birth: date) -> str:
    first_17 = f"{rng.choice(BIRTH_REGIONS)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return first_17 + id_number_check_character(first_17)


def _uscc(rng: _Draws) -> str:
    draw, characters = rng.random, "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91" + rng.choice(DISTRICTS) + "".join([characters[int(draw() * 31)]
                                                   for _ in range(9)])
    return body + uscc_check_character(body)


def _event_dates(rng: _Draws, as_of: date, count: int) -> list[str]:
    """Days of deductible events within the six years before ``as_of``: some fall inside a
    look-back window of a few years, some before it."""
    return sorted((as_of - timedelta(days=rng.randrange(1, 6 * 365))).isoformat()
                  for _ in range(count))


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def person(seed: int, index: int, *, as_of: date = DEFAULT_AS_OF, mix: Mix = Mix()
           ) -> dict[str, Any]:
    """Applicant ``index`` of population ``seed``: their answers to the residence-points form."""
    rng = _Draws(random.Random(f"{seed}:{index}"))
    birth = _birth_date(rng, as_of)
    age = _age(birth, as_of)
    id_number = _id_number(rng, birth)
    applicant = {
        "name": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN)
                                               for _ in range(rng.choice((1, 2)))),
        "id_number": id_number,
        "birth_date": birth.isoformat(),
        "mobile": f"1{rng.choice('3456789')}{rng.randrange(10 ** 9):09d}",
        "permit_number": f"SH{rng.randrange(10 ** 10):010d}",
        "employer": f"上海{rng.choice(EMPLOYER_WORDS)}{rng.choice(EMPLOYER_KINDS)}",
        "employer_uscc": _uscc(rng),
        "work_district": rng.choice(DISTRICTS),
    }
    level = _choose(rng, EDUCATION)
    if age < 25 and level in ("master", "doctor"):
        level = "bachelor_degree"  # a doctorate at 23 is what integrity checks flag
    education: dict[str, Any] = {"level": level}
    if level != "none":
        education["field_of_study"] = rng.choice(FIELDS_OF_STUDY)
        education["shortage_major"] = rng.random() < mix.shortage_major_rate
        education["fresh_graduate"] = age <= 27 and rng.random() < 0.25
    working_years = max(1, age - (18 if level == "none" else 22))
    qualification: dict[str, Any] = {"kind": _choose(rng, QUALIFICATION)}
    if qualification["kind"] == "skill":
        qualification["skill_level"] = _choose(rng, SKILL_LEVEL)
    elif qualification["kind"] == "title":
        qualification["title_level"] = "senior" if working_years >= 12 and rng.random() < 0.4 \
            else _choose(rng, TITLE_LEVEL) if working_years >= 5 else "intermediate"
    if qualification["kind"] != "none":
        earned = as_of - timedelta(days=rng.randrange(30, 365 * min(working_years, 15) + 31))
        qualification["certificate_date"] = earned.isoformat()
    if education.get("fresh_graduate"):
        months = rng.randint(6, 14)
    else:
        months = min(600, max(6, int(working_years * 12 * rng.uniform(0.25, 0.95))))
    band = _choose(rng, BASE_BAND)
    social_insurance: dict[str, Any] = {"months": months, "base_band": band}
    if band != "below_0_8":
        social_insurance["base_months"] = rng.randint(min(months, 6), min(months, 48))
    if rng.random() < mix.investor_rate:
        social_insurance["average_annual_tax"] = str(rng.randrange(20_000, 1_300_000, 100))
    family: dict[str, Any] = {"spouse_local": rng.random() < mix.spouse_local_rate}
    if family["spouse_local"]:
        family["marriage_years"] = rng.randint(0, max(0, age - 22))
    award = _choose(rng, AWARD)
    awards: dict[str, Any] = {"level": award}
    if award != "none":
        awards["award_name"] = rng.choice(("上海市劳动模范", "上海市三八红旗手", "上海市青年五四奖章",
                                           "全国先进工作者"))
    false_materials = _event_dates(rng, as_of, 1 if rng.random() < mix.false_materials_rate
                                   else 0)
    detentions = _event_dates(rng, as_of, rng.choice((1, 1, 1, 2))
                              if rng.random() < mix.detention_rate else 0)
    criminal = _event_dates(rng, as_of, 1 if rng.random() < mix.criminal_rate else 0)
    record: dict[str, Any] = {"serious_crime": rng.random() < mix.veto_rate}
    for key, dates in (("false_material_dates", false_materials),
                       ("detention_dates", detentions), ("criminal_record_dates", criminal)):
        if dates:  # a form post without dates stores no key, not an empty list
            record[key] = dates
    stamp = f"{seed:x}{index:x}".rjust(12, "0")
    materials = {"id_card": f"syn-{stamp}-id", "residence_permit": f"syn-{stamp}-permit"}
    if level != "none":
        materials["diploma"] = f"syn-{stamp}-diploma"
    if qualification["kind"] != "none":
        materials["qualification_certificate"] = f"syn-{stamp}-certificate"
    return {"applicant": applicant, "education": education, "qualification": qualification,
            "social_insurance": social_insurance, "family": family, "awards": awards,
            "record": record, "materials": materials}


def people(count: int, seed: int, *, start: int = 0, as_of: date = DEFAULT_AS_OF,
           mix: Mix = Mix()) -> Iterator[dict[str, Any]]:
    """Applicants ``start`` to ``start + count - 1`` of population ``seed``, one at a time."""
    for index in range(start, start + count):
        yield person(seed, index, as_of=as_of, mix=mix)


def generate(count: int, seed: int, *, as_of: date = DEFAULT_AS_OF, mix: Mix = Mix()
             ) -> list[dict[str, Any]]:
    return list(people(count, seed, as_of=as_of, mix=mix))


# --- Files: JSON (a list of answers) or CSV (one column per answer, named by its path) --------


def _flatten(answers: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in answers.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, list):
            flat.update(_flatten({str(i): item for i, item in enumerate(value)}, f"{name}."))
        else:
            flat[name] = value
    return flat


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def write_csv(population: list[dict[str, Any]], out: io.TextIOBase | Any) -> None:
    rows = [_flatten(answers) for answers in population]
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: _cell(row.get(name)) for name in columns})


def write(population: list[dict[str, Any]], path: Path) -> None:
    """Write a population to ``path``: CSV when its name ends in ``.csv``, else JSON."""
    with path.open("w", encoding="utf-8", newline="") as out:
        if path.suffix.lower() == ".csv":
            write_csv(population, out)
        else:
            json.dump(population, out, ensure_ascii=False, indent=1)
            out.write("\n")
