"""Points without explanations, fast: a rule set compiled to one Python function, for re-scoring
many applicants (simulation, benchmarks). `score` gives the same points, total, eligibility and
grade as `evaluate` (a property test holds them equal); `evaluate` stays the reference.

The function is generated as Python source from the compiled rule set, once per rule-set
version. Its JsonLogic (derived inputs, conditions) is compiled by `LogicCompiler`: control flow
and comparisons whose operands' kinds are known from the input types become plain Python where
Python and JavaScript provably agree; other operators call the forms' own operator functions, so
conditions keep the forms' (JavaScript) coercion rules; operators it does not know fall back to
the forms' evaluator. Inputs are read with one lookup per form section, and an answer already of
its input's type is taken as it is (the checks run on anything else)."""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from json_logic.builtins import to_bool

from ..forms import logic
from ..forms.logic import _OPERATIONS, _to_json, _to_string
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


def _applies_value(value: Any) -> bool:
    return _to_json(value) not in (False, None, 0, "", [])


class _E(NamedTuple):
    """A compiled JsonLogic expression: its Python code, and what is known of its value: a kind
    ("bool", "str", "int", "float", "null" or None for unknown) and whether it may be null."""

    code: str
    kind: str | None = None
    nullable: bool = True


_TRUTHY_AS_IN_JS = frozenset({"bool", "str", "int", "float", "null"})  # no NaN, no lists
_EXACT_INT = 2 ** 53  # integers this size and smaller are exact as JavaScript numbers
_KINDS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


def _constant_kind(value: Any) -> str | None:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "str"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float) and math.isfinite(value):
        return "float"
    return None


def _small_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and \
        math.isfinite(value) and abs(value) <= _EXACT_INT


