"""Tongban's `sql` connector type: queries with named parameters only, run read-only against
another department's database (MariaDB/MySQL through PyMySQL, or any SQLAlchemy URL) with a
per-statement time limit and a row limit. The database URL comes from a setting, never from
the service definition."""

from __future__ import annotations

from tongban.plugin_api import ConnectorType, offer_connector_types

from .checks import check
from .connector import open_connector
from .schemas import OPTIONS_SCHEMA, QUERY_SCHEMA

PLUGIN_NAME = "sql"

SQL = ConnectorType(
    id="sql",
    title={"zh": "数据库查询", "en": "Database query"},
    options_schema=OPTIONS_SCHEMA,
    query_schema=QUERY_SCHEMA,
    open=open_connector,
    check=check,
)

tongban_connector_types = offer_connector_types(SQL)


__all__ = ["PLUGIN_NAME", "SQL", "tongban_connector_types"]
