"""An example connector plugin, written step by step in docs/plugins.md: a connector type
``csv`` that looks rows up in a CSV file (a stand-in for another department's register), and a
service call ``example.lookup`` a flow's ``service`` node can make with it.

In a service file::

    connectors:
      people:
        type: csv
        options: {file: registers/people.csv, department: {zh: 示例登记处, en: Example registry}}
        queries:
          by_id: {match: {id_number: ":id_number"}, limit: 1}
"""

from __future__ import annotations

import csv
import threading
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tongban.plugin_api import (
    ConnectorError,
    ConnectorType,
    FetchResult,
    HealthReport,
    QueryProblem,
    hookimpl,
)

__version__ = "0.1.0"
PLUGIN_NAME = "example_connector"

# -- start options schema --
OPTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["file"],
    "additionalProperties": False,
    "properties": {
        "file": {"type": "string", "minLength": 1,
                 "description": "the CSV file, relative to the definitions folder"},
        "department": {"type": "object", "additionalProperties": False,
                       "properties": {"zh": {"type": "string"}, "en": {"type": "string"}}},
    },
}
QUERY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["match"],
    "additionalProperties": False,
    "properties": {
        "match": {"type": "object", "minProperties": 1,
                  "additionalProperties": {"type": "string", "pattern": "^:[a-z_][a-z0-9_]*$"}},
        "limit": {"type": "integer", "minimum": 1, "maximum": 100},
    },
}
# -- end options schema --


def _path(options: Mapping[str, Any], settings: Mapping[str, Any]) -> Path:
    path = Path(options["file"])
    return path if path.is_absolute() else Path(settings.get("DEFINITIONS_DIR", ".")) / path


# -- start connector --
class CsvConnector:
    """Rows of one CSV file, read once and kept; a lookup matches columns exactly."""

    def __init__(self, path: Path, source: str) -> None:
        self.path, self.source = path, source
        self._rows: list[dict[str, str]] | None = None
        self._lock = threading.Lock()

    def _read(self) -> list[dict[str, str]]:
        with self._lock:
            if self._rows is None:
                try:
                    with self.path.open(encoding="utf-8", newline="") as handle:
                        self._rows = list(csv.DictReader(handle))
                except FileNotFoundError:
                    raise ConnectorError(f"no file {self.path}", transient=False) from None
                except OSError as exc:  # a network share that is away for a moment
                    raise ConnectorError(f"cannot read {self.path}: {exc}", transient=True) from None
            return self._rows

    def fetch(self, query_id: str, query: Mapping[str, Any], params: Mapping[str, Any], *,
              timeout: float) -> FetchResult:
        wanted = {}
        for column, placeholder in query["match"].items():
            name = placeholder[1:]
            if name not in params:
                raise ConnectorError(f"query {query_id}: no value for :{name}", transient=False)
            wanted[column] = str(params[name])
        limit = int(query.get("limit", 100))
        rows = [dict(row) for row in self._read()
                if all(row.get(column) == value for column, value in wanted.items())]
        return FetchResult(rows=rows[:limit], source=self.source)

    def health(self) -> HealthReport:
        if not self.path.is_file():
            return HealthReport("down", f"no file {self.path}")
        return HealthReport("ok", f"{self.path.name} readable")

    def close(self) -> None:
        with self._lock:
            self._rows = None
        _opened.discard(self)
# -- end connector --


_opened: weakref.WeakSet[CsvConnector] = weakref.WeakSet()   # open ones, for the health hook


def open_connector(options: Mapping[str, Any], settings: Mapping[str, Any]) -> CsvConnector:
    department = options.get("department", {})
    connector = CsvConnector(_path(options, settings),
                             department.get("en") or department.get("zh") or "CSV file")
    _opened.add(connector)
    return connector


# -- start check --
def check(options: Mapping[str, Any],
          queries: Mapping[str, Mapping[str, Any]]) -> list[QueryProblem]:
    """What the schemas cannot say: a file outside the definitions folder."""
    problems = []
    if ".." in Path(options["file"]).parts:
        problems.append(QueryProblem(("options", "file"), "the file must not lie outside the "
                                                           "definitions folder (no ..)"))
    for query_id, query in queries.items():
        if len(set(query["match"].values())) < len(query["match"]):
            problems.append(QueryProblem(("queries", query_id, "match"),
                                         "two columns are matched to the same parameter"))
    return problems
# -- end check --


CSV = ConnectorType(id="csv", title={"zh": "CSV 文件", "en": "CSV file"},
                    options_schema=OPTIONS_SCHEMA, query_schema=QUERY_SCHEMA,
                    open=open_connector, check=check)


# -- start hooks --
@hookimpl
def tongban_connector_types() -> list[ConnectorType]:
    return [CSV]


@hookimpl
def tongban_health(settings: dict[str, Any]) -> HealthReport | None:
    if not _opened:
        return None
    down = [c.health() for c in _opened if c.health().state != "ok"]
    return down[0] if down else HealthReport("ok", f"{len(_opened)} CSV file(s) readable")


def lookup(payload: dict[str, Any]) -> dict[str, Any]:
    """A ``service`` node's call: ``options: {file, match: {column: value}}`` -> the first row
    that matches, or ``found: false`` (``file`` absolute, or relative to the worker's folder)."""
    options = payload.get("options", {})
    connector = CsvConnector(Path(options["file"]), "")
    match = {column: f":{column}" for column in options.get("match", {})}
    result = connector.fetch("lookup", {"match": match, "limit": 1},
                             dict(options.get("match", {})), timeout=5)
    return {"found": bool(result.rows), "row": result.rows[0] if result.rows else {}}


@hookimpl
def tongban_service_hooks() -> dict[str, Any]:
    return {"example.lookup": lookup}
# -- end hooks --
