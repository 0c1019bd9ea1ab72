"""The flow conformance suite: every script in tests/flows/ runs on the test bench and its trace
equals the hand-written expectation beside it (docs/flows.md, "Conformance suite")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tongban.workflow.testbench import first_difference, load_script, read_expected, run_script

ROOT = Path(__file__).resolve().parents[2]
FLOWS = ROOT / "tests" / "flows"
SCRIPTS = sorted(FLOWS.glob("*.yaml"))
# The M1 control-flow patterns of workflow-anchors §2.1 that the format supports.
M1_PATTERNS = (1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 16, 19, 20, 21, 24, 25, 26, 27, 34, 35, 43)


def expected_of(script: Path) -> Path:
    return script.with_name(script.name.removesuffix(".yaml") + ".expected.jsonl")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.stem)
def test_the_trace_is_the_expected_one(script: Path) -> None:
    difference = first_difference(run_script(script), read_expected(expected_of(script)))
    assert difference is None, f"{script.name}: {difference}"


def test_every_script_has_an_expected_trace_and_a_title() -> None:
    assert len(SCRIPTS) >= 50
    for script in SCRIPTS:
        assert expected_of(script).is_file(), script.name
        assert load_script(script).data.get("title"), script.name
    leftovers = {p.name for p in FLOWS.glob("*.expected.jsonl")} - {expected_of(s).name
                                                                    for s in SCRIPTS}
    assert leftovers == set()


def test_every_m1_pattern_has_a_script_and_a_line_in_the_guide() -> None:
    names = {script.stem for script in SCRIPTS}
    guide = (ROOT / "docs" / "flows.md").read_text("utf-8")
    for number in M1_PATTERNS:
        assert any(name.startswith(f"wcp-{number:02d}-") for name in names), number
        assert re.search(rf"^\| {number} \|", guide, re.M), number
    for name in names:
        assert f"`{name}`" in guide, f"{name} is not listed in docs/flows.md"