class LogicCompiler:
    """JsonLogic to Python source with the semantics of tongban.forms.logic: control flow and
    comparisons whose operands' kinds are known become plain Python (where Python's and
    JavaScript's answers provably agree), other operators call the forms' own operator
    functions, and anything else (map, reduce, missing...) goes to the forms' evaluator.

    `variable(name)` gives the compiled read of `{var: name}` or None to read it from the data
    with the forms' `var`; `scope` is the code that gives the whole data for the evaluator."""

    def __init__(self, variable: Callable[[str], _E | None], scope: str) -> None:
        self.variable = variable
        self.scope = scope
        self.constants: dict[str, Any] = {}
        self.temps = 0
        self.fallbacks = 0

    def constant(self, value: Any) -> _E:
        kind = _constant_kind(value)
        if kind in ("bool", "null", "str") or (kind in ("int", "float") and _small_number(value)):
            return _E(repr(value), kind, value is None)
        name = f"K{len(self.constants)}"
        self.constants[name] = value
        return _E(name, kind, value is None)

    def temp(self) -> str:
        self.temps += 1
        return f"t{self.temps}"

    def truth(self, expression: _E) -> str:
        """Code whose Python truth is the JsonLogic truth of `expression`."""
        return expression.code if expression.kind in _TRUTHY_AS_IN_JS else \
            f"TB({expression.code})"

    def logic(self, node: Any) -> _E:
        if isinstance(node, list):
            return _E("[" + ", ".join(self.logic(item).code for item in node) + "]")
        if not isinstance(node, dict) or len(node) != 1:
            return self.constant(node)
        ((op, args),) = node.items()
        args = args if isinstance(args, list) else [args]
        compiled = self._operation(op, args)
        if compiled is not None:
            return compiled
        # Anything else: the forms' evaluator on the values as JsonLogic data.
        self.fallbacks += 1
        return _E(f"LOGIC({self.constant(node).code}, {self.scope})")

    def _operation(self, op: Any, args: list[Any]) -> _E | None:
        if op == "var":
            if len(args) == 1 and isinstance(args[0], str):
                found = self.variable(args[0])
                if found is not None:
                    return found
            if all(not isinstance(arg, dict | list) for arg in args):
                return _E(f"OP['var']({self.scope}, "
                          + ", ".join(self.constant(arg).code for arg in args) + ")")
            return None
        if op in ("if", "?:"):
            return self._if(args)
        if op in ("and", "or") and args:
            return self._and_or(op, args)
        parts = [self.logic(arg) for arg in args]
        if op in ("==", "!=", "===", "!==") and len(parts) == 2:
            same = self._equal(op, *parts)
            if same is not None:
                return _E(same if op in ("==", "===") else f"(not {same})", "bool", False)
        if op in ("<", "<=", ">", ">=") and len(parts) == 2 and self._ordered(*parts):
            return _E(f"({parts[0].code} {op} {parts[1].code})", "bool", False)
        if op in ("!", "!!") and len(parts) == 1:
            truth = self.truth(parts[0])
            return _E(f"(not {truth})" if op == "!" else
                      (truth if parts[0].kind == "bool" else f"bool({truth})"), "bool", False)
        if op == "cat":
            pieces = [part.code if part.kind == "str" else
                      "''" if part.kind == "null" else f"PIECE({part.code})"
                      for part in parts]
            return _E("(" + " + ".join(pieces) + ")" if pieces else "''", "str", False)
        if op in _OPERATIONS and op not in ("missing", "missing_some"):
            kind = "bool" if op in ("==", "!=", "===", "!==", "<", "<=", ">", ">=", "!", "!!",
                                    "in") else "str" if op in ("cat", "substr") else None
            return _E(f"OP[{op!r}](None, " + ", ".join(part.code for part in parts) + ")",
                      kind, kind is None)
        return None

    def _if(self, args: list[Any]) -> _E:
        if not args:
            return _E("None", "null")
        if len(args) == 1:
            return self.logic(args[0])
        condition, then = self.logic(args[0]), self.logic(args[1])
        if len(args) == 2:
            otherwise = _E("None", "null")
        elif len(args) == 3:
            otherwise = self.logic(args[2])
        else:
            otherwise = self._if(args[2:])
        kind = then.kind if then.kind == otherwise.kind else None
        return _E(f"({then.code} if {self.truth(condition)} else {otherwise.code})", kind,
                  then.nullable or otherwise.nullable)

    def _and_or(self, op: str, args: list[Any]) -> _E:
        parts = [self.logic(arg) for arg in args]
        if all(part.kind in _TRUTHY_AS_IN_JS for part in parts):
            # Python's and/or give the deciding operand, as JsonLogic's do; the truth is the same
            kinds = {part.kind for part in parts}
            return _E("(" + f" {op} ".join(part.code for part in parts) + ")",
                      kinds.pop() if len(kinds) == 1 else None,
                      any(part.nullable for part in parts))
        expression = parts[-1]
        code = expression.code
        for part in reversed(parts[:-1]):
            held = self.temp()
            if op == "and":
                code = f"({code} if TB({held} := {part.code}) else {held})"
            else:
                code = f"({held} if TB({held} := {part.code}) else {code})"
        return _E(code)

    @staticmethod
    def _equal(op: str, a: _E, b: _E) -> str | None:
        """Python `==` where it gives JavaScript's (loose or strict) equality, else None."""
        same = f"({a.code} == {b.code})"
        for one, other in ((a, b), (b, a)):
            if one.kind == other.kind and one.kind in ("str", "bool"):
                return same  # null == 'text' and null == true are false in both too
            if other.kind in ("int", "float") and _small_literal(other) and \
                    one.kind in ("int", "float"):
                return same  # numbers: one exact, so the other's rounding cannot matter
        return None

    @staticmethod
    def _ordered(a: _E, b: _E) -> bool:
        """Whether Python's `<` etc. give JavaScript's answer: numbers only, never null, and
        an integer only against a constant (a huge integer rounds as a JavaScript number)."""
        if a.nullable or b.nullable or a.kind not in ("int", "float") or \
                b.kind not in ("int", "float"):
            return False
        if a.kind == b.kind == "float":
            return True
        return _small_literal(a) or _small_literal(b)


