"""Simulation: score a population under a rule set (a published version, or a draft file not yet
published) and compare each person with another version, usually the current one, before a
yearly change is published (issue 13, item 6).

A population is a JSON list of answers, a CSV file with one column per answer path (as
``tongban points population`` writes), generated people, or the stored applications of the
services that name the rule set. Every person is scored by the engine itself (`evaluate`), with
its checks: a person missing a required answer is counted as such, never as zero points.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from tongban.definitions.problems import Problem
from tongban.definitions.yamlpos import ReadError, read_yaml
from tongban.forms.coerce import coerce_page
from tongban.forms.definition import FormDefinition
from tongban.forms.state import evaluate as form_state
from tongban.models import Application, DefinitionVersion
from tongban.points import chart
from tongban.points.evaluate import BadInput, MissingInput
from tongban.points.fast import score as fast_score
from tongban.points.rules import RulesError, RuleSet, compile_rules
from tongban.points.store import compile_version

Progress = Callable[[int, int], None]


class SimulationError(ValueError):
    """What was asked cannot be simulated; ``problems`` lists file:line problems of a draft."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


@dataclass(frozen=True)
class Person:
    label: str
    """How the report names them: an application's reference, or a population row."""
    answers: Mapping[str, Any]


@dataclass(frozen=True)
class Score:
    total: float | None
    """None when a required answer was missing (the person is then not scored at all)."""
    eligible: bool
    vetoed: bool
    missing: str | None = None


@dataclass(frozen=True)
class Crossing:
    """A person on the other side of the pass mark than under the version compared against."""

    label: str
    before: Score
    after: Score

    @property
    def gained(self) -> bool:
        return self.after.eligible and not self.before.eligible


@dataclass
class Report:
    rule_set_id: str
    version: int | None
    """None: a draft file, not published."""
    source: str
    threshold: float | None
    as_of: date
    against_version: int | None = None
    count: int = 0
    passed: int = 0
    vetoed: int = 0
    missing: Counter[str] = field(default_factory=Counter)
    totals: list[float] = field(default_factory=list)
    baseline_totals: list[float] | None = None
    baseline_passed: int | None = None
    baseline_threshold: float | None = None
    changed: int = 0
    crossings: list[Crossing] = field(default_factory=list)

    @property
    def scored(self) -> int:
        return len(self.totals)

    @property
    def missing_count(self) -> int:
        return sum(self.missing.values())

    @property
    def pass_rate(self) -> float:
        return self.passed / self.count if self.count else 0.0

    @property
    def baseline_pass_rate(self) -> float | None:
        """The compared version's share passing, over the same people."""
        if self.baseline_passed is None:
            return None
        return self.baseline_passed / self.count if self.count else 0.0

    @property
    def gained(self) -> list[Crossing]:
        return [c for c in self.crossings if c.gained]

    @property
    def lost(self) -> list[Crossing]:
        return [c for c in self.crossings if not c.gained]

    def histogram(self) -> list[chart.Bin]:
        return chart.bins(self.totals, self.baseline_totals)

    def to_json(self) -> dict[str, Any]:
        def score(s: Score) -> dict[str, Any]:
            return {"total": s.total, "eligible": s.eligible, "vetoed": s.vetoed,
                    "missing": s.missing}

        return {
            "rule_set": self.rule_set_id, "version": self.version, "source": self.source,
            "as_of": self.as_of.isoformat(), "threshold": self.threshold,
            "count": self.count, "scored": self.scored, "passed": self.passed,
            "pass_rate": round(self.pass_rate, 4), "vetoed": self.vetoed,
            "missing": dict(sorted(self.missing.items())),
            "histogram": [{"from": b.low, "to": b.low + chart.BIN_WIDTH - 1, "count": b.count,
                           **({} if b.baseline is None else {"baseline": b.baseline})}
                          for b in self.histogram()],
            "against": None if self.against_version is None else {
                "version": self.against_version, "threshold": self.baseline_threshold,
                "passed": self.baseline_passed,
                "changed": self.changed,
                "gained": [{"label": c.label, "before": score(c.before), "after": score(c.after)}
                           for c in self.gained],
                "lost": [{"label": c.label, "before": score(c.before), "after": score(c.after)}
                         for c in self.lost]},
        }


# --- Which rules -----------------------------------------------------------------------------


def published_version(session: Session, rule_set_id: str, version: int | None = None
                      ) -> RuleSet:
    """A published version of a rule set (the newest when ``version`` is None)."""
    query = select(DefinitionVersion).where(col(DefinitionVersion.kind) == "rules",
                                            col(DefinitionVersion.code) == rule_set_id)
    if version is not None:
        query = query.where(col(DefinitionVersion.version) == version)
    row = session.scalars(query.order_by(col(DefinitionVersion.version).desc()).limit(1)).first()
    if row is None:
        if version is None:
            raise SimulationError(f'no rule set "{rule_set_id}" is published')
        raise SimulationError(f'rule set "{rule_set_id}" has no published version {version}')
    return compile_version(row)


def draft_rules(text: str, file: str) -> RuleSet:
    """Compile a draft rules file; SimulationError with every file:line problem if it is wrong."""
    try:
        document = read_yaml(text)
    except ReadError as error:
        problem = Problem(file, error.line, error.column, "", error.message)
        raise SimulationError(f"{file} cannot be read", [problem]) from error
    if not isinstance(document.data, dict):
        raise SimulationError(f"{file} is not a rules document",
                              [Problem(file, 1, 1, "", "expected a mapping with id, inputs, "
                                                       "indicators and outcome")])
    try:
        return compile_rules(document.data, document=document, file=file)
    except RulesError as error:
        raise SimulationError(f"{file} has problems", error.problems) from error


