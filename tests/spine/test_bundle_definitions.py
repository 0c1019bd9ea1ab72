"""Issue 17 item 8: a 一件事 bundle file is checked at load against the services beside it;
each problem names the file, the line and what is wrong, and the bundle is not loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from tongban.definitions import load_directory
from tongban.definitions.bundles import dependency_cycle

from .definition_files import edit

BUNDLE = "workflow_definitions/bundles/newborn.yaml"


def line_of(root: Path, needle: str) -> int:
    lines = (root / BUNDLE).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


BAD_BUNDLES = [
    ("unknown service",
     "  - service: newborn-household\n", "  - service: newborn-hukou\n", "service: newborn-hukou",
     14, '/services/1/service unknown service "newborn-hukou": no service file has this code '
         "(services: birth-certificate, enterprise-credit, household-transfer, newborn-household, "
         "residence-points, social-security-card, urban-event-report)"),
    ("a dependency cycle",
     "  - service: birth-certificate\n",
     "  - service: birth-certificate\n    needs: [social-security-card]\n",
     "needs: [social-security-card]", 5,
     "/services/0/needs the services depend on one another in a cycle: birth-certificate → "
     "social-security-card → birth-certificate; a sub-service can only need services that do "
     "not need it"),
    ("a need outside the bundle",
     "needs: [birth-certificate, newborn-household]", "needs: [birth-certificate, household-transfer]",
     "household-transfer]", 32,
     '/services/2/needs/1 "social-security-card" needs "household-transfer", which is not a '
     "service of this bundle"),
    ("a shared answer no form asks",
     "shared: [child.name,", "shared: [child.nickname, child.name,", "shared: [child.nickname", 10,
     '/shared/0 the shared answer "child.nickname" is not a question of the form '
     '"birth-certificate" of the service "birth-certificate"'),
    ("a pre-check reading what is not shared",
     "{var: mother.id_number}", "{var: father.id_number}", "  rule:", 3,
     '/precheck/rule the pre-check reads "father.id_number", which is not a shared answer'),
]


@pytest.mark.parametrize(("what", "old", "new", "needle", "column", "message"), BAD_BUNDLES,
                         ids=[case[0] for case in BAD_BUNDLES])
def test_a_wrong_bundle_file_is_refused_with_file_and_line(
        defs_copy: Path, what: str, old: str, new: str, needle: str, column: int,
        message: str) -> None:
    edit(defs_copy, BUNDLE, old, new)
    result = load_directory(defs_copy)
    line = line_of(defs_copy, needle)
    found = [str(p) for p in result.problems]
    assert found[0] == f"{BUNDLE}:{line}:{column}: at {message}", found
    assert "newborn" not in result.bundles
    assert set(result.services) >= {"birth-certificate", "newborn-household"}  # nothing else


def test_a_missing_shared_answer_is_named_for_each_service_whose_form_lacks_it(
        defs_copy: Path) -> None:
    edit(defs_copy, BUNDLE, "shared: [child.name,", "shared: [household.address, child.name,")
    result = load_directory(defs_copy)
    assert [p.params["service"] for p in result.problems if p.params] == [
        "birth-certificate", "social-security-card"]


def test_a_bundle_whose_service_has_problems_of_its_own_says_nothing_more(
        defs_copy: Path) -> None:
    edit(defs_copy, "workflow_definitions/newborn-household.yaml", "promised_days: 5",
         "promised_days: five")
    result = load_directory(defs_copy)
    assert [p.file for p in result.problems] == ["workflow_definitions/newborn-household.yaml"]
    assert result.bundles == {}


def test_the_shipped_bundle_loads() -> None:
    from tongban import PROJECT_ROOT

    result = load_directory(PROJECT_ROOT)
    assert result.bundles["newborn"].content["services"][2] == {
        "service": "social-security-card", "needs": ["birth-certificate", "newborn-household"]}


@pytest.mark.parametrize(("needs", "cycle"), [
    ({"a": [], "b": ["a"], "c": ["a", "b"]}, None),
    ({"a": ["a"]}, ["a", "a"]),
    ({"a": ["c"], "b": ["a"], "c": ["b"]}, ["a", "c", "b", "a"]),
])
def test_dependency_cycles_are_found(needs: dict[str, list[str]], cycle: list[str] | None) -> None:
    assert dependency_cycle(needs) == cycle
