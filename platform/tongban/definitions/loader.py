"""Read every definition file, check it against its meta-schema, and report problems in place.

A problem names the file, the line and column, the JSON pointer and what was expected. Nothing
here touches the database: `tongban defs check` and `publish` both start from `load_directory`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ..forms.definition import load_form
from .formcheck import check_form_document
from .materials import check_materials
from .problems import Problem
from .yamlpos import Document, ReadError, read_json, read_yaml

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
SERVICE_DIR = "workflow_definitions"
FORM_DIR = "form_definitions"


@dataclass
class LoadedDefinition:
    kind: str  # "service" | "form"
    code: str
    path: str
    content: dict[str, Any]


@dataclass
class DefinitionSet:
    services: dict[str, LoadedDefinition] = field(default_factory=dict)
    forms: dict[str, LoadedDefinition] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def all(self) -> list[LoadedDefinition]:
        return [*self.forms.values(), *self.services.values()]


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
    if kind in {"minimum", "maximum"}:
        return f"expected a number {'at least' if kind == 'minimum' else 'at most'} {value}"
    if kind == "minLength":
        return "expected non-empty text"
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


def schema_problems(document: Document, validator: Draft202012Validator,
                    file: str) -> list[Problem]:
    problems = []
    for error in sorted(validator.iter_errors(document.data), key=lambda e: list(e.path)):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            extra = sorted(set(error.instance) - allowed)
            if extra:
                path.append(extra[0])  # point at the unknown key itself
        line, column = document.position(path)
        problems.append(Problem(file, line, column, pointer_of(path), plain_reason(error)))
    return problems


def _read(path: Path, reader: Callable[[str], Document], file: str,
          problems: list[Problem]) -> Document | None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(Problem(file, 1, 1, "", "the file is not UTF-8 text"))
        return None
    try:
        return reader(text)
    except ReadError as exc:
        problems.append(Problem(file, exc.line, exc.column, "", exc.message))
        return None


FormChecker = Callable[[Document, str], list[Problem]]


def _material_problems(document: Document, file: str,
                       form: LoadedDefinition) -> list[Problem]:
    """The guide's materials that the form does not collect, placed in the service file."""
    compiled = load_form(form.content, name=form.path)
    problems = []
    for path, message in check_materials(document.data, compiled):
        line, column = document.position(path)
        problems.append(Problem(file, line, column, pointer_of(path), message))
    return problems


def load_directory(root: Path | str, form_checker: FormChecker | None = None) -> DefinitionSet:
    """Load every service YAML and every form JSON under root; collect every problem."""
    root = Path(root)
    result = DefinitionSet()
    check_form = form_checker or check_form_document

    for path in sorted((root / FORM_DIR).glob("*.json")):
        file = str(path.relative_to(root))
        document = _read(path, read_json, file, result.problems)
        if document is None:
            continue
        found = check_form(document, file)
        result.problems.extend(found)
        if not found:
            result.forms[path.stem] = LoadedDefinition("form", path.stem, file, document.data)

    seen_codes: dict[str, str] = {}
    for path in sorted([*(root / SERVICE_DIR).glob("*.yaml"), *(root / SERVICE_DIR).glob("*.yml")]):
        file = str(path.relative_to(root))
        document = _read(path, read_yaml, file, result.problems)
        if document is None:
            continue
        found = schema_problems(document, meta_validator("service"), file)
        if not found:
            data = document.data
            code = data["code"]
            if code in seen_codes:
                line, column = document.position(["code"])
                found.append(Problem(file, line, column, "/code",
                                     f'service code "{code}" is already used by {seen_codes[code]}'))
            form_file = root / FORM_DIR / f"{data['form']}.json"
            if not form_file.exists():
                line, column = document.position(["form"])
                found.append(Problem(file, line, column, "/form",
                                     f'the form "{data["form"]}" does not exist: expected '
                                     f"{FORM_DIR}/{data['form']}.json"))
            elif data["form"] in result.forms:
                found.extend(_material_problems(document, file, result.forms[data["form"]]))
            seen_codes.setdefault(code, file)
        result.problems.extend(found)
        if not found:
            result.services[document.data["code"]] = LoadedDefinition(
                "service", document.data["code"], file, document.data)
    return result
