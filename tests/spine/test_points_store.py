"""Rule sets as published definitions: `defs publish` stores them (kind "rules"), `rules_for`
compiles a version once, effective ranges of one rule set never overlap, a service names an
existing rule set, and a later version never changes a result scored with an earlier one."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tongban.definitions import load_directory, publish
from tongban.definitions.publish import PublishRefused
from tongban.models import DefinitionVersion
from tongban.points import UnknownRuleSet, evaluate, published_rule_sets, rules_for

from .definition_files import edit

RULES = "workflow_definitions/rules/sh-residence-points.yaml"
ANSWERS = {"applicant": {"birth_date": "1990-05-01"}, "education": {"level": "bachelor_degree"},
           "qualification": {"kind": "none"},
           "social_insurance": {"months": 60, "base_band": "1_to_2", "base_months": 36},
           "record": {"serious_crime": False}}


def line_of(root: Path, relative: str, needle: str) -> int:
    lines = (root / relative).read_text(encoding="utf-8").splitlines()
    return next(i for i, text in enumerate(lines, 1) if needle in text)


def rule_versions(session) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(DefinitionVersion)
                          .where(DefinitionVersion.kind == "rules"))


def test_publishing_stores_the_rule_set_and_rules_for_compiles_it_once(
        defs_copy: Path, session) -> None:  # type: ignore[no-untyped-def]
    publish(session, load_directory(defs_copy), author="ops")
    session.commit()
    rule_set = rules_for(session, "sh-residence-points")
    assert (rule_set.id, rule_set.version, rule_set.threshold) == ("sh-residence-points", 1, 120)
    assert rules_for(session, "sh-residence-points") is rule_set
    assert [(r.id, r.versions, r.name["zh"]) for r in published_rule_sets(session)] == [
        ("sh-residence-points", [1], "上海市居住证积分")]
    with pytest.raises(UnknownRuleSet) as caught:
        rules_for(session, "sh-credit")
    assert str(caught.value) == ('unknown rule set "sh-credit"; published rule sets: '
                                 "sh-residence-points")


def test_a_later_version_never_changes_a_result_scored_with_an_earlier_one(
        defs_copy: Path, session) -> None:  # type: ignore[no-untyped-def]
    publish(session, load_directory(defs_copy), author="ops")
    session.commit()
    first = rules_for(session, "sh-residence-points")
    first_id = session.scalars(select(DefinitionVersion.id).where(
        DefinitionVersion.kind == "rules")).one()
    stored = json.loads(json.dumps(evaluate(first, ANSWERS, date(2026, 12, 2)).to_json()))
    assert stored["total"] == 30 + 90 + 15 + 50

    edit(defs_copy, RULES, "bachelor_degree: {points: 90,", "bachelor_degree: {points: 95,")
    publish(session, load_directory(defs_copy), author="ops", comment="2026 correction")
    session.commit()
    latest = rules_for(session, "sh-residence-points")
    assert latest.version == 2
    assert evaluate(latest, ANSWERS, date(2026, 12, 2)).total == 30 + 95 + 15 + 50
    again = rules_for(session, "sh-residence-points", first_id)
    assert again.version == 1
    assert evaluate(again, ANSWERS, date(2026, 12, 2)).to_json() == stored


def test_an_effective_range_overlapping_a_published_version_is_refused(
        defs_copy: Path, session) -> None:  # type: ignore[no-untyped-def]
    publish(session, load_directory(defs_copy), author="ops")
    session.commit()
    edit(defs_copy, RULES, "effective: {from: 2026-01-01}", "effective: {from: 2027-01-01}")
    with pytest.raises(PublishRefused) as caught:
        publish(session, load_directory(defs_copy), author="ops")
    assert [str(p) for p in caught.value.problems] == [
        f"{RULES}:{line_of(defs_copy, RULES, 'effective:')}:19: at /effective the effective "
        "range 2027-01-01 to open-ended overlaps published version 1 (2026-01-01 to "
        "open-ended); give the earlier version an end date or start this one later"]
    session.rollback()
    assert rule_versions(session) == 1

    # The way through: end the 2026 version (a correction: it starts on the same day), then
    # publish 2027.
    edit(defs_copy, RULES, "effective: {from: 2027-01-01}",
         "effective: {from: 2026-01-01, to: 2026-12-31}")
    publish(session, load_directory(defs_copy), author="ops", comment="2026 ends")
    edit(defs_copy, RULES, "effective: {from: 2026-01-01, to: 2026-12-31}",
         "effective: {from: 2027-01-01}")
    publish(session, load_directory(defs_copy), author="ops", comment="2027 rules")
    session.commit()
    assert rule_versions(session) == 3
    assert rules_for(session, "sh-residence-points").effective_from == date(2027, 1, 1)


def test_a_service_naming_an_unknown_rule_set_is_refused(defs_copy: Path) -> None:
    edit(defs_copy, "workflow_definitions/residence-points.yaml",
         "rules: sh-residence-points", "rules: sh-points")
    line = line_of(defs_copy, "workflow_definitions/residence-points.yaml", "rules: sh-points")
    problems = [str(p) for p in load_directory(defs_copy).problems]
    assert problems == [
        f"workflow_definitions/residence-points.yaml:{line}:8: at /rules the rule set \"sh-points\" "
        "does not exist: expected workflow_definitions/rules/sh-points.yaml (rule sets: "
        "sh-residence-points)"]


def test_a_rules_file_whose_id_is_not_its_name_is_refused(defs_copy: Path) -> None:
    edit(defs_copy, RULES, "id: sh-residence-points", "id: sh-points")
    result = load_directory(defs_copy)
    assert [str(p) for p in result.problems] == [
        f'{RULES}:4:5: at /id the id "sh-points" differs from the file name '
        '"sh-residence-points"; expected the same']
    assert result.rules == {}


def test_defs_check_reports_a_bad_rules_file(defs_copy: Path, cli) -> None:  # type: ignore[no-untyped-def]
    edit(defs_copy, RULES, "      - {min: 44, max: 44, points: 29}",
         "      - {min: 43, max: 44, points: 29}")
    line = line_of(defs_copy, RULES, "{min: 43, max: 44")
    result = cli("defs", "check", str(defs_copy))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{RULES}:{line}:9: at /indicators/0/bands/1 the band from 43 overlaps the band 0 to 43 "
        "(band 1)",
        "1 problem(s) found; fix them before publishing."]
