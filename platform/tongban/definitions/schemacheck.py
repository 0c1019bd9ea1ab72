"""A definition document against its JSON meta-schema (platform/tongban/schemas/), each failure
a :class:`~tongban.definitions.problems.Problem` with its line, column and a plain reason.

Its own module, below the loader, so that readers of other platform files (the deadline presets,
calendars, test-bench scripts) check them the same way without importing the loader.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from .problems import Problem
from .yamlpos import Document

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


@cache
def meta_validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def pointer_of(path: list[str | int] | Any) -> str:
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in path]
    return "/" + "/".join(parts) if parts else ""


def plain_reason(error: ValidationError) -> str:
    """Say what a meta-schema error expects, in words an administrator understands."""
    kind, value = error.validator, error.validator_value
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return f'missing required key "{missing}"'
    # An additionalProperties error comes from an object schema and an enum's value is a list;
    # the checks narrow jsonschema's types (a schema may be a bool, a value unset).
    if kind == "additionalProperties" and isinstance(error.schema, Mapping):
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        return (f'unknown key "{extra[0] if extra else "?"}"; expected one of: '
                + ", ".join(allowed))
    if kind == "type":
        return f"expected {_type_words(value)}, found {_type_words(_json_type(error.instance))}"
    if kind == "enum" and isinstance(value, list):
        return "expected one of: " + ", ".join(json.dumps(v, ensure_ascii=False) for v in value)
    if kind == "pattern":
        return f"the value {json.dumps(error.instance, ensure_ascii=False)} does not match {value}"
    if kind in {"oneOf", "anyOf"}:
        return _one_of_reason(error)
    if kind in {"minProperties", "maxProperties"} and isinstance(error.schema, Mapping):
        allowed = sorted(error.schema.get("properties", {}))
        if error.schema.get("maxProperties") == 1:
            return "expected exactly one of: " + ", ".join(allowed)
    if kind == "not" and isinstance(error.schema, Mapping) and error.schema.get("description"):
        return str(error.schema["description"])
    if kind == "minimum" and isinstance(error.schema, Mapping) and error.schema.get("description"):
        # amounts of time say what they are: "expected a whole number of 1 or more, found 0"
        return f"expected {error.schema['description']}, found {error.instance}"
    if kind in {"minimum", "maximum"}:
        return f"expected a number {'at least' if kind == 'minimum' else 'at most'} {value}"
    if kind == "minLength":
        return "expected non-empty text"
    if kind == "maxLength":
        return f"expected text of at most {value} characters"
    if kind == "minItems":
        return f"expected at least {value} item(s)"
    if kind == "uniqueItems":
        return "items must not repeat"
    return error.message


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer",
            float: "number", type(None): "null"}.get(type(value), type(value).__name__)


def _type_words(kind: Any) -> str:
    words = {"object": "a mapping of keys", "array": "a list", "string": "text",
             "integer": "a whole number", "number": "a number", "boolean": "true or false",
             "null": "nothing"}
    if isinstance(kind, list):
        return " or ".join(words.get(k, str(k)) for k in kind)
    return words.get(kind, str(kind))


def _alternative_errors(error: ValidationError) -> list[ValidationError]:
    """For a value matching none of a oneOf's alternatives, the errors of the alternative it was
    most likely meant as (the one that knows most of its keys, or whose type it has), so the
    message says what is wrong with it rather than "not valid under any of the given schemas"."""
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return [error]
    by_alternative: dict[int, list[ValidationError]] = {}
    for sub in error.context:
        by_alternative.setdefault(int(sub.relative_schema_path[0]), []).append(sub)

    def fit(errors: list[ValidationError]) -> tuple[int, int, int]:
        top = [e for e in errors if not e.relative_path]
        wrong_type = sum(1 for e in top if e.validator == "type")
        known = 0
        if isinstance(error.instance, dict):
            extra: set[str] = set()
            for e in top:
                if e.validator == "additionalProperties" and isinstance(e.schema, Mapping):
                    extra |= set(error.instance) - set(e.schema.get("properties", {}))
            known = len(set(error.instance) - extra)
        return (-wrong_type, known, -len(errors))

    best = max(by_alternative.values(), key=fit)
    if fit(best)[0] < 0 or (isinstance(error.instance, dict) and fit(best)[1] == 0):
        return [error]
    explained = []
    for sub in sorted(best, key=lambda e: [str(p) for p in e.relative_path]):
        explained.extend(_alternative_errors(sub))
    return explained


def _one_of_reason(error: ValidationError) -> str:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    description = schema.get("description")
    if description:
        return f"expected {description[0].lower()}{description[1:]}"
    return error.message


def schema_problems(document: Document, validator: Draft202012Validator,
                    file: str) -> list[Problem]:
    problems = []
    errors = [explained for error in validator.iter_errors(document.data)
              for explained in _alternative_errors(error)]
    for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
        path = list(error.absolute_path)
        if (error.validator == "additionalProperties" and isinstance(error.instance, dict)
                and isinstance(error.schema, Mapping)):
            allowed = set(error.schema.get("properties", {}))
            extra = sorted(set(error.instance) - allowed)
            if extra:
                path.append(extra[0])  # point at the unknown key itself
        if error.validator == "not" and isinstance(error.validator_value, Mapping):
            path.extend(error.validator_value.get("required", [])[:1])
        line, column = document.position(path)
        problem = Problem(file, line, column, pointer_of(path), plain_reason(error))
        if problem not in problems:  # one wrong value can fail several branches of a schema
            problems.append(problem)
    return problems
