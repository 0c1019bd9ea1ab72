"""Points without explanations, fast: a rule set compiled to one Python function, for re-scoring
many applicants (simulation, benchmarks). `score` gives the same points, total, eligibility and
grade as `evaluate` (a property test holds them equal); `evaluate` stays the reference.

The function is generated as Python source from the compiled rule set. JsonLogic is turned into
calls of the forms' own operator functions, so conditions keep the forms' (JavaScript) coercion
rules; operators the translation does not know fall back to the forms' evaluator."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from json_logic.builtins import to_bool

from ..forms import logic
from ..forms.logic import _OPERATIONS, _to_json
from .check import PARAM_PREFIX
from .evaluate import _MISSING, MissingInput, _coerce, _plain, _read, full_years, years_before
from .explain import number
from .rules import Indicator, Input, RuleSet


@dataclass(frozen=True)
class Score:
    total: float
    eligible: bool
    grade: str | None
    points: Mapping[str, float]  # indicator id -> points (counted or not)
    vetoed: tuple[str, ...]


Scorer = Callable[[Mapping[str, Any], date, Mapping[str, Any] | None], Score]
_scorers: dict[int, tuple[RuleSet, Scorer]] = {}


def score(rule_set: RuleSet, answers: Mapping[str, Any], as_of: date, *,
          extra: Mapping[str, Any] | None = None) -> Score:
    """The points of `answers` as `evaluate` gives them, without sentences. Raises MissingInput
    and BadInput like `evaluate`."""
    kept = _scorers.get(id(rule_set))
    if kept is None or kept[0] is not rule_set:
        kept = _scorers[id(rule_set)] = (rule_set, compile_scorer(rule_set))
    return kept[1](answers, as_of, extra)


def _applies(value: Any) -> bool:
    return _to_json(value) not in (False, None, 0, "", [])


class _Source:
    def __init__(self, rule_set: RuleSet) -> None:
        self.rule_set = rule_set
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}
        self.temps = 0

    def constant(self, value: Any) -> str:
        name = f"K{len(self.constants)}"
        self.constants[name] = value
        return name

    def temp(self) -> str:
        self.temps += 1
        return f"t{self.temps}"

    def emit(self, line: str, indent: int = 1) -> None:
        self.lines.append("    " * indent + line)

    # --- JsonLogic to a Python expression ----------------------------------------------------

    def _plain_equality(self, args: list[Any]) -> bool:
        for variable, constant in (args, args[::-1]):
            kind = _typed(self, variable)
            if kind == "string" and isinstance(constant, str):
                return True
            if kind == "boolean" and isinstance(constant, bool):
                return True
        return False

    def logic(self, node: Any) -> str:
        if isinstance(node, list):
            return "[" + ", ".join(self.logic(item) for item in node) + "]"
        if not isinstance(node, dict):
            return self.constant(node)
        ((op, args),) = node.items()
        args = args if isinstance(args, list) else [args]
        if op == "var" and len(args) == 1 and isinstance(args[0], str):
            name = args[0]
            if name.startswith(PARAM_PREFIX) and name[len(PARAM_PREFIX):] in \
                    self.rule_set.parameters:
                return self.constant(self.rule_set.parameters[name[len(PARAM_PREFIX):]])
            if name in self.rule_set.logic_reads and any(i.id == name for i in self.rule_set.inputs):
                return f"s_{name}"
        elif op in ("if", "?:"):
            if not args:
                return "None"
            if len(args) == 1:
                return self.logic(args[0])
            if len(args) == 2:
                otherwise = "None"
            elif len(args) == 3:
                otherwise = self.logic(args[2])
            else:
                otherwise = self.logic({"if": args[2:]})
            return f"({self.logic(args[1])} if TB({self.logic(args[0])}) else {otherwise})"
        elif op in ("and", "or") and args:
            expression = self.logic(args[-1])
            for arg in reversed(args[:-1]):
                held = self.temp()
                if op == "and":
                    expression = f"({expression} if TB({held} := {self.logic(arg)}) else {held})"
                else:
                    expression = f"({held} if TB({held} := {self.logic(arg)}) else {expression})"
            return expression
        elif op in ("==", "!=", "===", "!==") and len(args) == 2 and self._plain_equality(args):
            # text or true/false against a constant of the same kind (or null): JavaScript's
            # equality is Python's here
            same = f"({self.logic(args[0])} == {self.logic(args[1])})"
            return same if op in ("==", "===") else f"(not {same})"
        elif op in _OPERATIONS and op not in ("var", "missing", "missing_some"):
            return f"OP[{op!r}](None, " + ", ".join(self.logic(arg) for arg in args) + ")"
        # Anything else: the forms' evaluator on the values as JsonLogic data.
        return f"LOGIC({self.constant(node)}, scope())"


def _typed(source: _Source, node: Any) -> str | None:
    """The type of an input a `{var: NAME}` reads, or None."""
    if isinstance(node, dict) and list(node) == ["var"] and isinstance(node["var"], str):
        found = [item.type for item in source.rule_set.inputs if item.id == node["var"]]
        return found[0] if found and node["var"] in source.rule_set.logic_reads else None
    return None


def _input_lines(source: _Source, item: Input) -> None:
    name = f"v_{item.id}"
    if item.derived is None:
        parts = source.constant(item.parts)
        source.emit("if extra:")
        source.emit(f"raw = READ(answers, extra, {parts})", 2)
        source.emit("else:")
        # Mappings all the way down, or missing: anything without .get (a list, text, None,
        # the MISSING marker itself) ends the path as missing, as _lookup says.
        source.emit("try:", 2)
        source.emit("raw = answers" + "".join(f".get({part!r}, MISSING)" for part in item.parts),
                    3)
        source.emit("except AttributeError:", 2)
        source.emit("raw = MISSING", 3)
        source.emit("if raw is MISSING or raw is None or raw == '':")
        if item.required:
            source.emit(f"raise MissingInput({item.id!r}, {item.path!r}, "
                        f"{source.constant(dict(item.name))})", 2)
        else:
            default = None if item.default is None else _coerce(item, item.default)
            source.emit(f"{name} = {source.constant(default)}", 2)
        source.emit("else:")
        source.emit(f"{name} = COERCE({source.constant(item)}, raw)", 2)
    else:
        ((how, arg),) = item.derived.items()
        if how == "logic":
            source.emit(f"raw = TO_JSON({source.logic(arg)})")
            source.emit(f"{name} = None if raw is None else COERCE({source.constant(item)}, raw)")
        elif how == "age_on_reference_date":
            source.emit(f"{name} = None if v_{arg} is None else FULL_YEARS(v_{arg}, as_of)")
        elif how == "floor_div":
            source.emit(f"{name} = None if v_{arg[0]} is None else "
                        f"int(FLOOR(v_{arg[0]} / {source.constant(arg[1])}))")
        else:  # count
            source.emit(f"{name} = None if v_{arg} is None else len(v_{arg})")
    if item.id in source.rule_set.logic_reads:
        source.emit(f"s_{item.id} = PLAIN({name})")


def _indicator_lines(source: _Source, indicator: Indicator) -> None:
    name = f"p_{indicator.id}"
    value = f"v_{indicator.input}"
    if indicator.type == "veto":
        if indicator.enabled:
            source.emit(f"if APPLIES({source.logic(indicator.when)}):")
            source.emit(f"vetoed.append({indicator.id!r})", 2)
        source.emit(f"{name} = 0")
        return
    if indicator.type == "group_max":
        return  # after every other indicator
    guard = f"APPLIES({source.logic(indicator.when)})" if indicator.when is not None else "True"
    if indicator.type == "weighted":
        parts = []
        for component in indicator.components:
            share = (f"(min(max(v_{component.input}, {component.low!r}), {component.high!r}) - "
                     f"{component.low!r}) / {float(component.high - component.low)!r}")
            if not component.higher_is_better:
                share = f"(1 - {share})"
            parts.append(f"{component.weight!r} * {share}")
        missing = " or ".join(f"v_{c.input} is None" for c in indicator.components)
        total_weight = sum(c.weight for c in indicator.components)
        source.emit(f"{name} = 0 if ({missing}) or not {guard} else "
                    f"100 * ({' + '.join(parts)}) / {total_weight!r}")
        return
    source.emit(f"if not {guard}:")
    source.emit(f"{name} = 0", 2)
    if indicator.type == "deduction":
        source.emit(f"elif not {value}:")
        source.emit(f"{name} = 0", 2)
        source.emit(f"elif isinstance({value}, list):")
        if indicator.window_years is not None:
            source.emit(f"start = YEARS_BEFORE(as_of, {indicator.window_years!r})", 2)
            source.emit(f"{name} = {indicator.points!r} * sum(1 for d in {value} "
                        "if start <= d <= as_of)", 2)
        else:
            source.emit(f"{name} = {indicator.points!r} * sum(1 for d in {value} "
                        "if d <= as_of)", 2)
        source.emit("else:")
        source.emit(f"{name} = {indicator.points!r} * max(0, int({value}))", 2)
        return
    source.emit(f"elif {value} is None:")
    source.emit(f"{name} = 0", 2)
    source.emit("else:")
    if indicator.type == "bands":
        first = True
        for band in indicator.bands:
            tests = []
            if band.low is not None:
                tests.append(f"{value} >= {band.low!r}")
            if band.high is not None:
                tests.append(f"{value} {'<' if band.open_end else '<='} {band.high!r}")
            source.emit(f"{'if' if first else 'elif'} {' and '.join(tests) or 'True'}:", 2)
            source.emit(f"{name} = {band.points!r}", 3)
            first = False
        source.emit("else:", 2)
        source.emit(f"{name} = 0", 3)
    elif indicator.type == "table":
        table = {key: entry[0] for key, entry in indicator.table.items()}
        source.emit(f"{name} = {source.constant(table)}.get(('true' if {value} else 'false') "
                    f"if {value} is True or {value} is False else str({value}), 0)", 2)
    else:  # per_unit
        source.emit(f"{name} = max(0, int(FLOOR({value} / {indicator.per!r}))) * "
                    f"{indicator.points!r}", 2)
        if indicator.cap is not None:
            source.emit(f"if {name} > {indicator.cap!r}:", 2)
            source.emit(f"{name} = {indicator.cap!r}", 3)


def compile_scorer(rule_set: RuleSet) -> Scorer:
    source = _Source(rule_set)
    source.lines.append("def scorer(answers, as_of, extra):")
    source.emit("vetoed = []")
    logic_inputs = [item.id for item in rule_set.inputs if item.id in rule_set.logic_reads]
    scope = ", ".join(f"{name!r}: s_{name}" for name in logic_inputs)
    source.emit(f"scope = lambda: {{'param': {source.constant(dict(rule_set.parameters))}, "
                f"{scope}}}")
    for item in rule_set.inputs:
        _input_lines(source, item)
    for indicator in rule_set.indicators:
        _indicator_lines(source, indicator)
    for indicator in rule_set.indicators:
        if indicator.type == "group_max":
            source.emit(f"p_{indicator.id} = max({', '.join(f'p_{m}' for m in indicator.of)})")
    ids = [indicator.id for indicator in rule_set.indicators]
    counted = [f"(p_{indicator.id} if type(p_{indicator.id}) is int else "
               f"NUMBER(p_{indicator.id}))" for indicator in rule_set.indicators
               if indicator.in_group is None]
    source.emit(f"total = NUMBER({' + '.join(counted) or '0'})")
    if rule_set.threshold is None:
        source.emit("eligible = not vetoed")
    else:
        source.emit(f"eligible = not vetoed and total >= {rule_set.threshold!r}")
    source.emit("grade = None")
    for grade in rule_set.grades:
        source.emit(f"if grade is None and total >= {grade.min!r}:")
        source.emit(f"grade = {grade.grade!r}", 2)
    points = ", ".join(f"{indicator_id!r}: NUMBER(p_{indicator_id})" for indicator_id in ids)
    source.emit(f"return Score(total, eligible, grade, {{{points}}}, tuple(vetoed))")
    names: dict[str, Any] = {
        "READ": _read, "COERCE": _coerce, "MISSING": _MISSING, "MissingInput": MissingInput,
        "FULL_YEARS": full_years, "YEARS_BEFORE": years_before, "PLAIN": _plain,
        "NUMBER": number, "FLOOR": math.floor, "TB": to_bool, "OP": _OPERATIONS,
        "LOGIC": logic.evaluate, "APPLIES": _applies, "TO_JSON": _to_json, "Score": Score,
        **source.constants,
    }
    exec(compile("\n".join(source.lines), f"<points {rule_set.id}>", "exec"), names)  # noqa: S102 - source generated from a checked rule set, no user text in code
    scorer: Scorer = names["scorer"]
    return scorer
