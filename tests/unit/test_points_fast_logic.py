"""The points scorer's JsonLogic compiled to Python (points/fast.py `compile_logic`) gives what
the forms' evaluator (tongban.forms.logic.evaluate) gives, on every case of the official
JsonLogic test file: once with nothing known of the data, and once with each top-level value's
kind declared as an input type would declare it (which turns on the plain-Python comparisons)."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.test_jsonlogic_conformance import OFFICIAL, _canonical, _load_cases

from tongban.forms.logic import RuleError, evaluate
from tongban.points import evaluate as points_evaluate
from tongban.points import population as pop
from tongban.points import score
from tongban.points.fast import compile_logic, scorer_source
from tongban.points.files import file_rules

COMPILED = {"if", "?:", "and", "or", "==", "!=", "===", "!==", "<", "<=", ">", ">=", "!", "!!",
            "cat", "var"}


def _outcome(function: Any, data: Any) -> Any:
    try:
        return {"value": function(data)}
    except RuleError as exc:
        return {"error": type(exc).__name__}


def _reference(rule: Any, data: Any) -> Any:
    return _outcome(lambda d: evaluate(rule, d), data)


def _operators(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*map(_operators, node)) if node else set()
    if isinstance(node, dict) and len(node) == 1:
        ((op, args),) = node.items()
        return {op} | _operators(args)
    return set()


def _kinds(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        return {}
    kinds = {}
    for name, value in data.items():
        if isinstance(value, bool):
            kinds[name] = "boolean"
        elif isinstance(value, str):
            kinds[name] = "string"
        elif isinstance(value, int):
            kinds[name] = "integer"
        elif isinstance(value, float) and math.isfinite(value):
            kinds[name] = "number"
    return kinds


def test_compiled_rules_give_the_evaluators_results_on_every_official_case() -> None:
    cases = _load_cases(OFFICIAL)
    differences = []
    for rule, data, _expected in cases:
        wanted = _canonical(_reference(rule, data))
        for kinds in ({}, _kinds(data)):
            got = _canonical(_outcome(compile_logic(rule, kinds), data))
            if got != wanted:
                differences.append((rule, data, kinds, got, wanted))
    assert differences == []
    # The cases built from compiled operators alone are a good share of the file.
    only_compiled = [rule for rule, _data, _expected in cases
                     if _operators(rule) and _operators(rule) <= COMPILED]
    assert len(only_compiled) >= 100


def test_typed_comparisons_become_plain_python_and_the_rest_calls_the_forms_operators() -> None:
    rule = {"and": [{">=": [{"var": "months"}, 24]}, {"==": [{"var": "band"}, "3_or_more"]}]}
    function = compile_logic(rule, {"months": "integer", "band": "string"})
    assert function({"months": 24, "band": "3_or_more"}) is True
    assert function({"months": 23, "band": "3_or_more"}) is False
    untyped = compile_logic(rule)
    assert untyped({"months": "24", "band": "3_or_more"}) is True  # JavaScript's coercion


def test_the_shanghai_scorer_has_no_call_of_the_forms_evaluator() -> None:
    text, _constants = scorer_source(file_rules("sh-residence-points"))
    assert "LOGIC(" not in text and "OP[" not in text and "TB(" not in text


_values = st.one_of(st.none(), st.booleans(), st.integers(-3, 40),
                    st.floats(-5, 50, allow_nan=False), st.sampled_from(["", "0", "a", "24", "b"]))
_leaf = st.one_of(_values, st.sampled_from([{"var": "x"}, {"var": "y"}, {"var": "n"},
                                            {"var": "s"}]))
_rules = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.builds(lambda op, a, b: {op: [a, b]},
                  st.sampled_from(["==", "!=", "===", "!==", "<", "<=", ">", ">=", "and", "or",
                                   "cat", "+", "-", "*", "/", "min", "max", "in"]), inner, inner),
        st.builds(lambda op, a: {op: [a]}, st.sampled_from(["!", "!!"]), inner),
        st.builds(lambda a, b, c: {"if": [a, b, c]}, inner, inner, inner)),
    max_leaves=8)


@settings(max_examples=400, deadline=None)
@given(_rules, st.integers(-3, 40), st.floats(-5, 50, allow_nan=False),
       st.sampled_from(["", "0", "a", "24", "3_or_more"]), st.booleans())
def test_a_generated_rule_gives_the_evaluators_result(rule: Any, x: int, y: float, s: str,
                                                      n: bool) -> None:
    data = {"x": x, "y": y, "s": s, "n": n}
    wanted = _canonical(_reference(rule, data))
    typed = compile_logic(rule, {"x": "integer", "y": "number", "s": "string", "n": "boolean"})
    assert _canonical(_outcome(typed, data)) == wanted
    assert _canonical(_outcome(compile_logic(rule), data)) == wanted



def test_the_scorer_reads_extra_sources_as_evaluate_does() -> None:
    rules = file_rules("sh-residence-points")
    as_of = date(2026, 12, 2)
    extra = {"education": {"level": "doctor"}, "qualification": {"kind": "none"}}
    totals = []
    for answers in pop.generate(200, 3):
        slow = points_evaluate(rules, answers, as_of, extra=extra)
        fast = score(rules, answers, as_of, extra=extra)
        assert (fast.total, fast.eligible, fast.vetoed) == (
            slow.total, slow.eligible, tuple(v.id for v in slow.vetoes))
        assert fast.points["education"] == 110  # the extra source's doctorate, not the answer
        totals.append(fast.total)
    assert totals != [score(rules, a, as_of).total for a in pop.generate(200, 3)]
