"""Turn rjsf and JSON Forms samples (read-only, in shared/corpus) into Tongban form files.

Only the data and the UI hints that have an equivalent here are carried over; rjsf/JSON Forms
default to draft-07, so a schema without ``$schema`` is marked draft-07, as those tools read it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tongban.forms.definition import FormDefinitionError, load_form

DRAFT7 = "http://json-schema.org/draft-07/schema#"
KNOWN = {"https://json-schema.org/draft/2020-12/schema", DRAFT7,
         "http://json-schema.org/draft-07/schema"}

RJSF_WIDGETS = {"textarea": "textarea", "password": "password", "radio": "radios",
                "select": "select", "checkboxes": "checkboxes", "hidden": "hidden",
                "date": "date", "email": "email", "uri": "url", "file": "file",
                "checkbox": "checkbox"}


def load_sample(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8"))


def _schema(schema: Any) -> Any:
    schema = copy.deepcopy(schema)
    if isinstance(schema, dict) and schema.get("$schema") not in KNOWN:
        schema["$schema"] = DRAFT7
    return schema


def _text(value: Any) -> dict[str, str] | None:
    return {"zh": value} if isinstance(value, str) and value else None


def from_rjsf(sample: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, dict[str, Any]] = {}
    root_order: list[str] | None = None

    def walk(ui: Any, key: str) -> None:
        nonlocal root_order
        if not isinstance(ui, dict):
            return
        entry: dict[str, Any] = {}
        for word, value in ui.items():
            if word == "ui:widget" and isinstance(value, str) and value in RJSF_WIDGETS:
                entry["widget"] = RJSF_WIDGETS[value]
            elif word == "ui:title" and _text(value):
                entry["label"] = _text(value)
            elif word in ("ui:description", "ui:help") and _text(value):
                entry["hint"] = _text(value)
            elif word == "ui:placeholder" and _text(value):
                entry["placeholder"] = _text(value)
            elif word == "ui:order" and isinstance(value, list):
                if key:
                    entry["order"] = value
                else:
                    root_order = value
            elif word == "ui:options" and isinstance(value, dict) and value.get("rows"):
                entry["rows"] = max(2, min(30, int(value["rows"])))
            elif word == "items":
                walk(value, key)
            elif not word.startswith("ui:"):
                walk(value, f"{key}.{word}" if key else word)
        if key and entry:
            fields.setdefault(key, {}).update(entry)

    walk(sample.get("uiSchema") or {}, "")
    schema = sample["schema"]
    title = schema.get("title") if isinstance(schema, dict) else None
    form: dict[str, Any] = {"title": {"zh": title or "Sample"}, "schema": _schema(schema)}
    ui: dict[str, Any] = {"fields": fields}
    if root_order:
        ui["order"] = [n for n in root_order if isinstance(n, str)]
    form["ui"] = ui
    return form


def from_jsonforms(sample: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, dict[str, Any]] = {}
    pages: list[dict[str, Any]] = []

    def key_of(scope: str) -> str | None:
        parts = scope.lstrip("#/").split("/")
        names = [p for i, p in enumerate(parts) if i % 2 == 1 and parts[i - 1] == "properties"]
        return ".".join(names) if names and scope.startswith("#/properties") else None

    def controls(element: Any) -> list[str]:
        found = []
        if isinstance(element, dict):
            if element.get("type") == "Control" and isinstance(element.get("scope"), str):
                key = key_of(element["scope"])
                if key:
                    found.append(key)
                    if isinstance(element.get("label"), str) and element["label"]:
                        fields.setdefault(key, {})["label"] = {"zh": element["label"]}
            for child in element.get("elements") or []:
                found += controls(child)
        return found

    uischema = sample.get("uischema")
    if isinstance(uischema, dict) and uischema.get("type") == "Categorization":
        placed: set[str] = set()
        for index, category in enumerate(uischema.get("elements") or []):
            tops = []
            for key in controls(category):
                top = key.split(".")[0]
                if top not in placed and top not in tops:
                    tops.append(top)
            placed.update(tops)
            if tops:
                pages.append({"id": f"page-{index + 1}",
                              "title": _text(category.get("label")) or {"zh": "Page"},
                              "fields": tops})
    else:
        controls(uischema)
    schema = sample["schema"]
    form: dict[str, Any] = {"title": {"zh": "Sample"}, "schema": _schema(schema)}
    ui: dict[str, Any] = {"fields": fields}
    if pages:
        ui["pages"] = pages
    form["ui"] = ui
    return form


def compile_sample(form: dict[str, Any], name: str):
    """Load a converted sample; ui hints for fields the tree does not have are dropped, pages
    are completed with the fields no category listed."""
    try:
        bare = load_form({"title": form["title"], "schema": form["schema"]}, name=name)
    except FormDefinitionError:
        raise
    known = set(bare.fields)
    ui = form.get("ui") or {}
    ui["fields"] = {k: v for k, v in (ui.get("fields") or {}).items() if k in known}
    if ui.get("pages"):
        placed = {k for p in ui["pages"] for k in p["fields"]}
        for page in ui["pages"]:
            page["fields"] = [k for k in page["fields"] if k in known]
        ui["pages"] = [p for p in ui["pages"] if p["fields"]]
        rest = [c.key for c in bare.root.children if c.key not in placed]
        if rest:
            ui["pages"].append({"id": "more", "title": {"zh": "More"}, "fields": rest})
        if not ui["pages"]:
            del ui["pages"]
    try:
        return load_form(form, name=name)
    except FormDefinitionError as exc:
        bad = {e.pointer.split("/")[3] for e in exc.errors
               if e.pointer.startswith("/ui/fields/") and e.pointer.endswith("/widget")}
        if not bad:
            raise
        for key in bad:
            ui["fields"].get(key.replace("~1", "/").replace("~0", "~"), {}).pop("widget", None)
        return load_form(form, name=name)
