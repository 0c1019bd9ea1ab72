import pytest

from tongban.extend.manager import connector_types
from tongban.plugin_api import ConnectorError
from tongban.testkit import health_of
from tongban.workflow import hooks

QUERY = {"match": {"id_number": ":id_number"}, "limit": 1}


def test_the_platform_offers_the_csv_connector_type(tongban_manager):
    assert list(connector_types(tongban_manager)) == ["csv"]


def test_a_lookup_finds_the_person_by_a_bound_parameter(tongban_manager, people):
    csv_type = connector_types(tongban_manager)["csv"]
    connector = csv_type.open({"file": str(people), "department": {"en": "Example registry"}}, {})
    result = connector.fetch("by_id", QUERY, {"id_number": "310104198512120036"}, timeout=1)
    assert result.rows == [{"id_number": "310104198512120036", "name": "李强",
                            "district": "徐汇区"}]
    assert result.source == "Example registry"
    injected = connector.fetch("by_id", QUERY, {"id_number": "' OR '1'='1"}, timeout=1)
    assert injected.rows == []
    connector.close()


def test_a_missing_parameter_and_a_missing_file_are_permanent_errors(tongban_manager, tmp_path):
    csv_type = connector_types(tongban_manager)["csv"]
    connector = csv_type.open({"file": str(tmp_path / "gone.csv")}, {})
    with pytest.raises(ConnectorError, match="no value for :id_number") as missing:
        connector.fetch("by_id", QUERY, {}, timeout=1)
    assert missing.value.transient is False
    with pytest.raises(ConnectorError, match="no file") as gone:
        connector.fetch("by_id", QUERY, {"id_number": "1"}, timeout=1)
    assert gone.value.transient is False
    connector.close()


def test_health_shows_a_file_that_went_away(tongban_app, tongban_manager, people):
    csv_type = connector_types(tongban_manager)["csv"]
    connector = csv_type.open({"file": str(people)}, {})
    assert health_of(tongban_app, "example_connector").state == "ok"
    people.unlink()
    status = health_of(tongban_app, "example_connector")
    assert status.state == "down" and status.report.detail == f"no file {people}"
    connector.close()
    assert health_of(tongban_app, "example_connector").report is None  # nothing open


def test_the_service_step_call_is_registered(tongban_app, people):
    lookup = hooks.get("example.lookup")
    assert lookup({"options": {"file": str(people), "match": {"name": "王芳"}}})["row"][
        "district"] == "东城区"
    assert lookup({"options": {"file": str(people), "match": {"name": "张三"}}}) == {
        "found": False, "row": {}}


def test_the_plugins_command_lists_the_plugin(tongban_cli):
    result = tongban_cli("plugins")
    assert result.exit_code == 0
    assert "example_connector 0.1.0 (app setting PLUGINS)" in result.output
    assert "tongban_connector_types, tongban_health, tongban_service_hooks" in result.output
