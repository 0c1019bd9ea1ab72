"""Check a form file as a definition: its shape and its data schema."""

from __future__ import annotations

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .loader import Problem, pointer_of
from .yamlpos import Document


def check_form_document(document: Document, file: str) -> list[Problem]:
    data = document.data
    if not isinstance(data, dict):
        return [Problem(file, 1, 1, "", "expected a JSON object with a \"schema\" key")]
    if "schema" not in data:
        return [Problem(file, 1, 1, "", 'missing required key "schema"')]
    try:
        Draft202012Validator.check_schema(data["schema"])
    except SchemaError as exc:
        path = ["schema", *exc.absolute_path]
        line, column = document.position(path)
        return [Problem(file, line, column, pointer_of(path),
                        f"not a valid JSON Schema 2020-12: {exc.message}")]
    return []
