"""JsonLogic: the official conformance file, rule checks, and server/browser agreement.

The browser runs form rules with the vendored json-logic-js and the server with
tongban.forms.logic; the Node tests here feed both the same cases and demand the same answers.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tongban.forms.logic import OPERATORS, RuleError, check_rule, evaluate, referenced_vars

ROOT = Path(__file__).resolve().parents[2]
OFFICIAL = ROOT.parent / "shared" / "corpus" / "jsonlogic" / "tests.json"
OFFICIAL_SHA256 = "3f2ef4252eb0285e5e0105b2c2fc14155d6e691519ecf46a4591c6f480587c31"
GOLDEN = Path(__file__).with_name("jsonlogic_golden.json")
JSON_LOGIC_JS = ROOT / "platform" / "tongban" / "static" / "vendor" / "json-logic.js"

Case = tuple[Any, Any, Any]


def _load_cases(path: Path) -> list[Case]:
    if not path.is_file():
        pytest.fail(f"{path} is missing; the shared corpus sits beside the repository")
    # Strings in these files are section comments; every other entry is [rule, data, expected].
    entries = json.loads(path.read_text(encoding="utf-8"))
    return [tuple(entry) for entry in entries if not isinstance(entry, str)]


def _canonical(value: Any) -> str:
    # Text comparison keeps true apart from 1 and 2 apart from 2.0.
    return json.dumps(value, sort_keys=True)


def _outcome(rule: Any, data: Any) -> dict[str, Any]:
    try:
        return {"value": evaluate(rule, data)}
    except RuleError as exc:
        return {"error": str(exc)}


def test_the_official_file_is_the_published_one() -> None:
    assert hashlib.sha256(OFFICIAL.read_bytes()).hexdigest() == OFFICIAL_SHA256


def test_every_official_case_gives_the_expected_result(capsys: pytest.CaptureFixture[str]) -> None:
    cases = _load_cases(OFFICIAL)
    failures = [
        (rule, data, expected, outcome)
        for rule, data, expected in cases
        if _canonical(outcome := _outcome(rule, data)) != _canonical({"value": expected})
    ]
    with capsys.disabled():
        print(f"\nJsonLogic conformance: {len(cases) - len(failures)}/{len(cases)}")
    assert failures == []
    assert len(cases) == 277


def test_golden_cases_give_the_expected_result() -> None:
    failures = [
        (rule, data, expected, outcome)
        for rule, data, expected in _load_cases(GOLDEN)
        if _canonical(outcome := _outcome(rule, data)) != _canonical({"value": expected})
    ]
    assert failures == []


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"cat": ["a", 1, None]}, "a1"),
        ({"+": ["1", 1]}, 2),
        ({"/": [1, 0]}, None),
    ],
)
def test_results_take_the_shape_json_logic_js_gives(rule: Any, expected: Any) -> None:
    result = evaluate(rule, {})
    assert result == expected
    assert type(result) is type(expected)


def test_an_operator_outside_the_allow_list_is_refused_at_evaluation() -> None:
    assert "log" not in OPERATORS
    with pytest.raises(RuleError, match="log"):
        evaluate({"log": "secret"}, {})


# --- check_rule ---

GOOD_RULE = {
    "if": [
        {"and": [{"==": [{"var": "applicant.type"}, "enterprise"]}, {"missing": ["uscc"]}]},
        "请填写统一社会信用代码",
        None,
    ]
}


@pytest.mark.parametrize(
    ("rule", "problems"),
    [
        (GOOD_RULE, []),
        ("plain text", []),
        ({"foo": [1]}, ["unknown operator 'foo' at /foo"]),
        ({"and": [True, {"log": "x"}]}, ["unknown operator 'log' at /and/1/log"]),
        ({"in.x": [1, 2]}, ["unknown operator 'in.x' at /in.x"]),
        ({"==": [1]}, ["operator '==' takes 2 arguments, not 1, at /=="]),
        ({"/": [1]}, ["operator '/' takes 2 arguments, not 1, at /~1"]),
        ({"<": [1, 2, 3, 4]}, ["operator '<' takes 2 to 3 arguments, not 4, at /<"]),
        ({"*": []}, ["operator '*' takes at least 1 argument, not 0, at /*"]),
        (
            {"var": "a", "x": 1},
            ["object with 2 keys at / is not an operation (an operation has exactly one key)"],
        ),
        (
            {"reduce": [{"var": "xs"}, {"+": [{"var": "current"}, 1]}, {"var": "start"}]},
            ["the initial value of 'reduce' must be a plain value at /reduce/2"],
        ),
        (
            {"reduce": [{"var": "xs"}, {"var": ""}, 0]},
            ["the rule of 'reduce' must read 'current' or 'accumulator' at /reduce/1"],
        ),
        (
            {"or": [{"nope": []}, {"!": [1, 2]}]},
            [
                "unknown operator 'nope' at /or/0/nope",
                "operator '!' takes 1 argument, not 2, at /or/1/!",
            ],
        ),
    ],
)
def test_check_rule_names_each_problem_and_where_it_is(rule: Any, problems: list[str]) -> None:
    assert check_rule(rule) == problems


# --- referenced_vars ---


@pytest.mark.parametrize(
    ("rule", "paths"),
    [
        ({"var": "applicant.name"}, {"applicant.name"}),
        ({"var": ["a", {"var": "b"}]}, {"a", "b"}),
        ({"var": 1}, {"1"}),
        ({"var": ""}, set()),
        ({"var": {"cat": ["row.", {"var": "i"}]}}, {"i"}),
        ({"missing": ["a", "b.c"]}, {"a", "b.c"}),
        ({"missing": "a"}, {"a"}),
        ({"missing_some": [1, ["phone", "email"]]}, {"phone", "email"}),
        (
            {"missing": {"merge": ["vin", {"if": [{"var": "financing"}, ["apr", "term"], []]}]}},
            {"vin", "financing", "apr", "term"},
        ),
        ({"map": [{"var": "children"}, {"var": "age"}]}, {"children"}),
        (
            {"reduce": [{"var": "items"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]},
            {"items"},
        ),
        (GOOD_RULE, {"applicant.type", "uscc"}),
    ],
)
def test_referenced_vars_lists_the_data_paths_a_rule_reads(rule: Any, paths: set[str]) -> None:
    assert referenced_vars(rule) == paths


# --- The server and the browser agree (json-logic-js under Node) ---

_NODE_RUNNER = """
const jsonLogic = require(process.argv[1]);
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(cases.map(([rule, data]) => {
  try {
    const text = JSON.stringify(jsonLogic.apply(rule, data));
    return {value: text === undefined ? null : JSON.parse(text)};
  } catch (error) {
    return {error: String(error && error.message)};
  }
})));
"""


def _browser_outcomes(cases: list[tuple[Any, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node") or "/usr/bin/node"
    if not Path(node).exists():
        pytest.fail("node is needed to check the server against json-logic-js; install nodejs")
    completed = subprocess.run(
        [node, "-e", _NODE_RUNNER, str(JSON_LOGIC_JS)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(completed.stdout)


def _disagreements(cases: list[tuple[Any, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    found = []
    for (rule, data), browser in zip(cases, _browser_outcomes(cases), strict=True):
        server = _outcome(rule, data)
        if "error" in server and "error" in browser:
            continue
        if _canonical(server) != _canonical(browser):
            found.append((rule, data, server, browser))
    return found


_VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 0.5, -2.5, 1e21, 1e-7,
    "", " ", "0", "-1", "2.5", "0x10", "abc", "12abc", "张三", "𠮷野家",
    [], [None], [1], ["a", "b"], {"var": "blank"}, {"var": "list"}, {"var": "absent"},
]  # fmt: skip
_DATA = {"blank": "", "list": [1, "1", None], "1": "one", "a": {"b": None}}


def _operator_matrix() -> list[tuple[Any, Any]]:
    """Every value operator on every pair of awkward values, plus scoped operators on each."""
    binary = sorted(OPERATORS - {"if", "?:", "and", "or", "map", "filter", "reduce"})
    cases: list[tuple[Any, Any]] = []
    for op in binary:
        cases += [({op: [a, b]}, _DATA) for a, b in itertools.product(_VALUES, repeat=2)]
        cases += [({op: a}, _DATA) for a in _VALUES]
    for op in ["<", "<=", "substr", "if", "and", "or"]:
        cases += [({op: list(abc)}, _DATA) for abc in itertools.product(_VALUES[::2], repeat=3)]
    for op, item_rule in itertools.product(
        ["map", "filter", "all", "some", "none", "reduce"],
        [{"var": ""}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, {"var": "a.b"}],
    ):
        cases += [({op: [a, item_rule]}, _DATA) for a in _VALUES]
    for key in ["a", "a.b", "a.b.c", 1, 1.5, "list.0", "list.01", "list.length", "1.length"]:
        cases += [({"var": [key, "default"]}, _DATA), ({"missing_some": [1, [key, "x"]]}, _DATA)]
    return [(rule, data) for rule, data in cases if not check_rule(rule)]


def test_json_logic_js_agrees_on_every_official_case() -> None:
    assert _disagreements([(rule, data) for rule, data, _ in _load_cases(OFFICIAL)]) == []


def test_json_logic_js_agrees_on_every_golden_case() -> None:
    assert _disagreements([(rule, data) for rule, data, _ in _load_cases(GOLDEN)]) == []


def test_json_logic_js_agrees_on_every_checked_rule_of_the_operator_matrix() -> None:
    cases = _operator_matrix()
    assert len(cases) > 20_000
    assert _disagreements(cases) == []


def _library_outcome(rule: Any, data: Any) -> dict[str, Any]:
    from json_logic import jsonLogic

    from tongban.forms import logic

    try:
        return {"value": logic._to_json(jsonLogic(rule, data, logic._OPERATIONS))}  # noqa: SLF001
    except (ReferenceError, TypeError, ValueError, OverflowError, RecursionError) as exc:
        return {"error": type(exc).__name__}


def test_operators_applied_directly_give_the_evaluators_results() -> None:
    """An operator on answers and constants is applied without the evaluator's walk
    (logic._direct_form): on every such rule of the official file and the operator matrix,
    the result (or the error) is the evaluator's own."""
    from tongban.forms import logic

    cases = [(rule, data) for rule, data, _ in _load_cases(OFFICIAL)] + _operator_matrix()
    direct = [(rule, data) for rule, data in cases if logic._direct_form(rule) is not None]  # noqa: SLF001
    assert len(direct) > 10_000  # most of the matrix, and the official cases of that shape
    assert logic._direct_form({"==": [{"var": "event.category"}, "environment"]})  # noqa: SLF001
    assert logic._direct_form({"!": {"var": "reporter.anonymous"}})  # noqa: SLF001
    assert logic._direct_form({"if": [{"var": "a"}, 1, 2]}) is None  # noqa: SLF001
    assert logic._direct_form({"==": [{"+": [1, 1]}, 2]}) is None  # noqa: SLF001
    differences = []
    for rule, data in direct:
        try:
            mine = {"value": logic._to_json(logic._direct_form(rule)(data))}  # noqa: SLF001
        except (ReferenceError, TypeError, ValueError, OverflowError, RecursionError) as exc:
            mine = {"error": type(exc).__name__}
        if _canonical(mine) != _canonical(_library_outcome(rule, data)):
            differences.append((rule, data, mine))
    assert differences == []
