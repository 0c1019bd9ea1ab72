"""Ledger definition files (kind ``ledger``): the docs' example and the shipped file load; a
wrong file is reported at its file, line and column, and nothing of it is loaded."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tongban import PROJECT_ROOT
from tongban.definitions import load_directory
from tongban.points import ledger

EXAMPLE = re.compile(r"```yaml ledger-example\n(.*?)```", re.S)
SHIPPED = PROJECT_ROOT / "workflow_definitions" / "ledgers" / "shanghai-green-points.yaml"


def _tree(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "workflow_definitions" / "ledgers"
    folder.mkdir(parents=True)
    (folder / f"{name}.yaml").write_text(text, "utf-8")
    return tmp_path


def test_the_example_in_points_md_loads_and_compiles(tmp_path: Path) -> None:
    [text] = EXAMPLE.findall((PROJECT_ROOT / "docs" / "points.md").read_text("utf-8"))
    result = load_directory(_tree(tmp_path, "pudong-sorting-points", text))
    assert result.problems == []
    compiled = ledger.compile_ledger(result.ledgers["pudong-sorting-points"].content)
    assert compiled.example is True
    assert compiled.event_types["recyclables"].points_for(12.5) == 62
    assert (compiled.event_types["sorting_drop_off"].daily_cap,
            compiled.event_types["sorting_drop_off"].monthly_cap) == (20, 300)
    assert compiled.rewards["reusable-bag"].stock == 500


def test_the_shipped_green_points_file_is_an_example_policy() -> None:
    result = load_directory(PROJECT_ROOT)
    compiled = ledger.compile_ledger(result.ledgers["shanghai-green-points"].content)
    assert compiled.example is True
    assert set(compiled.event_types) == {"sorting_drop_off", "recyclables", "volunteering"}


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("id: shanghai-green-points", "id: other-points",
     'workflow_definitions/ledgers/shanghai-green-points.yaml:3:5: at /id the id "other-points" '
     'differs from the file name: expected "shanghai-green-points"'),
    ("    sources: [sorting-station, counter]", "    sources: [sorting-station, police]",
     "workflow_definitions/ledgers/shanghai-green-points.yaml:24:32: at "
     '/event_types/0/sources/1 unknown source "police": expected one of sorting-station, '
     "recycling-station, volunteer-platform, reward-kiosk, counter"),
    ("caps: {daily: 20, monthly: 300}", "caps: {daily: 5, monthly: 300}",
     "workflow_definitions/ledgers/shanghai-green-points.yaml:23:19: at "
     "/event_types/0/caps/daily the daily cap 5 is below the 10 points of one event: no event "
     "could ever be accepted in full"),
    ("  - id: recyclables", "  - id: sorting_drop_off",
     "workflow_definitions/ledgers/shanghai-green-points.yaml:25:9: at /event_types/1/id the "
     'event type "sorting_drop_off" is listed twice'),
    ("caps: {daily: 100}", "caps: {daily: -1}",
     "workflow_definitions/ledgers/shanghai-green-points.yaml:29:19: at "
     "/event_types/1/caps/daily expected a number at least 0"),
])
def test_a_wrong_ledger_file_is_reported_in_place(tmp_path: Path, old: str, new: str,
                                                  expected: str) -> None:
    text = SHIPPED.read_text("utf-8")
    assert old in text
    result = load_directory(_tree(tmp_path, "shanghai-green-points", text.replace(old, new, 1)))
    assert [str(problem) for problem in result.problems] == [expected]
    assert result.ledgers == {}
