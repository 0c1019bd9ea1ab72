"""Tongban's `http` connector type: another department's JSON API (an e-licence service, 电子证照)
described in the service YAML: method, a URL path template whose placeholders are filled only
from declared parameters (URL-encoded), query-string and JSON-body templates, and a response
mapping with JSON pointers. The base URL and the auth token come from settings, never from
the definition; transient failures are retried with backoff within the call's time limit."""

from __future__ import annotations

from tongban.plugin_api import ConnectorType, offer_connector_types

from .checks import check
from .connector import open_connector
from .schemas import OPTIONS_SCHEMA, QUERY_SCHEMA

PLUGIN_NAME = "http"

HTTP = ConnectorType(
    id="http",
    title={"zh": "接口查询", "en": "HTTP API query"},
    options_schema=OPTIONS_SCHEMA,
    query_schema=QUERY_SCHEMA,
    open=open_connector,
    check=check,
)

tongban_connector_types = offer_connector_types(HTTP)


__all__ = ["HTTP", "PLUGIN_NAME", "tongban_connector_types"]
