"""The examples of docs/points.md are true: each rule set checks clean and gives the figures and
sentences the page shows."""

from __future__ import annotations

import json
import re
from datetime import date

from tongban import PROJECT_ROOT
from tongban.definitions.yamlpos import read_yaml
from tongban.points import compile_rules, evaluate
from tongban.points.check import check_document

DOC = (PROJECT_ROOT / "docs" / "points.md").read_text("utf-8")


def block(kind: str) -> str:
    found = re.findall(rf"```{kind}\n(.*?)```", DOC, re.S)
    assert len(found) == 1, kind
    return found[0]


def test_the_scorecard_example_gives_what_the_page_shows() -> None:
    document = read_yaml(block("yaml points-example"))
    assert check_document(document, "example.yaml", expected_id="volunteer-points") == []
    result = evaluate(compile_rules(document.data), json.loads(block("json points-answers")),
                      date(2026, 12, 2))
    lines = [line for line in block("text points-expected").splitlines() if line.strip()]
    assert len(lines) >= 10
    for line in lines:
        if " says " in line:
            indicator, sentence = line.split(" says ")
            shown = result.indicator(indicator).explanation
            assert sentence in (shown["zh"], shown["en"]), line
            continue
        name, expected = line.split(" = ")
        if name == "total":
            assert str(result.total) == expected
        elif name == "eligible":
            assert str(result.eligible).lower() == expected
        else:
            item = result.indicator(name)
            points, _, counted = expected.partition(" ")
            assert (str(item.points), item.counted) == (points, counted != "not counted"), line


def test_the_grading_example_gives_grade_b() -> None:
    document = read_yaml(block("yaml points-grading-example"))
    assert check_document(document, "example.yaml", expected_id="supplier-grade") == []
    result = evaluate(compile_rules(document.data),
                      {"delivery": {"on_time_share": 0.9, "defects": 5}}, date(2026, 12, 2))
    assert "78.75: grade B" in DOC
    assert (result.total, result.grade) == (78.75, "B")


def test_the_page_lists_every_indicator_and_parameter_of_the_shanghai_rule_set() -> None:
    content = read_yaml((PROJECT_ROOT / "workflow_definitions/rules/sh-residence-points.yaml")
                        .read_text("utf-8")).data
    for indicator in content["indicators"]:
        assert f"| `{indicator['id']}`" in DOC, indicator["id"]
    for name in content["parameters"]:
        assert f"| `{name}` |" in DOC, name
    for spec in content["inputs"].values():
        if "from" in spec:
            assert spec["from"].split(".", 1)[1] in DOC, spec["from"]