def resolve(session: Session, spec: str) -> RuleSet:
    """RULES as the command takes it: a path to a draft file (checked first), else a published
    rule set's id, optionally ``@version``."""
    path = Path(spec)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise SimulationError(f"{spec}: no such file")
        return draft_rules(path.read_text(encoding="utf-8"), str(path))
    rule_set_id, _, version = spec.partition("@")
    if version and not version.isdigit():
        raise SimulationError(f'"{version}" is not a version number; expected ID@NUMBER')
    return published_version(session, rule_set_id, int(version) if version else None)


# --- Who -------------------------------------------------------------------------------------


def read_population(path: Path, form: FormDefinition | None = None) -> list[Person]:
    """People from a JSON list of answers, or from CSV written by ``write_csv`` (typed back
    through ``form``'s own reader: a CSV cell is what a form post is)."""
    if path.suffix.lower() == ".csv":
        if form is None:
            raise SimulationError(f"{path}: a CSV population needs the form to read it by")
        return _read_csv(path, form)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise SimulationError(f"{path}:{error.lineno}: not valid JSON: {error.msg}") from error
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise SimulationError(f"{path}: expected a JSON list of answers (one object a person)")
    return [_person(i, answers) for i, answers in enumerate(data)]


def _person(index: int, answers: Mapping[str, Any]) -> Person:
    name = (answers.get("applicant") or {}).get("name") if isinstance(
        answers.get("applicant"), dict) else None
    return Person(f"#{index + 1} {name}" if name else f"#{index + 1}", answers)


def _read_csv(path: Path, form: FormDefinition) -> list[Person]:
    people = []
    with path.open(encoding="utf-8", newline="") as rows:
        for index, row in enumerate(csv.DictReader(rows)):
            read = coerce_page(form, None, {k: v for k, v in row.items() if v not in ("", None)})
            if read.errors:
                wrong = ", ".join(sorted({e.path for e in read.errors}))
                raise SimulationError(f"{path}:{index + 2}: cannot read {wrong}")
            people.append(_person(index, form_state(form, read.answers).answers))
    return people


def services_of(session: Session, rule_set_id: str) -> list[str]:
    """Codes of the services any published version of which names the rule set."""
    rows = session.scalars(select(DefinitionVersion)
                           .where(col(DefinitionVersion.kind) == "service"))
    return sorted({row.code for row in rows if row.content.get("rules") == rule_set_id})


def stored_applications(session: Session, rule_set_id: str, *,
                        keep: Callable[[Application], bool] | None = None) -> list[Person]:
    """The stored applications of the services that use the rule set, with their answers as
    stored, oldest first; only those ``keep`` accepts when it is given (a department's own)."""
    codes = services_of(session, rule_set_id)
    if not codes:
        return []
    rows = session.scalars(select(Application)
                           .where(col(Application.service_code).in_(codes))
                           .order_by(col(Application.id)))
    return [Person(row.reference, row.answers) for row in rows if keep is None or keep(row)]


# --- Scoring ---------------------------------------------------------------------------------


def score(rule_set: RuleSet, answers: Mapping[str, Any], as_of: date) -> Score:
    """One person's total and outcome: the engine's `score`, the rule set compiled once into a
    Python function that gives `evaluate`'s points without the sentences (points/fast.py)."""
    try:
        result = fast_score(rule_set, answers, as_of)
    except MissingInput as missing:
        return Score(None, False, False, missing.input_id)
    except BadInput as bad:
        return Score(None, False, False, f"{bad.input_id} (unreadable)")
    return Score(result.total, result.eligible, bool(result.vetoed))


def simulate(rule_set: RuleSet, people: Iterable[Person], as_of: date, *,
             against: RuleSet | None = None, source: str = "",
             progress: Progress | None = None, total: int | None = None) -> Report:
    """Score everyone under ``rule_set`` (and ``against``, when given) and collect the report.
    ``progress(done, total)`` is called now and then on long runs."""
    report = Report(rule_set.id, rule_set.version, source, rule_set.threshold, as_of,
                    against_version=against.version if against is not None else None)
    if against is not None:
        report.baseline_totals = []
        report.baseline_passed = 0
        report.baseline_threshold = against.threshold
    every = max(1, (total or 0) // 200)
    for done, person in enumerate(people, start=1):
        after = score(rule_set, person.answers, as_of)
        _tally(report, after)
        if against is not None:
            assert report.baseline_totals is not None and report.baseline_passed is not None
            before = score(against, person.answers, as_of)
            if before.total is not None:
                report.baseline_totals.append(before.total)
            report.baseline_passed += before.eligible
            if before.total != after.total:
                report.changed += 1
            if before.eligible != after.eligible:
                report.crossings.append(Crossing(person.label, before, after))
        if progress is not None and (done % every == 0):
            progress(done, total or 0)
    if progress is not None:
        progress(report.count, total or report.count)
    return report


def _tally(report: Report, result: Score) -> None:
    report.count += 1
    if result.missing is not None:
        report.missing[result.missing] += 1
        return
    assert result.total is not None
    report.totals.append(result.total)
    report.passed += result.eligible
    report.vetoed += result.vetoed
