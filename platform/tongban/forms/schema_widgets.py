"""Widgets, JSON types, options and field labels for the field tree: the tree builder's pure helpers.

Nothing here resolves ``$ref`` or follows branches; :mod:`tongban.forms.schema_tree` hands these
functions schemas that are already resolved and flattened.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tongban.forms.fields import (
    ANY_WIDGETS,
    CHOICE_WIDGETS,
    FORMAT_ATTRS,
    FORMAT_WIDTHS,
    RADIOS_MAX,
    TEXT_WIDGETS,
    Condition,
    Field,
    Option,
)
from tongban.i18n import N_

YES_NO = (
    Option(True, "true", msgid=N_("Yes")),
    Option(False, "false", msgid=N_("No")),
)


def default_widget(schema: Mapping[str, Any], jtype: str | None, options: tuple[Option, ...]) -> str:
    fmt = schema.get("format")
    if schema.get("readOnly"):
        return "readonly"
    if "const" in schema:
        return "checkbox" if schema["const"] is True else "readonly"
    if jtype == "string" and (
        fmt == "data-url" or "contentMediaType" in schema or "contentEncoding" in schema
    ):
        return "file"
    if jtype == "object":
        return "fieldset" if schema.get("properties") or _has_alternatives(schema) else "json"
    if jtype == "array":
        items = schema.get("items")
        if options:
            return "checkboxes"
        if isinstance(items, (dict, bool)) and "prefixItems" not in schema:
            return "repeatable"
        return "json"
    if options:
        if jtype == "boolean":
            return "radios"
        return "radios" if len(options) <= RADIOS_MAX else "select"
    if jtype == "string":
        return {
            "date": "date",
            "date-time": "datetime",
            "time": "time",
            "email": "email",
            "uri": "url",
            "cn-mobile": "tel",
            "cn-region": "region",
            "cn-amount": "amount",
        }.get(fmt or "", "text")
    if jtype in ("number", "integer"):
        return jtype
    if jtype == "null":
        return "readonly"
    return "json"


def _has_alternatives(schema: Mapping[str, Any]) -> bool:
    return any(isinstance(schema.get(w), list) for w in ("oneOf", "anyOf", "allOf")) or (
        "if" in schema or "dependentSchemas" in schema
    )


def widget_fits(wanted: str, default: str, jtype: str | None, options: tuple[Option, ...]) -> bool:
    if wanted == default or wanted in ANY_WIDGETS:
        return True
    if default == "checkboxes":
        return wanted == "checkboxes"
    if wanted in CHOICE_WIDGETS:
        return bool(options) and jtype != "array"
    if wanted == "checkbox":
        return jtype == "boolean"
    if wanted in ("fieldset",):
        return jtype == "object"
    if wanted == "repeatable":
        return jtype == "array"
    if wanted in ("number", "integer"):
        return jtype in ("number", "integer")
    if wanted in TEXT_WIDGETS:
        return jtype == "string" and not options
    return False


def json_type(schema: Mapping[str, Any]) -> str | None:
    declared = schema.get("type")
    if isinstance(declared, list):
        concrete = [t for t in declared if t != "null"]
        declared = concrete[0] if len(concrete) == 1 else None
    if isinstance(declared, str):
        return declared
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    values = schema.get("enum") if isinstance(schema.get("enum"), list) else None
    if values is None and "const" in schema:
        values = [schema["const"]]
    if values is None:
        for word in ("oneOf", "anyOf"):
            alts = schema.get(word)
            if (
                isinstance(alts, list)
                and alts
                and all(isinstance(a, dict) and "const" in a for a in alts)
            ):
                values = [a["const"] for a in alts]
    if values:
        kinds = {value_type(v) for v in values if v is not None}
        if len(kinds) == 1:
            return kinds.pop()
    return None


def value_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def make_options(raw: list[tuple[Any, Any, Any]], ui: Mapping[str, Any]) -> tuple[Option, ...]:
    """Options from ``(value, title, description)`` triples, labelled by the schema titles and
    ``ui.options``; none when a value is an object or an array."""
    if any(isinstance(v, (dict, list)) for v, _, _ in raw):
        return ()
    tokens = [v if isinstance(v, str) else json.dumps(v) for v, _, _ in raw]
    if len(set(tokens)) != len(tokens):
        tokens = [str(i) for i in range(len(raw))]
    labels = ui.get("options") or {}
    options = []
    for (value, title, description), token in zip(raw, tokens, strict=True):
        label: dict[str, str] = {}
        if isinstance(title, str):
            label["zh"] = title
        extra = labels.get(token) or labels.get(str(value))
        if isinstance(extra, dict):
            label.update(extra)
        elif isinstance(extra, str):
            label["zh"] = extra
        if not label:
            label["zh"] = _value_text(value)
        hint = {"zh": description} if isinstance(description, str) else None
        options.append(Option(value, token, label, None, hint))
    return tuple(options)


def make_field(
    key: str,
    name: str,
    pointer: str,
    schema: Mapping[str, Any],
    jtype: str | None,
    widget: str,
    ui: Mapping[str, Any],
    required: bool,
    conditions: tuple[Condition, ...],
    is_item: bool,
    variant: int,
) -> Field:
    """A field for a resolved schema: label, hint, input attributes and width from the schema
    and its ``ui`` entry; options, children and items are filled in by the caller."""
    label: dict[str, str] = {}
    if isinstance(schema.get("title"), str):
        label["zh"] = schema["title"]
    label.update(ui.get("label") or {})
    if not label:
        label["zh"] = _humanize(name) if name not in ("", "*") else ""
    hint: dict[str, str] = {}
    if isinstance(schema.get("description"), str):
        hint["zh"] = schema["description"]
    hint.update(ui.get("hint") or {})
    fmt = schema.get("format") if isinstance(schema.get("format"), str) else None
    attrs = dict(FORMAT_ATTRS.get(fmt or "", {}))
    if jtype == "integer":
        attrs.setdefault("inputmode", "numeric")
    elif jtype == "number":
        attrs.setdefault("inputmode", "decimal")
    for word, attr in (
        ("minimum", "data-min"),
        ("maximum", "data-max"),
        ("exclusiveMinimum", "data-min-exclusive"),
        ("exclusiveMaximum", "data-max-exclusive"),
        ("multipleOf", "data-step"),
    ):
        if isinstance(schema.get(word), (int, float)) and not isinstance(schema[word], bool):
            attrs[attr] = _number_text(schema[word])
    if ui.get("autocomplete"):
        attrs["autocomplete"] = str(ui["autocomplete"])
    if widget == "textarea":
        attrs["rows"] = str(ui.get("rows") or 5)
    width = ui.get("width") or FORMAT_WIDTHS.get(fmt or "")
    if width is None and jtype in ("integer", "number") and widget in ("integer", "number"):
        width = "10"
    fld = Field(
        key=key,
        name=name,
        pointer=pointer,
        schema=schema,
        type=jtype,
        widget=widget,
        label=label,
        required=required,
        hint=hint or None,
        placeholder=ui.get("placeholder"),
        attrs=attrs,
        format=fmt,
        read_only=bool(schema.get("readOnly")),
        const=schema.get("const"),
        has_const="const" in schema,
        default=schema.get("default"),
        has_default="default" in schema,
        conditions=conditions,
        ui=ui,
        width=width,
        is_item=is_item,
        variant=variant,
    )
    return fld


def _humanize(name: str) -> str:
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else name


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "—"
    return json.dumps(value, ensure_ascii=False)


def _number_text(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
