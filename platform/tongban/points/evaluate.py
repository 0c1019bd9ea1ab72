"""Score one set of answers against a rule set: the total, eligibility, grade, and for every
indicator its points, the inputs it read and a sentence in zh and en. Pure and deterministic:
the same rule set, answers and day give the same result."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from ..forms import logic
from . import explain
from .check import PARAM_PREFIX
from .explain import number
from .rules import Indicator, Input, RuleSet

_MISSING: Any = object()


class MissingInput(ValueError):
    """A required input is not in the answers: never scored as zero points."""

    def __init__(self, input_id: str, path: str, name: Mapping[str, str] | None = None) -> None:
        self.input_id = input_id
        self.path = path
        self.name = dict(name or {})
        super().__init__(self.message("en"))

    def message(self, locale: str = "zh") -> str:
        if str(locale).startswith("zh"):
            return (f"缺少必需的输入“{self.name.get('zh', self.input_id)}”（{self.input_id}），"
                    f"应在答案的 {self.path} 处")
        return (f'the required input "{self.input_id}" ({self.name.get("en", self.input_id)}) '
                f"is missing: expected at {self.path} in the answers")


class BadInput(ValueError):
    """An answer that is there but cannot be read as the input's type."""

    def __init__(self, input_id: str, path: str, value: Any, expected: str) -> None:
        self.input_id, self.path, self.value, self.expected = input_id, path, value, expected
        super().__init__(self.message("en"))

    def message(self, locale: str = "zh") -> str:
        if str(locale).startswith("zh"):
            return (f"答案 {self.path} 的值 {self.value!r} 不能作为“{self.input_id}”读取："
                    f"应为{_EXPECTED_ZH.get(self.expected, self.expected)}")
        return (f"the answer at {self.path} ({self.value!r}) cannot be read as "
                f'"{self.input_id}": expected {self.expected}')


_EXPECTED_ZH = {"a date (YYYY-MM-DD)": "日期（YYYY-MM-DD）", "a whole number": "整数",
                "a number": "数字", "true or false": "是或否", "text": "文字",
                "a list of dates (YYYY-MM-DD)": "日期列表（YYYY-MM-DD）"}


@dataclass(frozen=True)
class IndicatorResult:
    id: str
    group: str
    name: Mapping[str, str]
    points: float
    counted: bool
    inputs: Mapping[str, Any]
    explanation: Mapping[str, str]
    vetoed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "group": self.group, "name": dict(self.name),
                "points": number(self.points), "counted": self.counted,
                "inputs": dict(self.inputs), "explanation": dict(self.explanation)}


@dataclass(frozen=True)
class Evaluation:
    rule_set: str
    version: int | None
    as_of: date
    total: float
    threshold: float | None
    eligible: bool
    grade: str | None
    indicators: tuple[IndicatorResult, ...]
    vetoes: tuple[IndicatorResult, ...] = field(default=())

    def indicator(self, indicator_id: str) -> IndicatorResult:
        return next(item for item in self.indicators if item.id == indicator_id)

    def to_json(self) -> dict[str, Any]:
        return {"rule_set": self.rule_set, "version": self.version,
                "as_of": self.as_of.isoformat(), "total": number(self.total),
                "threshold": None if self.threshold is None else number(self.threshold),
                "eligible": self.eligible, "grade": self.grade,
                "vetoes": [{"id": v.id, "explanation": dict(v.explanation)} for v in self.vetoes],
                "indicators": [item.to_json() for item in self.indicators]}


# --- reading the inputs ---------------------------------------------------------------------


def _lookup(source: Any, path: str) -> Any:
    node = source
    for part in path.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return _MISSING
    return node


def _read(answers: Mapping[str, Any], extra: Mapping[str, Any] | None, path: str) -> Any:
    """`path` in the answers, or in an `extra` source when its first part names one."""
    head = path.split(".", 1)[0]
    if extra and head in extra:
        return _lookup(extra, path)
    return _lookup(answers, path)