def _small_literal(expression: _E) -> bool:
    """A number written into the code (small constants are written as they are)."""
    try:
        value = ast.literal_eval(expression.code)
    except (ValueError, SyntaxError):
        return False
    return _small_number(value)


def _piece(value: Any) -> str:
    """A `cat` argument as text, as the forms' `cat` makes it."""
    if value.__class__ is str:
        return value
    if value is None:
        return ""
    if value.__class__ is int and -_EXACT_INT <= value <= _EXACT_INT:
        return str(value)
    return _to_string(value)


def compile_logic(rule: Any, kinds: Mapping[str, str] | None = None) -> Callable[[Any], Any]:
    """A JsonLogic rule as a Python function of its data, giving what
    tongban.forms.logic.evaluate gives. `kinds` names variables known to hold a value of one
    input type ("string", "integer", "number", "boolean") in every data the function gets."""
    known = dict(kinds or {})

    def variable(name: str) -> _E | None:
        kind = _KINDS.get(known.get(name, ""))
        return _E(f"x{names.setdefault(name, len(names))}", kind, False) if kind else None

    names: dict[str, int] = {}
    compiler = LogicCompiler(variable, "data")
    expression = compiler.logic(rule)
    lines = ["def rule(data):"]
    for name, index in names.items():
        lines.append(f"    x{index} = data[{name!r}]")
    lines.append(f"    return TO_JSON({expression.code})")
    namespace = {**_NAMES, **compiler.constants}
    exec(compile("\n".join(lines), "<jsonlogic>", "exec"), namespace)  # noqa: S102 - source generated from a checked rule, no user text in code
    function: Callable[[Any], Any] = namespace["rule"]
    return function


class _Source:
    def __init__(self, rule_set: RuleSet) -> None:
        self.rule_set = rule_set
        self.lines: list[str] = []
        self.inputs = {item.id: item for item in rule_set.inputs}
        self.compiler = LogicCompiler(self.variable, "scope()")

    def variable(self, name: str) -> _E | None:
        if name.startswith(PARAM_PREFIX) and name[len(PARAM_PREFIX):] in \
                self.rule_set.parameters:
            return self.compiler.constant(self.rule_set.parameters[name[len(PARAM_PREFIX):]])
        item = self.inputs.get(name)
        if item is None or name not in self.rule_set.logic_reads:
            return None
        kind = _KINDS.get(item.type)
        if kind is None:
            return _E(f"s_{name}")
        return _E(f"v_{name}", kind, _nullable(item))

    def constant(self, value: Any) -> str:
        return self.compiler.constant(value).code

    def logic(self, node: Any) -> _E:
        return self.compiler.logic(node)

    def emit(self, line: str, indent: int = 1) -> None:
        self.lines.append("    " * indent + line)


def _nullable(item: Input) -> bool:
    return item.derived is not None or (not item.required and item.default is None)


def _read_lines(source: _Source, item: Input, with_extra: bool, sections: dict[str, str]
                ) -> None:
    """Set `raw` to the answer at the input's path (MISSING when absent)."""
    if with_extra:
        source.emit(f"raw = READ(answers, extra, {source.constant(item.parts)})")
        return
    # Mappings all the way down, or missing: anything without .get (a list, text, None, the
    # MISSING marker itself) ends the path as missing, as _lookup says. The first part (a
    # section of the form) is looked up once a call.
    first, rest = item.parts[0], item.parts[1:]
    section = sections.get(first)
    if section is None:
        section = sections[first] = f"a{len(sections)}"
        source.emit("try:")
        source.emit(f"{section} = answers.get({first!r}, MISSING)", 2)
        source.emit("except AttributeError:")
        source.emit(f"{section} = MISSING", 2)
    if not rest:
        source.emit(f"raw = {section}")
        return
    source.emit("try:")
    source.emit(f"raw = {section}" + "".join(f".get({part!r}, MISSING)" for part in rest), 2)
    source.emit("except AttributeError:")
    source.emit("raw = MISSING", 2)


