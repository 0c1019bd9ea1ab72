"""Issue 15 item 3: a service's `connectors:` block is checked at load against the plugin's
connector type: SQL built from strings, a parameter used but not declared (or declared but not
used), an unknown type or question: each a load error with file:line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from tongban_http_connector import HTTP
from tongban_sql_connector import SQL

from tongban import PROJECT_ROOT
from tongban.definitions.loader import load_directory

SERVICE = "workflow_definitions/household-transfer.yaml"
TYPES = {"sql": SQL, "http": HTTP}  # enterprise-credit reads the e-licence service
GOOD_SQL = ("SELECT name, household_address, region_code\n"
            "          FROM people WHERE id_number = :id_number")


@pytest.fixture
def defs(tmp_path: Path) -> Path:
    root = tmp_path / "defs"
    for folder in ("workflow_definitions", "form_definitions"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder)
    return root


def _replace(root: Path, old: str, new: str) -> int:
    """Edit the service file; the 1-based line where ``new`` starts."""
    path = root / SERVICE
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return text[:text.index(new)].count("\n") + 1


def _problems(root: Path) -> list[str]:
    return [str(p) for p in load_directory(root, connector_types=TYPES).problems]


def test_the_shipped_household_transfer_connectors_load() -> None:
    result = load_directory(PROJECT_ROOT, connector_types=TYPES)
    assert result.ok, [str(p) for p in result.problems]
    assert result.services["household-transfer"].content["connectors"]["population"]["type"] == "sql"


def test_the_example_in_docs_connectors_md_loads(defs: Path) -> None:
    example = _doc_blocks()[0]
    path = defs / SERVICE
    text = path.read_text(encoding="utf-8")
    start = text.index("connectors:\n")
    end = text.index("\nsettings:")
    path.write_text(text[:start] + example + text[end + 1:], encoding="utf-8")
    assert _problems(defs) == []


@pytest.mark.parametrize(("sql", "message"), [
    ("SELECT name FROM people WHERE id_number = '{id_number}' AND 1 = :id_number",
     "the SQL contains { or }: values must not be formatted into the text; use :name parameters"),
    ("SELECT name FROM people WHERE id_number = %(id_number)s OR id_number = :id_number",
     "the SQL contains a %-format placeholder: use :name parameters"),
    ("SELECT name FROM people WHERE id_number = ? OR id_number = :id_number",
     "the SQL contains a ? placeholder: use :name parameters"),
    ("SELECT name FROM people WHERE household_address LIKE '%' || :id_number",
     "the SQL joins a parameter to other text with || or +: bind the whole value as one :name "
     "parameter"),
    ("SELECT name FROM people WHERE id_number = :id_number; DELETE FROM people",
     "the SQL must be one statement (no ; between statements)"),
    ("DELETE FROM people WHERE id_number = :id_number",
     "the SQL must be one SELECT (or WITH ... SELECT) statement"),
    ("SELECT name FROM people WHERE id_number = :id_number AND sex = :sex",
     'the SQL uses the parameter :sex, which "params" does not declare'),
    ("SELECT name FROM people WHERE id_number = ':id_number'",
     'the parameter "id_number" is declared but the SQL never uses :id_number'),
])
def test_sql_built_from_strings_or_with_stray_parameters_is_a_load_error_at_its_line(
        defs: Path, sql: str, message: str) -> None:
    line = _replace(defs, GOOD_SQL, sql) - 1  # the line of `sql: >-`
    problems = _problems(defs)
    assert problems[0].startswith(f"{SERVICE}:{line}:14:") and problems[0].endswith(message), problems
    assert "/connectors/population/queries/person/sql" in problems[0]


def test_an_unknown_connector_type_is_a_load_error_naming_the_known_ones(defs: Path) -> None:
    line = _replace(defs, "type: sql", "type: oracle")
    assert _problems(defs) == [
        f'{SERVICE}:{line}:11: at /connectors/population/type unknown connector type "oracle" '
        "(types: http, sql)"]


def test_bad_options_are_checked_against_the_types_schema(defs: Path) -> None:
    line = _replace(defs, "database_setting: demo_registers_url", "database_url: mysql://x")
    problems = _problems(defs)
    assert any(f"{SERVICE}:{line - 1}:" in p or f"{SERVICE}:{line}:" in p for p in problems), problems
    assert any('missing required key "database_setting"' in p for p in problems), problems


def test_a_question_the_form_does_not_have_and_a_use_naming_no_query_are_load_errors(
        defs: Path) -> None:
    line = _replace(defs, "name: applicant.name\n", "name: applicant.full_name\n")
    use = _replace(defs, "verify: [person]", "verify: [people]")
    assert _problems(defs) == [
        f'{SERVICE}:{use}:14: at /connectors/population/verify/0 "people" is not a query of '
        "this connector (queries: person)",
        f'{SERVICE}:{line}:17: at /connectors/population/queries/person/fields/name '
        'the form has no question "applicant.full_name"']


def _doc_blocks() -> list[str]:
    docs = (PROJECT_ROOT / "docs" / "connectors.md").read_text(encoding="utf-8")
    return re.findall(r"```yaml\n(connectors:\n.*?)```", docs, re.S)


def test_the_shipped_residence_points_block_is_the_documented_one_and_answers_its_questions(
        registers_url: str) -> None:
    from tongban_sql_connector.connector import open_connector
    from tongban_sql_connector.demo_registers import FIRST_ID_NUMBER

    block = _doc_blocks()[1]
    shipped = (PROJECT_ROOT / "workflow_definitions/residence-points.yaml").read_text(
        encoding="utf-8")
    assert block in shipped  # the page shows what the service ships
    result = load_directory(PROJECT_ROOT, connector_types=TYPES)
    assert result.ok, [str(p) for p in result.problems]

    insurance = result.services["residence-points"].content["connectors"]["insurance"]
    opened = open_connector(insurance["options"], {"demo_registers_url": registers_url})
    try:
        query = insurance["queries"]["contributions"]
        found = opened.fetch("contributions", query, {"id_number": FIRST_ID_NUMBER}, timeout=3)
        nobody = opened.fetch("contributions", query, {"id_number": "110101200001010000"},
                              timeout=3)
    finally:
        opened.close()
    # 张三: 48 months on a base of 9000.00, below 0.8 x 12,183
    assert found.rows == [{"months": 48, "base_months": 48, "base_band": "below_0_8"}]
    assert nobody.rows == []


def test_the_household_transfer_insurance_query_finds_the_latest_employer(
        registers_url: str) -> None:
    from tongban_sql_connector.connector import open_connector
    from tongban_sql_connector.demo_registers import FIRST_ID_NUMBER, employers

    docs = (PROJECT_ROOT / "docs" / "connectors.md").read_text(encoding="utf-8")
    [block] = re.findall(r"```yaml\n(  insurance:\n.*?)```", docs, re.S)
    shipped = (PROJECT_ROOT / SERVICE).read_text(encoding="utf-8")
    assert block in shipped  # the page shows what the service ships
    result = load_directory(PROJECT_ROOT, connector_types=TYPES)
    insurance = result.services["household-transfer"].content["connectors"]["insurance"]
    opened = open_connector(insurance["options"], {"demo_registers_url": registers_url})
    try:
        query = insurance["queries"]["employment"]
        found = opened.fetch("employment", query, {"id_number": FIRST_ID_NUMBER}, timeout=3)
        nobody = opened.fetch("employment", query, {"id_number": "110101200001010000"},
                              timeout=3)
    finally:
        opened.close()
    uscc, name = employers()[0]
    assert found.rows == [{"employer": name, "employer_uscc": uscc, "months": 48}]
    assert nobody.rows == []
