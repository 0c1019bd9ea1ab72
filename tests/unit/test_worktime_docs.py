"""The examples of docs/calendars.md are true: the calendar example checks clean and every
counting example gives the result it shows."""

from __future__ import annotations

import re
from datetime import date, datetime

from tongban import PROJECT_ROOT
from tongban.definitions.loader import calendar_schema_problems
from tongban.definitions.yamlpos import read_yaml
from tongban.worktime import (
    Period,
    add_working_days,
    due_at,
    file_calendar,
    natural_days_end,
    working_days_between,
)
from tongban.worktime.check import check_documents
from tongban.worktime.files import catalogue_regions

DOC = (PROJECT_ROOT / "docs" / "calendars.md").read_text("utf-8")


def block(kind: str) -> str:
    found = re.findall(rf"```{kind}\n(.*?)```", DOC, re.S)
    assert len(found) == 1
    return found[0]


def test_the_calendar_example_checks_clean() -> None:
    compiled, problems = check_documents(
        [("example.yaml", "cn", read_yaml(block("yaml calendar-example")))],
        schema=calendar_schema_problems, regions=catalogue_regions())
    assert problems == []
    assert compiled["cn"].holidays[date(2026, 7, 20)] == "台风停工"


def test_every_counting_example() -> None:
    lines = [line for line in block("text worktime-examples").splitlines() if line.strip()]
    assert len(lines) >= 10
    for line in lines:
        call, expected = line.split(" = ")
        name, *args = call.split()
        if name == "add_working_days":
            got = add_working_days(file_calendar(args[0]), date.fromisoformat(args[1]), int(args[2]))
        elif name == "working_days_between":
            got = working_days_between(file_calendar(args[0]), date.fromisoformat(args[1]),
                                       date.fromisoformat(args[2]))
        elif name == "natural_days_end":
            got = natural_days_end(date.fromisoformat(args[0]), int(args[1]))
        else:
            assert name == "due_at", line
            got = due_at(file_calendar(args[0]), Period(args[1], int(args[2])),
                         datetime.fromisoformat(args[3]))
        shown = got if isinstance(got, int) else got.isoformat()
        assert str(shown) == expected, line