def _input_lines(source: _Source, item: Input, with_extra: bool, sections: dict[str, str]
                 ) -> None:
    name = f"v_{item.id}"
    if item.derived is None:
        _read_lines(source, item, with_extra, sections)
        kept = source.constant(item)
        exact = {"integer": "int", "string": "str", "boolean": "bool"}.get(item.type)
        if exact is not None:  # the commonest case first: an answer already of its type
            source.emit(f"if raw.__class__ is {exact}{' and raw' if exact == 'str' else ''}:")
            source.emit(f"{name} = raw", 2)
            source.emit("elif raw is MISSING or raw is None or raw == '':")
        else:
            source.emit("if raw is MISSING or raw is None or raw == '':")
        if item.required:
            source.emit(f"raise MissingInput({item.id!r}, {item.path!r}, "
                        f"{source.constant(dict(item.name))})", 2)
        else:
            default = None if item.default is None else _coerce(item, item.default)
            source.emit(f"{name} = {source.constant(default)}", 2)
        if item.type == "date":
            source.emit("elif raw.__class__ is str:")
            source.emit("try:", 2)
            source.emit(f"{name} = FROM_ISO(raw)", 3)
            source.emit("except ValueError:", 2)
            source.emit(f"{name} = COERCE({kept}, raw)", 3)  # raises BadInput
        source.emit("else:")
        source.emit(f"{name} = COERCE({kept}, raw)", 2)
    else:
        ((how, arg),) = item.derived.items()
        if how == "logic":
            expression = source.logic(arg)
            if expression.kind in ("str", "bool", "int", "null"):
                source.emit(f"raw = {expression.code}")  # already as JSON gives it
            else:
                source.emit(f"raw = TO_JSON({expression.code})")
            kept = source.constant(item)
            exact = {"integer": "int", "string": "str", "boolean": "bool"}.get(item.type)
            if exact is not None:
                source.emit(f"{name} = raw if raw.__class__ is {exact} else "
                            f"None if raw is None else COERCE({kept}, raw)")
            else:
                source.emit(f"{name} = None if raw is None else COERCE({kept}, raw)")
        elif how == "age_on_reference_date":
            source.emit(f"{name} = None if v_{arg} is None else FULL_YEARS(v_{arg}, as_of)")
        elif how == "floor_div":
            divided = _floor_division(f"v_{arg[0]}", source.inputs[arg[0]], arg[1])
            source.emit(f"{name} = None if v_{arg[0]} is None else {divided}")
        else:  # count
            source.emit(f"{name} = None if v_{arg} is None else len(v_{arg})")
    if item.id in source.rule_set.logic_reads and item.type not in _KINDS:
        source.emit(f"s_{item.id} = PLAIN({name})")  # dates as JsonLogic sees them: text


def _floor_division(value: str, item: Input, per: Any) -> str:
    """Code for `int(math.floor(value / per))`: an integer by an integer is `//` while the
    quotient is exact as a float (so the float floor and the integer floor agree)."""
    slow = f"int(FLOOR({value} / {per!r}))"
    if item.type != "integer" or type(per) is not int or per == 0:
        return slow
    fast = value if per == 1 else f"{value} // {per!r}"
    return f"({fast} if {-_EXACT_INT // 2} <= {value} <= {_EXACT_INT // 2} else {slow})"


def _applies(source: _Source, node: Any) -> str:
    """Code for whether a `when` holds (its value, as JSON, is not false, null, 0, "" or [])."""
    expression = source.logic(node)
    if expression.kind in ("bool", "str", "int", "null"):
        return expression.code
    return f"APPLIES({expression.code})"


