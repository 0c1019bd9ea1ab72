"""The shipped Shanghai rule set and answers in the residence-points form's shape, for the
points tests. Every case starts from BASE (45 points: age 30, SI 5 years 15) and changes what
it tests."""

from __future__ import annotations

import copy
from datetime import date
from functools import cache
from typing import Any

from tongban import PROJECT_ROOT
from tongban.definitions.yamlpos import read_yaml
from tongban.points import RuleSet, compile_rules

SHANGHAI_FILE = PROJECT_ROOT / "workflow_definitions/rules/sh-residence-points.yaml"
AS_OF = date(2026, 12, 2)


@cache
def _shanghai_text_data() -> dict[str, Any]:
    return read_yaml(SHANGHAI_FILE.read_text(encoding="utf-8")).data


def shanghai_content() -> dict[str, Any]:
    """The file's data, a copy of its own (parsed once: ruamel is slow)."""
    return copy.deepcopy(_shanghai_text_data())


def shanghai(**parameters: Any) -> RuleSet:
    """The Shanghai rule set, with some parameters set otherwise."""
    content = shanghai_content()
    for name, value in parameters.items():
        content["parameters"][name]["value"] = value
    return compile_rules(content)


BASE: dict[str, Any] = {
    "applicant": {"name": "张三", "birth_date": "1990-05-01"},
    "education": {"level": "none"},
    "qualification": {"kind": "none"},
    "social_insurance": {"months": 60, "base_band": "below_0_8"},
    "record": {"serious_crime": False},
}


def answers(**changes: dict[str, Any]) -> dict[str, Any]:
    """BASE with the given sections updated: answers(education={"level": "master"})."""
    result = copy.deepcopy(BASE)
    for section, values in changes.items():
        result.setdefault(section, {}).update(values)
    return result


def born(day: str) -> dict[str, Any]:
    return answers(applicant={"birth_date": day})
