"""The JSON Schemas the core validates a `type: http` connector's options and queries against."""

from __future__ import annotations

from typing import Any

from tongban.plugin_api import FIELD_PATH
from tongban.plugin_api import SETTING_NAME as NAME
from tongban.plugin_api import TEXTS_SCHEMA as TEXTS

HEADER = "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"   # an HTTP token (RFC 9110)

OPTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["base_url_setting", "department"],
    "properties": {
        "base_url_setting": {
            "type": "string", "pattern": NAME,
            "description": "Key in the CONNECTOR_SETTINGS setting whose value is the API's base URL "
                           "(e.g. https://elicence.example.gov.cn/api/v1)"},
        "auth": {
            "type": "object", "additionalProperties": False, "required": ["header", "token_setting"],
            "properties": {
                "header": {"type": "string", "pattern": HEADER,
                           "description": "The header that carries the token (e.g. X-Auth-Token)"},
                "token_setting": {"type": "string", "pattern": NAME,
                                  "description": "Key in CONNECTOR_SETTINGS whose value is the token"},
                "scheme": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9-]*$",
                           "description": "Put before the token with a space (e.g. Bearer)"}}},
        "department": TEXTS,
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 60,
                    "description": "Seconds one call may take, retries included (default 5)"},
        "retries": {"type": "integer", "minimum": 0, "maximum": 5,
                    "description": "Further attempts after a transient failure (default 2)"},
        "backoff": {"type": "number", "minimum": 0, "maximum": 10,
                    "description": "Seconds before the first retry, doubled for each next (default 0.2)"},
        "max_rows": {"type": "integer", "minimum": 1, "maximum": 1000,
                     "description": "Most rows any query of this connector returns (default 100)"},
        "health_path": {"type": "string", "pattern": "^/",
                        "description": "A path that answers 2xx when the API is up (default: the base URL)"},
    },
}

QUERY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["path", "params", "fields"],
    "properties": {
        "method": {"enum": ["GET", "POST"], "description": "default GET"},
        "path": {"type": "string", "minLength": 1,
                 "description": "Path below the base URL, with {name} placeholders (each fills "
                                "one path segment, URL-encoded)"},
        "query": {"type": "object", "propertyNames": {"minLength": 1},
                  "additionalProperties": {"type": "string"},
                  "description": "Query-string parameters: name -> text with {name} placeholders"},
        "body": {"description": "JSON body template (POST): a string that is exactly {name} is "
                                "replaced by the value, other strings have placeholders filled"},
        "params": {"type": "object", "minProperties": 1,
                   "propertyNames": {"pattern": NAME},
                   "additionalProperties": {"type": "string", "pattern": FIELD_PATH},
                   "description": "Parameter name -> the form field whose answer fills it"},
        "rows": {"type": "string",
                 "description": "JSON pointer to the rows in the answer: a list, or one object "
                                "(one row); nothing or null there is no row (default: the whole "
                                "answer is one row)"},
        "max_rows": {"type": "integer", "minimum": 1, "maximum": 1000},
        "fields": {"type": "object", "minProperties": 1,
                   "additionalProperties": {"type": "string", "pattern": FIELD_PATH},
                   "description": "JSON pointer within a row -> the form field it fills or is "
                                  "compared with"},
        "title": TEXTS,
    },
}