def _indicator_lines(source: _Source, indicator: Indicator) -> None:
    name = f"p_{indicator.id}"
    value = f"v_{indicator.input}"
    if indicator.type == "veto":
        if indicator.enabled:
            source.emit(f"if {_applies(source, indicator.when)}:")
            source.emit(f"vetoed.append({indicator.id!r})", 2)
        source.emit(f"{name} = 0")
        return
    if indicator.type == "group_max":
        return  # after every other indicator
    guard = _applies(source, indicator.when) if indicator.when is not None else None
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
        source.emit(f"{name} = 0 if ({missing}) or not {guard or 'True'} else "
                    f"100 * ({' + '.join(parts)}) / {total_weight!r}")
        return
    assert indicator.input is not None  # every kind left reads one input
    item = source.inputs[indicator.input]
    if guard is not None:
        source.emit(f"if not {guard}:")
        source.emit(f"{name} = 0", 2)
        branch = "elif"
    else:
        branch = "if"
    if indicator.type == "deduction":
        source.emit(f"{branch} not {value}:")
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
    if _nullable(item):
        source.emit(f"{branch} {value} is None:")
        source.emit(f"{name} = 0", 2)
        source.emit("else:")
        depth = 2
    elif branch == "elif":
        source.emit("else:")
        depth = 2
    else:
        depth = 1
    if indicator.type == "bands":
        first = True
        for band in indicator.bands:
            tests = []
            if band.low is not None:
                tests.append(f"{value} >= {band.low!r}")
            if band.high is not None:
                tests.append(f"{value} {'<' if band.open_end else '<='} {band.high!r}")
            source.emit(f"{'if' if first else 'elif'} {' and '.join(tests) or 'True'}:", depth)
            source.emit(f"{name} = {band.points!r}", depth + 1)
            first = False
        source.emit("else:", depth)
        source.emit(f"{name} = 0", depth + 1)
    elif indicator.type == "table":
        table = source.constant({key: entry[0] for key, entry in indicator.table.items()})
        if item.type == "string":
            key = value
        elif item.type == "boolean":
            key = f"('true' if {value} else 'false')"
        else:
            key = (f"(('true' if {value} else 'false') if {value} is True or {value} is False "
                   f"else str({value}))")
        source.emit(f"{name} = {table}.get({key}, 0)", depth)
    else:  # per_unit
        units = _floor_division(value, item, indicator.per)
        source.emit(f"units = {units}", depth)
        source.emit(f"{name} = units * {indicator.points!r} if units > 0 else 0", depth)
        if indicator.cap is not None:
            source.emit(f"if {name} > {indicator.cap!r}:", depth)
            source.emit(f"{name} = {indicator.cap!r}", depth + 1)


