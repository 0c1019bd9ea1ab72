"""The JSON Schemas the core validates a `type: sql` connector's options and queries against."""

from __future__ import annotations

from typing import Any

from tongban.plugin_api import FIELD_PATH, TEXTS_SCHEMA
from tongban.plugin_api import SETTING_NAME as NAME

OPTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["database_setting", "department"],
    "properties": {
        "database_setting": {
            "type": "string", "pattern": NAME,
            "description": "Key in the CONNECTOR_SETTINGS setting whose value is the database URL "
                           "(e.g. mysql+pymysql://user:password@host:3306/db)"},
        "department": TEXTS_SCHEMA,
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 60,
                    "description": "Seconds one statement may run (default 5)"},
        "max_rows": {"type": "integer", "minimum": 1, "maximum": 1000,
                     "description": "Most rows any query of this connector returns (default 100)"},
        "pool_size": {"type": "integer", "minimum": 1, "maximum": 20},
    },
}

QUERY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["sql", "params", "fields"],
    "properties": {
        "sql": {"type": "string", "minLength": 1,
                "description": "One SELECT with :name parameters"},
        "params": {"type": "object", "minProperties": 1,
                   "propertyNames": {"pattern": NAME},
                   "additionalProperties": {"type": "string", "pattern": FIELD_PATH},
                   "description": "Parameter name -> the form field whose answer it is bound to"},
        "max_rows": {"type": "integer", "minimum": 1, "maximum": 1000},
        "fields": {"type": "object", "minProperties": 1,
                   "propertyNames": {"pattern": NAME},
                   "additionalProperties": {"type": "string", "pattern": FIELD_PATH},
                   "description": "Result column -> the form field it fills or is compared with"},
        "title": TEXTS_SCHEMA,
    },
}
