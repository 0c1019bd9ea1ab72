"""A definition names a plugin's offering by identifier, with options in the plugin's own
schema: an unknown identifier, options the schema refuses and what the plugin's check finds
are load errors with file:line (tongban.definitions.pluginrefs)."""

from __future__ import annotations

from tongban.definitions.pluginrefs import check_problems, options_problems, unknown_plugin
from tongban.definitions.yamlpos import read_yaml

FILE = "workflow_definitions/household-transfer.yaml"
SERVICE = """\
code: household-transfer
connectors:
  people:
    type: csv
    options:
      file: ../registers/people.csv
      colour: blue
    queries:
      by_id:
        match: {id_number: "id_number"}
      twice:
        match: {id_number: ":id", name: ":id"}
"""


def test_an_unknown_identifier_names_the_file_line_and_what_is_installed() -> None:
    document = read_yaml(SERVICE.replace("type: csv", "type: cvs"))
    problem = unknown_plugin(document, FILE, ["connectors", "people", "type"], "cvs",
                             ["sql", "csv"], "connector type")
    assert str(problem) == (f"{FILE}:4:11: at /connectors/people/type unknown connector type "
                            '"cvs"; installed plugins offer: csv, sql')


def test_options_are_checked_against_the_plugin_s_schema_with_lines() -> None:
    from tongban_example_connector import OPTIONS_SCHEMA, QUERY_SCHEMA

    document = read_yaml(SERVICE)
    found = options_problems(document, FILE, ["connectors", "people", "options"], OPTIONS_SCHEMA)
    assert [str(p) for p in found] == [
        f"{FILE}:7:15: at /connectors/people/options/colour unknown key \"colour\"; expected "
        "one of: department, file"]
    query = options_problems(document, FILE, ["connectors", "people", "queries", "by_id"],
                             QUERY_SCHEMA)
    assert [str(p) for p in query] == [
        f"{FILE}:10:28: at /connectors/people/queries/by_id/match/id_number the value "
        '"id_number" does not match ^:[a-z_][a-z0-9_]*$']


def test_what_the_plugin_s_own_check_finds_gets_lines_too() -> None:
    from tongban_example_connector import check

    document = read_yaml(SERVICE)
    block = document.data["connectors"]["people"]
    found = check_problems(document, FILE, ["connectors", "people"],
                           check(block["options"], block["queries"]))
    assert [str(p) for p in found] == [
        f"{FILE}:6:13: at /connectors/people/options/file the file must not lie outside the "
        "definitions folder (no ..)",
        f"{FILE}:12:9: at /connectors/people/queries/twice/match two columns are matched to "
        "the same parameter"]


def test_a_plugin_whose_schema_is_broken_is_named_not_crashed_on() -> None:
    document = read_yaml(SERVICE)
    [problem] = options_problems(document, FILE, ["connectors", "people", "options"],
                                 {"type": "objekt"}, owner="plugin 'broken'")
    assert problem.line == 5 and problem.message.startswith(
        "plugin 'broken''s options schema is not valid JSON Schema")