def _body(source: _Source, with_extra: bool) -> None:
    rule_set = source.rule_set
    source.emit("vetoed = []")
    at = len(source.lines)
    fallbacks = source.compiler.fallbacks
    sections: dict[str, str] = {}  # first part of a path -> the local holding it
    for item in rule_set.inputs:
        _input_lines(source, item, with_extra, sections)
    for indicator in rule_set.indicators:
        _indicator_lines(source, indicator)
    if source.compiler.fallbacks > fallbacks:  # the whole data, for the forms' evaluator
        logic_inputs = [item for item in rule_set.inputs if item.id in rule_set.logic_reads]
        scope = ", ".join(f"{item.id!r}: {'v' if item.type in _KINDS else 's'}_{item.id}"
                          for item in logic_inputs)
        source.lines.insert(at, f"    scope = lambda: {{'param': "
                                f"{source.constant(dict(rule_set.parameters))}, {scope}}}")
    for indicator in rule_set.indicators:
        if indicator.type == "group_max":
            source.emit(f"p_{indicator.id} = max({', '.join(f'p_{m}' for m in indicator.of)})")
    ids = [indicator.id for indicator in rule_set.indicators]
    whole = _whole_points(rule_set)
    for indicator_id in ids:  # points as stored: int when whole, else 2 decimals
        if indicator_id in whole:
            source.emit(f"n_{indicator_id} = p_{indicator_id}")
        else:
            source.emit(f"n_{indicator_id} = p_{indicator_id} if p_{indicator_id}.__class__ "
                        f"is int else NUMBER(p_{indicator_id})")
    counted = [f"n_{indicator.id}" for indicator in rule_set.indicators
               if indicator.in_group is None]
    source.emit(f"total = {' + '.join(counted) or '0'}")
    if not all(indicator.id in whole for indicator in rule_set.indicators):
        source.emit("if total.__class__ is not int:")
        source.emit("total = NUMBER(total)", 2)
    if rule_set.threshold is None:
        source.emit("eligible = not vetoed")
    else:
        source.emit(f"eligible = not vetoed and total >= {rule_set.threshold!r}")
    source.emit("grade = None")
    for grade in rule_set.grades:
        source.emit(f"if grade is None and total >= {grade.min!r}:")
        source.emit(f"grade = {grade.grade!r}", 2)
    points = ", ".join(f"{indicator_id!r}: n_{indicator_id}" for indicator_id in ids)
    source.emit(f"return Score(total, eligible, grade, {{{points}}}, tuple(vetoed))")


def _integer(value: Any) -> bool:
    return type(value) is int


def _whole_points(rule_set: RuleSet) -> set[str]:
    """Indicators whose points are an int whatever the answers (every amount in the rule set is
    one), so they need no rounding."""
    whole: set[str] = set()
    for indicator in rule_set.indicators:
        if indicator.type == "veto" or (
                indicator.type == "bands" and all(_integer(b.points) for b in indicator.bands)) \
                or (indicator.type == "table" and
                    all(_integer(entry[0]) for entry in indicator.table.values())) \
                or (indicator.type == "per_unit" and _integer(indicator.points) and
                    (indicator.cap is None or _integer(indicator.cap))) \
                or (indicator.type == "deduction" and _integer(indicator.points)):
            whole.add(indicator.id)
    for indicator in rule_set.indicators:  # group_max after the members are known
        if indicator.type == "group_max" and all(member in whole for member in indicator.of):
            whole.add(indicator.id)
    return whole


def scorer_source(rule_set: RuleSet) -> tuple[str, dict[str, Any]]:
    """The generated Python source of the rule set's scorer and the constants it names."""
    source = _Source(rule_set)
    source.lines.append("def scorer_extra(answers, as_of, extra):")
    _body(source, with_extra=True)
    source.lines.append("")
    source.lines.append("def scorer(answers, as_of, extra):")
    source.emit("if extra:")
    source.emit("return scorer_extra(answers, as_of, extra)", 2)
    _body(source, with_extra=False)
    return "\n".join(source.lines), source.compiler.constants


def compile_scorer(rule_set: RuleSet) -> Scorer:
    text, constants = scorer_source(rule_set)
    names: dict[str, Any] = {**_NAMES, **constants}
    exec(compile(text, f"<points {rule_set.id}>", "exec"), names)  # noqa: S102 - source generated from a checked rule set, no user text in code
    scorer: Scorer = names["scorer"]
    return scorer


_NAMES: dict[str, Any] = {
    "READ": _read, "COERCE": _coerce, "MISSING": _MISSING, "MissingInput": MissingInput,
    "FULL_YEARS": full_years, "YEARS_BEFORE": years_before, "PLAIN": _plain,
    "NUMBER": number, "FLOOR": math.floor, "TB": to_bool, "OP": _OPERATIONS,
    "LOGIC": logic.evaluate, "APPLIES": _applies_value, "TO_JSON": _to_json, "Score": Score,
    "PIECE": _piece, "FROM_ISO": date.fromisoformat,
}