def _day(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _coerce(item: Input, value: Any) -> Any:
    path = item.path or item.id
    try:
        if item.type == "date":
            return _day(value)
        if item.type == "dates":
            if not isinstance(value, list):
                raise ValueError
            return sorted(_day(v["date"] if isinstance(v, Mapping) else v) for v in value)
        if item.type == "integer":
            if isinstance(value, bool):
                raise ValueError
            number_value = Decimal(str(value).strip())
            if number_value != number_value.to_integral_value():
                raise ValueError
            return int(number_value)
        if item.type == "number":
            if isinstance(value, bool):
                raise ValueError
            number_value = Decimal(str(value).replace(",", "").strip())
            if not number_value.is_finite():
                raise ValueError
            return float(number_value)
        if item.type == "boolean":
            if isinstance(value, bool):
                return value
            if value in ("true", "false"):
                return value == "true"
            raise ValueError
        if isinstance(value, Mapping | list):
            raise ValueError
        return str(value) if not isinstance(value, bool) else ("true" if value else "false")
    except (ValueError, TypeError, InvalidOperation, KeyError):
        expected = {"date": "a date (YYYY-MM-DD)", "dates": "a list of dates (YYYY-MM-DD)",
                    "integer": "a whole number", "number": "a number",
                    "boolean": "true or false"}.get(item.type, "text")
        raise BadInput(item.id, path, value, expected) from None


def full_years(born: date, on: date) -> int:
    """Age in full years (周岁) on a day. A person born on 29 February has a birthday on 1 March
    in a year without one: on 28 February they are not a year older yet."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier; 29 February becomes 28 February in a year without it."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _logic_data(values: Mapping[str, Any], rule_set: RuleSet) -> dict[str, Any]:
    data: dict[str, Any] = {key: _plain(value) for key, value in values.items()}
    data[PARAM_PREFIX.rstrip(".")] = dict(rule_set.parameters)
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _derive(item: Input, values: Mapping[str, Any], rule_set: RuleSet, as_of: date) -> Any:
    assert item.derived is not None
    ((how, arg),) = item.derived.items()
    if how == "logic":
        result = logic.evaluate(arg, _logic_data(values, rule_set))
        return None if result is None else _coerce(item, result)
    source = values.get(arg[0] if how == "floor_div" else arg)
    if source is None:
        return None
    if how == "age_on_reference_date":
        return full_years(source, as_of)
    if how == "floor_div":
        return int(math.floor(source / arg[1]))
    return len(source)  # count


def read_inputs(rule_set: RuleSet, answers: Mapping[str, Any], as_of: date,
                extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every input's value (None when absent and not required). Raises MissingInput."""
    values: dict[str, Any] = {}
    for item in rule_set.inputs:
        if item.derived is not None:
            values[item.id] = _derive(item, values, rule_set, as_of)
            continue
        assert item.path is not None
        raw = _read(answers, extra, item.path)
        if raw is _MISSING or raw is None or raw == "":
            if item.required:
                raise MissingInput(item.id, item.path, item.name)
            values[item.id] = None if item.default is None else _coerce(item, item.default)
            continue
        values[item.id] = _coerce(item, raw)
    return values


# --- the indicators -------------------------------------------------------------------------


def _used(rule_set: RuleSet, input_id: str | None, values: Mapping[str, Any],
          seen: dict[str, Any] | None = None) -> dict[str, Any]:
    """The inputs an indicator read, by answer path for answers and by id for derived values
    (with what they were derived from)."""
    seen = {} if seen is None else seen
    if input_id is None:
        return seen
    item = rule_set.input(input_id)
    if item.derived is not None:
        ((how, arg),) = item.derived.items()
        sources = ([arg[0]] if how == "floor_div" else
                   sorted({name.split(".")[0] for name in logic.referenced_vars(arg)
                           if not name.startswith(PARAM_PREFIX)}) if how == "logic" else [arg])
        for source in sources:
            _used(rule_set, source, values, seen)
        seen[item.id] = _plain(values.get(item.id))
    else:
        seen[item.path or item.id] = _plain(values.get(item.id))
    return seen


def _applies(indicator: Indicator, rule_set: RuleSet, values: Mapping[str, Any]) -> bool:
    if indicator.when is None:
        return True
    return bool(logic.evaluate(indicator.when, _logic_data(values, rule_set)) not in
                (False, None, 0, "", []))


def _score(indicator: Indicator, rule_set: RuleSet, values: Mapping[str, Any],
           as_of: date) -> tuple[float, dict[str, str], bool]:
    """(points, explanation, vetoed) of one indicator that is not a group_max."""
    if indicator.type == "veto":
        triggered = indicator.enabled and _applies(indicator, rule_set, values)
        return 0, explain.veto(indicator, triggered), triggered
    if indicator.type == "weighted":
        return _weighted(indicator, rule_set, values)
    if not _applies(indicator, rule_set, values):
        return 0, explain.not_applicable(indicator), False
    assert indicator.input is not None
    item = rule_set.input(indicator.input)
    value: Any = values.get(item.id)
    if value is None:
        if indicator.type == "deduction":
            value = [] if item.type == "dates" else 0
        else:
            return 0, explain.not_answered(indicator, item), False
    if indicator.type == "bands":
        chosen = next((band for band in indicator.bands if band.holds(value)), None)
        points = chosen.points if chosen else 0
        return points, explain.band(indicator, item, value, chosen, points), False
    if indicator.type == "table":
        entry = indicator.table.get(str(value).lower() if isinstance(value, bool) else str(value))
        points = entry[0] if entry else 0
        return points, explain.table(indicator, value, entry[1] if entry else None, points), False
    if indicator.type == "per_unit":
        units = max(0, int(math.floor(value / indicator.per)))
        points = units * indicator.points
        capped = indicator.cap is not None and points > indicator.cap
        if capped:
            assert indicator.cap is not None
            points = indicator.cap
        return points, explain.per_unit(indicator, item, value, units, points, capped), False
    # deduction
    if isinstance(value, list):
        if indicator.window_years is not None:
            start = years_before(as_of, indicator.window_years)
            counted = sum(1 for day in value if start <= day <= as_of)
            ignored = sum(1 for day in value if day < start)
        else:
            start, counted, ignored = None, sum(1 for day in value if day <= as_of), 0
    else:
        start, counted, ignored = None, max(0, int(value)), 0
    points = counted * indicator.points
    return points, explain.deduction(indicator, counted, ignored, start, as_of, points), False


def _weighted(indicator: Indicator, rule_set: RuleSet,
              values: Mapping[str, Any]) -> tuple[float, dict[str, str], bool]:
    total_weight = sum(c.weight for c in indicator.components)
    score = 0.0
    parts = []
    for component in indicator.components:
        item = rule_set.input(component.input)
        value = values.get(item.id)
        if value is None:
            return 0, explain.not_answered(indicator, item), False
        share = (min(max(value, component.low), component.high) - component.low) \
            / (component.high - component.low)
        if not component.higher_is_better:
            share = 1 - share
        score += component.weight * share
        parts.append((item, value, component.weight))
    points = 100 * score / total_weight
    return points, explain.weighted(indicator, parts, number(points)), False


def evaluate(rule_set: RuleSet, answers: Mapping[str, Any], as_of: date, *,
             extra: Mapping[str, Any] | None = None) -> Evaluation:
    """Score `answers` (an application's answers as stored) on `as_of` (ages and look-back
    windows count to that day). Raises MissingInput for a required input that is absent and
    BadInput for one that cannot be read."""
    values = read_inputs(rule_set, answers, as_of, extra)
    scored: dict[str, tuple[float, dict[str, str], bool]] = {}
    for indicator in rule_set.indicators:
        if indicator.type != "group_max":
            scored[indicator.id] = _score(indicator, rule_set, values, as_of)
    results: list[IndicatorResult] = []
    for indicator in rule_set.indicators:
        if indicator.type == "group_max":
            members = [(rule_set.indicator(member), scored[member][0]) for member in indicator.of]
            points = max(points for _, points in members)
            explanation = explain.group_max(indicator, members, points)
            used: dict[str, Any] = {}
            for member, _ in members:
                _used(rule_set, member.input, values, used)
            results.append(IndicatorResult(indicator.id, indicator.group, indicator.name,
                                           number(points), True, used, explanation))
            continue
        points, explanation, vetoed = scored[indicator.id]
        counted = indicator.in_group is None
        if indicator.in_group is not None:
            group = rule_set.indicator(indicator.in_group)
            others = [rule_set.indicator(m) for m in group.of if m != indicator.id]
            explanation = explain.with_group_note(explanation, explain.group_note(others))
        inputs = _used(rule_set, indicator.input, values)
        for component in indicator.components:
            _used(rule_set, component.input, values, inputs)
        if indicator.when is not None:
            for name in sorted(logic.referenced_vars(indicator.when)):
                if not name.startswith(PARAM_PREFIX) and name.split(".")[0] in values:
                    _used(rule_set, name.split(".")[0], values, inputs)
        results.append(IndicatorResult(indicator.id, indicator.group, indicator.name,
                                       number(points), counted, inputs, explanation, vetoed))
    total = number(sum(result.points for result in results if result.counted))
    vetoes = tuple(result for result in results if result.vetoed)
    threshold = rule_set.threshold
    eligible = not vetoes and (threshold is None or total >= threshold)
    grade = next((g.grade for g in rule_set.grades if total >= g.min), None)
    return Evaluation(rule_set.id, rule_set.version, as_of, total, threshold, eligible, grade,
                      tuple(results), vetoes)
