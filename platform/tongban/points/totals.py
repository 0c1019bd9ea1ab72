"""Totals without sentences: a rule set compiled once into plain Python closures that give the
same total, eligibility, grade and vetoes as `evaluate`, for re-scoring many applicants at once
(simulation, benchmarks). It reads the answers with the same checks (MissingInput, BadInput) and
the same coercions, and runs JsonLogic with the forms' own operator functions; what it leaves
out is the explanation and the record of inputs, which a simulation does not show. A test
compares it with `evaluate` on thousands of generated applicants and the hand-worked cases.

Anything it cannot compile (a JsonLogic operator outside the common ones, a `var` with a
default) is run by the engine's own code for that part, so every rule set is scored correctly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from json_logic.builtins import to_bool

from ..forms import logic
from .evaluate import (
    _MISSING,
    PARAM_PREFIX,
    MissingInput,
    _coerce,
    _logic_data,
    _plain,
    full_years,
    years_before,
)
from .explain import number
from .rules import Indicator, Input, RuleSet
from .totals_source import NotGenerated, generate

Values = dict[str, Any]
Reader = Callable[[Mapping[str, Any], Values, date], None]


@dataclass(frozen=True)
class Total:
    total: float
    eligible: bool
    grade: str | None
    vetoes: tuple[str, ...]


_scorers: dict[int, tuple[RuleSet, Callable[[Mapping[str, Any], date], Total]]] = {}


def totals_scorer(rule_set: RuleSet) -> Callable[[Mapping[str, Any], date], Total]:
    """``score(answers, as_of) -> Total`` for the rule set, compiled once per RuleSet object."""
    kept = _scorers.get(id(rule_set))
    if kept is not None and kept[0] is rule_set:
        return kept[1]
    scorer = _compile(rule_set)
    if len(_scorers) > 64:
        _scorers.clear()
    _scorers[id(rule_set)] = (rule_set, scorer)
    return scorer


def total_of(rule_set: RuleSet, answers: Mapping[str, Any], as_of: date) -> Total:
    return totals_scorer(rule_set)(answers, as_of)


# --- inputs ----------------------------------------------------------------------------------


def _reader(rule_set: RuleSet, item: Input) -> Reader:
    key = item.id
    if item.derived is not None:
        ((how, arg),) = item.derived.items()
        if how == "age_on_reference_date":
            def age(_answers: Mapping[str, Any], values: Values, as_of: date) -> None:
                born = values.get(arg)
                values[key] = None if born is None else full_years(born, as_of)
            return age
        if how == "floor_div":
            source, divisor = arg

            def floor_div(_answers: Mapping[str, Any], values: Values, _as_of: date) -> None:
                value = values.get(source)
                values[key] = None if value is None else int(math.floor(value / divisor))
            return floor_div
        if how == "logic":
            run = _logic(rule_set, arg)

            def derive(_answers: Mapping[str, Any], values: Values, _as_of: date) -> None:
                result = run(values)
                values[key] = None if result is None else _coerce(item, result)
            return derive

        def count(_answers: Mapping[str, Any], values: Values, _as_of: date) -> None:
            value = values.get(arg)
            values[key] = None if value is None else len(value)
        return count
    assert item.path is not None
    if "." in item.path and item.path.split(".", 1)[0] == "connector":
        raise _NotCompiled  # `extra` sources: the engine's own reader
    segments = tuple(item.path.split("."))
    default = None if item.default is None else _coerce(item, item.default)
    fast = _FAST.get(item.type)

    def read(answers: Mapping[str, Any], values: Values, _as_of: date) -> None:
        node: Any = answers
        for part in segments:
            if type(node) is dict:
                node = node.get(part, _MISSING)
                if node is _MISSING:
                    break
            elif isinstance(node, Mapping) and part in node:
                node = node[part]
            else:
                node = _MISSING
                break
        if node is _MISSING or node is None or node == "":
            if item.required:
                raise MissingInput(item.id, item.path or item.id, item.name)
            values[key] = default
            return
        if fast is not None and type(node) in fast[0]:
            try:
                values[key] = fast[1](node)
                return
            except ValueError:
                pass  # `_coerce` says what is wrong with it
        values[key] = _coerce(item, node)
    return read


def _same(value: Any) -> Any:
    return value


def _iso_day(value: str) -> date:
    return date.fromisoformat(value)


# Types whose value is already what `_coerce` would return (or a direct function of it).
_FAST: dict[str, tuple[tuple[type, ...], Callable[[Any], Any]]] = {
    "integer": ((int,), _same),
    "number": ((int, float), float),
    "string": ((str,), _same),
    "boolean": ((bool,), _same),
    "date": ((str,), _iso_day),
}


class _NotCompiled(Exception):
    pass


# --- JsonLogic -------------------------------------------------------------------------------

_VALUE_OPERATORS = frozenset({"==", "!=", "===", "!==", "<", "<=", ">", ">=", "!", "!!", "cat",
                              "in", "+", "-", "*", "/", "%", "min", "max"})


_SAME_TYPE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b, "===": lambda a, b: a == b, "!=": lambda a, b: a != b,
    "!==": lambda a, b: a != b, ">=": lambda a, b: a >= b, ">": lambda a, b: a > b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}


def _logic(rule_set: RuleSet, rule: Any) -> Callable[[Values], Any]:
    """A JsonLogic rule over the inputs as a function of the values; the forms' evaluator is
    used for any rule outside the compiled subset."""
    try:
        compiled = _node(rule_set, rule)
    except _NotCompiled:
        return lambda values: logic.evaluate(rule, _logic_data(values, rule_set))

    def run(values: Values) -> Any:
        try:
            return logic._to_json(compiled(values))
        except (ReferenceError, TypeError, ValueError, OverflowError, RecursionError) as exc:
            raise logic.RuleError(f"cannot evaluate rule: {exc}") from exc
    return run


def _node(rule_set: RuleSet, node: Any) -> Callable[[Values], Any]:
    if isinstance(node, str | int | float | bool) or node is None:
        return lambda _values: node
    if not (isinstance(node, dict) and len(node) == 1):
        raise _NotCompiled
    ((op, args),) = node.items()
    if op == "var":
        name = args[0] if isinstance(args, list) and len(args) == 1 else args
        if not isinstance(name, str) or not name:
            raise _NotCompiled
        if name.startswith(PARAM_PREFIX):
            constant = logic._var({"param": dict(rule_set.parameters)}, name)
            return lambda _values: constant
        head = name.split(".")[0]
        if "." in name or head not in {item.id for item in rule_set.inputs}:
            raise _NotCompiled
        def var(values: Values) -> Any:
            value = values.get(name)
            return value.isoformat() if type(value) is date else \
                _plain(value) if type(value) is list else value
        return var
    args = args if isinstance(args, list) else [args]
    parts = [_node(rule_set, arg) for arg in args]
    if op == "if" and parts:
        def choose(values: Values) -> Any:
            for i in range(0, len(parts) - 1, 2):
                if to_bool(parts[i](values)):
                    return parts[i + 1](values)
            return parts[-1](values) if len(parts) % 2 else None
        return choose
    if op in ("and", "or") and parts:
        wanted = op == "or"

        def junction(values: Values) -> Any:
            value = None
            for part in parts:
                value = part(values)
                if to_bool(value) is wanted:
                    return value
            return value
        return junction
    operation = logic._OPERATIONS.get(op) if op in _VALUE_OPERATORS else None
    if operation is None:
        raise _NotCompiled
    if op in _SAME_TYPE and len(parts) == 2:
        # Two strings, or two whole numbers, compare in JavaScript as in Python: only other
        # pairs need the forms' coercing operator.
        plain = _SAME_TYPE[op]
        first, second = parts

        def compare(values: Values) -> Any:
            a, b = first(values), second(values)
            if (type(a) is str and type(b) is str) or (type(a) is int and type(b) is int):
                return plain(a, b)
            return operation(None, a, b)
        return compare
    if len(parts) == 1:
        (only,) = parts
        return lambda values: operation(None, only(values))
    if len(parts) == 2:
        first, second = parts
        return lambda values: operation(None, first(values), second(values))
    return lambda values: operation(None, *(part(values) for part in parts))


# --- indicators ------------------------------------------------------------------------------

Points = Callable[[Values, date], tuple[float, bool]]


def _indicator(rule_set: RuleSet, indicator: Indicator) -> Points:
    if indicator.type == "veto":
        condition = _logic(rule_set, indicator.when)
        enabled = indicator.enabled

        def veto(values: Values, _as_of: date) -> tuple[float, bool]:
            return 0, enabled and _truthy(condition(values))
        return veto
    if indicator.type == "weighted":
        return _weighted(rule_set, indicator)
    applies = _logic(rule_set, indicator.when) if indicator.when is not None else None
    assert indicator.input is not None
    key = indicator.input
    item = rule_set.input(key)
    score = _value_points(indicator, item)

    def points(values: Values, as_of: date) -> tuple[float, bool]:
        if applies is not None and not _truthy(applies(values)):
            return 0, False
        value = values.get(key)
        if value is None:
            if indicator.type != "deduction":
                return 0, False
            value = [] if item.type == "dates" else 0
        return score(value, as_of), False
    return points


def _truthy(value: Any) -> bool:
    return value not in (False, None, 0, "", [])


def _value_points(indicator: Indicator, item: Input) -> Callable[[Any, date], float]:
    if indicator.type == "bands":
        bands = indicator.bands
        memo: dict[Any, float] = {}

        def band(value: Any, _as_of: date) -> float:
            found = memo.get(value)
            if found is None:
                chosen = next((b for b in bands if b.holds(value)), None)
                found = chosen.points if chosen else 0
                if len(memo) < 4096:
                    memo[value] = found
            return found
        return band
    if indicator.type == "table":
        table = {key: entry[0] for key, entry in indicator.table.items()}

        def row(value: Any, _as_of: date) -> float:
            return table.get(("true" if value else "false") if isinstance(value, bool)
                             else str(value), 0)
        return row
    if indicator.type == "per_unit":
        per, each, cap = indicator.per, indicator.points, indicator.cap

        def per_unit(value: Any, _as_of: date) -> float:
            points = max(0, int(math.floor(value / per))) * each
            return cap if cap is not None and points > cap else points
        return per_unit
    if indicator.type == "deduction":
        each, window = indicator.points, indicator.window_years

        def deduction(value: Any, as_of: date) -> float:
            if isinstance(value, list):
                if window is not None:
                    start = years_before(as_of, window)
                    counted = sum(1 for day in value if start <= day <= as_of)
                else:
                    counted = sum(1 for day in value if day <= as_of)
            else:
                counted = max(0, int(value))
            return counted * each
        return deduction
    raise _NotCompiled


def _weighted(rule_set: RuleSet, indicator: Indicator) -> Points:
    components = indicator.components
    total_weight = sum(c.weight for c in components)

    def weighted(values: Values, _as_of: date) -> tuple[float, bool]:
        score = 0.0
        for component in components:
            value = values.get(component.input)
            if value is None:
                return 0, False
            share = (min(max(value, component.low), component.high) - component.low) \
                / (component.high - component.low)
            if not component.higher_is_better:
                share = 1 - share
            score += component.weight * share
        return 100 * score / total_weight, False
    return weighted


def _points(value: float) -> float:
    return value if type(value) is int else number(value)


# --- the whole rule set ----------------------------------------------------------------------


def _compile(rule_set: RuleSet) -> Callable[[Mapping[str, Any], date], Total]:
    from .evaluate import evaluate

    try:
        readers = [_reader(rule_set, item) for item in rule_set.inputs]
        scored = [(indicator.id, indicator.in_group is None, _indicator(rule_set, indicator))
                  for indicator in rule_set.indicators if indicator.type != "group_max"]
    except _NotCompiled:
        def engine(answers: Mapping[str, Any], as_of: date) -> Total:
            result = evaluate(rule_set, answers, as_of)
            return Total(result.total, result.eligible, result.grade,
                         tuple(v.id for v in result.vetoes))
        return engine
    try:
        return generate(rule_set, lambda rule: _logic(rule_set, rule), _value_points,
                        lambda indicator: _weighted(rule_set, indicator), Total)
    except NotGenerated:
        pass  # the closures below do the same, a call at a time
    groups = [indicator.of for indicator in rule_set.indicators
              if indicator.type == "group_max"]
    threshold = rule_set.threshold
    grades = [(g.min, g.grade) for g in rule_set.grades]

    def score(answers: Mapping[str, Any], as_of: date) -> Total:
        values: Values = {}
        for read in readers:
            read(answers, values, as_of)
        total: float = 0
        vetoes: list[str] = []
        points: dict[str, float] = {}
        for indicator_id, counted, indicator_points in scored:
            got, vetoed = indicator_points(values, as_of)
            if type(got) is not int:
                got = number(got)
            points[indicator_id] = got
            if counted:
                total += got
            if vetoed:
                vetoes.append(indicator_id)
        for members in groups:
            total += _points(max(points[member] for member in members))
        total = _points(total)
        eligible = not vetoes and (threshold is None or total >= threshold)
        grade = next((g for low, g in grades if total >= low), None)
        return Total(total, eligible, grade, tuple(vetoes))
    return score
