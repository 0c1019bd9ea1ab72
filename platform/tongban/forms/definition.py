"""Load a form file, report every mistake in it by file and place, and compile it once.

A :class:`FormDefinition` holds everything per-request code needs already built: the
jsonschema validator, the field tree, the pages and the logic rules. Definitions are cached by
the hash of their content, so the same version is compiled once per process.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag

import jsonschema
from jsonschema.validators import validator_for
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import specification_with

from tongban.forms import date_limits, formats_and_rules, paths, schema_patterns, structure
from tongban.forms.fields import Field, LangText
from tongban.forms.schema_tree import SchemaShapeError, TreeBuilder
from tongban.forms.structure import ACTIONS, Page, Rule, Section

__all__ = ["ACTIONS", "DefinitionError", "FormDefinition", "FormDefinitionError", "Page", "Rule",
           "Section", "check_form", "load_form"]

DEFAULT_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SUPPORTED_DIALECTS = {
    DEFAULT_DIALECT,
    "https://json-schema.org/draft/2020-12/schema#",
    "http://json-schema.org/draft-07/schema#",
    "http://json-schema.org/draft-07/schema",
}
CACHE_SIZE = 256
# Root keywords that leave each top-level property to be judged on its own (page_validator).
_PLAIN_ROOT = frozenset({"$schema", "$id", "$defs", "definitions", "$comment", "title",
                         "description", "type", "properties", "required"})


@dataclass(frozen=True)
class DefinitionError:
    file: str
    pointer: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.pointer or '/'}: {self.message}"


class FormDefinitionError(ValueError):
    """A form file that cannot go live; ``errors`` lists every problem found."""

    def __init__(self, errors: list[DefinitionError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


class FormDefinition:
    """A compiled form. Treat it as immutable: it is shared between requests and threads."""

    def __init__(self, *, name: str, content_hash: str, raw: Mapping[str, Any],
                 validator: Any, root: Field, pages: tuple[Page, ...],
                 sections: tuple[Section, ...], rules: tuple[Rule, ...]) -> None:
        self.name = name
        self.content_hash = content_hash
        self.raw = raw
        self.title: LangText = raw["title"]
        self.description: LangText | None = raw.get("description")
        self.schema = raw["schema"]
        self.validator = validator
        self.root = root
        self.pages = pages
        self.sections = sections
        self.rules = rules
        self.page_by_id = {p.id: p for p in pages}
        self._page_validators: dict[str, Any] = {}
        self.fields: dict[str, list[Field]] = {}
        for fld in root.walk():
            if fld is root:
                continue
            if fld.is_item and fld.name == "*" and fld.key in self.fields:
                continue
            self.fields.setdefault(fld.key, []).append(fld)
        self.page_of: dict[str, str] = {}
        for page in pages:
            for key in page.keys:
                for fld in self.fields.get(key, ()):
                    for inner in fld.walk():
                        self.page_of.setdefault(inner.key, page.id)
        self.calculated = {r.target for r in rules if r.action == "set" and r.target}
        # Looked up for every question of every page drawn: worked out once.
        self.rule_shown = frozenset(r.target for r in rules
                                    if r.action in ("show", "hide") and r.target)
        """Fields a show or hide rule targets."""
        self.rule_required = frozenset(r.target for r in rules
                                       if r.action == "require" and r.target)
        """Fields a require rule targets."""
        self.file_keys = tuple(key for key, fields in self.fields.items()
                               if fields and fields[0].widget == "file")
        """Upload questions."""
        self.root_is_object = root.widget == "fieldset" and root.type == "object"
        self.date_limited = date_limits.limited_fields(root)
        """Date questions with a ``not_before`` / ``not_after`` limit."""

    def field(self, key: str) -> Field:
        return self.fields[key][0]

    def page_validator(self, page_id: str) -> Any:
        """A validator for what one page can be faulted for, made once per page.

        When the root schema is a plain object (only ``type``, ``properties``, ``required``,
        ``$defs`` and notes), a failure about a question on the page can only come from the
        subschema of the top-level property it is in, or from the root's ``required`` naming
        that property: the page is judged against the root narrowed to those properties, so
        a post is not held up by making errors for every page still to come. Any other root
        (conditions, ``$ref``, ``additionalProperties``, …) is judged whole. The caller still
        keeps only the errors about the page's questions."""
        found = self._page_validators.get(page_id)
        if found is None:
            found = self._page_validators[page_id] = self._narrowed(self.page_by_id[page_id])
        return found

    def _narrowed(self, page: Page) -> Any:
        schema = self.validator.schema
        if not isinstance(schema, dict) or not set(schema) <= _PLAIN_ROOT \
                or not isinstance(schema.get("properties"), dict) or "" in page.keys:
            return self.validator
        tops = {paths.split(key)[0] for key in page.keys}
        narrowed = {**schema, "properties": {name: sub for name, sub
                                             in schema["properties"].items() if name in tops}}
        if isinstance(schema.get("required"), list):
            narrowed["required"] = [name for name in schema["required"] if name in tops]
        return self.validator.evolve(schema=narrowed)

    def __repr__(self) -> str:
        return f"<FormDefinition {self.name} {self.content_hash[:12]}>"


_cache: dict[tuple[str, str], FormDefinition] = {}
_cache_lock = threading.Lock()


def load_form(source: str | os.PathLike[str] | Mapping[str, Any], *,
              name: str | None = None) -> FormDefinition:
    """Load and compile a form file (a path or an already parsed mapping).

    Raises :class:`FormDefinitionError` listing every problem; nothing half-loaded is returned.
    """
    file, data, text = _read(source, name)
    content_hash = hashlib.sha256(
        json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                   default=str).encode()).hexdigest()
    key = (file, content_hash)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    form, errors = _compile(file, data, content_hash)
    if errors:
        raise FormDefinitionError(_with_lines(errors, text))
    assert form is not None
    with _cache_lock:
        if len(_cache) >= CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = form
    return form


def check_form(source: str | os.PathLike[str] | Mapping[str, Any], *,
               name: str | None = None) -> list[DefinitionError]:
    """Every problem in a form file, for editors and ``tongban check``; empty when it loads."""
    try:
        load_form(source, name=name)
    except FormDefinitionError as exc:
        return exc.errors
    return []


def _read(source: str | os.PathLike[str] | Mapping[str, Any],
          name: str | None) -> tuple[str, Any, str | None]:
    if isinstance(source, Mapping):
        return name or "<form>", source, None
    path = Path(source)
    file = name or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormDefinitionError([DefinitionError(file, "", f"cannot read the file: {exc}")]) \
            from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormDefinitionError(
            [DefinitionError(file, "", f"not JSON: {exc.msg} (column {exc.colno})",
                             exc.lineno)]) from exc
    return file, data, text


_LABEL_WORDS = frozenset({"const", "title", "description", "$comment"})
_DATA_WORDS = frozenset({"const", "enum", "default", "examples"})


def _for_validation(schema: Any) -> Any:
    """The schema the validator runs: the same verdicts, sooner. Choices are written as
    ``oneOf`` (or ``anyOf``) of ``const`` + ``title`` to give each a label; to be sure exactly
    one matches, jsonschema tries every option. With distinct string values that is ``enum``,
    checked by one lookup. Left as written when a ``$ref`` points inside such a list."""
    text = json.dumps(schema)
    if "/oneOf/" in text or "/anyOf/" in text:
        return schema
    return _choices_as_enum(schema)


def _choices_as_enum(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_choices_as_enum(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {word: value if word in _DATA_WORDS else _choices_as_enum(value)
              for word, value in schema.items()}
    for word in ("oneOf", "anyOf"):
        options = schema.get(word)
        if "enum" in result or not isinstance(options, list) or not options or not all(
                isinstance(o, dict) and isinstance(o.get("const"), str) and set(o) <= _LABEL_WORDS
                for o in options):
            continue
        values = [o["const"] for o in options]
        if len(set(values)) == len(values):
            del result[word]
            result["enum"] = values
    return result


@cache
def _meta_validator() -> jsonschema.Draft202012Validator:
    meta = json.loads((Path(__file__).with_name("form.schema.json")).read_text("utf-8"))
    return jsonschema.Draft202012Validator(meta)


def _compile(file: str, data: Any,
             content_hash: str) -> tuple[FormDefinition | None, list[DefinitionError]]:
    errors: list[DefinitionError] = []

    def err(pointer: str, message: str) -> None:
        errors.append(DefinitionError(file, pointer, message))

    for problem in sorted(_meta_validator().iter_errors(data), key=lambda e: [str(p) for p in e.path]):
        err(paths.pointer(list(problem.absolute_path)), _meta_message(problem))
    if errors:
        return None, errors

    schema = data["schema"]
    dialect = schema.get("$schema", DEFAULT_DIALECT) if isinstance(schema, dict) else (
        DEFAULT_DIALECT)
    if dialect not in SUPPORTED_DIALECTS:
        err("/schema/$schema", f"unsupported JSON Schema dialect {dialect!r}; use "
            f"{DEFAULT_DIALECT!r}")
        return None, errors
    cls = validator_for(schema, default=jsonschema.Draft202012Validator)
    for problem in cls(cls.META_SCHEMA).iter_errors(schema):
        err("/schema" + paths.pointer(list(problem.absolute_path)),
            f"not a valid JSON Schema: {problem.message}")
    for pointer, message in schema_patterns.pattern_problems(schema):
        err(pointer, message)
    if errors:
        return None, errors
    cls = schema_patterns.with_safe_patterns(cls)

    base_uri = schema.get("$id") or schema.get("id") if isinstance(schema, dict) else None
    base_uri = urldefrag(base_uri if isinstance(base_uri, str) else "urn:tongban:form").url
    resource = Resource.from_contents(schema, default_specification=specification_with(dialect))
    registry: Registry[Any] = Registry().with_resource(base_uri, resource).crawl()
    checked = _for_validation(schema)
    checked_registry: Registry[Any] = Registry().with_resource(base_uri, Resource.from_contents(
        checked, default_specification=specification_with(dialect))).crawl()
    validator = cls(checked, registry=checked_registry, format_checker=formats_and_rules.format_checker())
    resolver = registry.resolver(base_uri=base_uri)
    specification = specification_with(dialect)

    def make_test(subschema: Any, _resolver: Any) -> Any:
        sub = validator.evolve(schema=subschema)
        return lambda value: bool(sub.is_valid(value))

    ui = data.get("ui") or {}
    ui_fields = ui.get("fields") or {}
    problems: list[tuple[str, str]] = []
    builder = TreeBuilder(resolver=_SafeResolver(resolver, specification), ui_fields=ui_fields,
                          ui_order=ui.get("order"), make_test=make_test, problems=problems)
    try:
        root = builder.build(schema)
    except SchemaShapeError as exc:
        err(exc.pointer, exc.message)
        return None, errors
    for key, message in problems:
        err(f"/ui/fields/{paths.pointer([key])[1:]}/widget", message)

    known: dict[str, Field] = {}
    for fld in root.walk():
        if fld is not root:
            known.setdefault(fld.key, fld)
        for ui_key, message in date_limits.definition_problems(fld):
            err(f"/ui/fields/{paths.pointer([fld.key])[1:]}/{ui_key}", message)
    for key in ui_fields:
        if key not in known:
            err(f"/ui/fields/{paths.pointer([key])[1:]}", f"no field {key!r} in the schema")

    pages = structure.pages(ui, root, known, err)
    sections = structure.sections(ui, pages, err)
    rules = structure.rules(data.get("logic") or [], known, {p.id for p in pages}, err)
    if errors:
        return None, errors

    form = FormDefinition(name=file, content_hash=content_hash, raw=data, validator=validator,
                          root=root, pages=pages, sections=sections, rules=rules)
    if ui.get("pages"):
        for fld in root.children:
            if fld.key not in form.page_of and fld.key not in form.calculated and \
                    fld.accepts_input:
                err("/ui/pages", f"field {fld.key!r} is on no page")
    return (None if errors else form), errors


class _SafeResolver:
    """A resolver whose failed look-ups return None instead of raising."""

    def __init__(self, resolver: Any, specification: Any) -> None:
        self._resolver = resolver
        self._specification = specification

    def lookup(self, ref: str) -> Any:
        try:
            resolved = self._resolver.lookup(ref)
        except Unresolvable:
            return None
        return _Resolved(resolved.contents,
                         _SafeResolver(resolved.resolver, self._specification))

    def in_subresource(self, schema: Mapping[str, Any]) -> _SafeResolver:
        """The resolver inside a sub-schema that has its own ``$id``: its ``$ref``s are
        relative to that ``$id``, as the validator reads them."""
        resource = Resource.from_contents(schema, default_specification=self._specification)
        return _SafeResolver(self._resolver.in_subresource(resource), self._specification)


@dataclass(frozen=True)
class _Resolved:
    contents: Any
    resolver: Any


def _meta_message(problem: jsonschema.ValidationError) -> str:
    # additionalProperties is only checked on objects, with an object schema, and the meta-schema's
    # enums are lists; the checks narrow jsonschema's types (a schema may be a bool, a value unset).
    if problem.validator == "additionalProperties" and isinstance(problem.schema, Mapping) \
            and isinstance(problem.instance, Mapping):
        extra = sorted(set(problem.instance) - set(problem.schema.get("properties", {})))
        return "unknown key(s) " + ", ".join(repr(e) for e in extra)
    if problem.validator == "enum" and isinstance(problem.validator_value, list):
        return f"{problem.instance!r} is not one of " + ", ".join(
            repr(v) for v in problem.validator_value)
    return problem.message


def _with_lines(errors: list[DefinitionError], text: str | None) -> list[DefinitionError]:
    if text is None:
        return errors
    try:
        lines = _pointer_lines(text)
    except (ValueError, IndexError):
        return errors
    result = []
    for e in errors:
        line = e.line
        pointer = e.pointer
        while line is None:
            line = lines.get(pointer)
            if line is None and pointer:
                pointer = pointer.rsplit("/", 1)[0]
            elif line is None:
                break
        result.append(DefinitionError(e.file, e.pointer, e.message, line))
    return result


def _pointer_lines(text: str) -> dict[str, int]:
    """Map each JSON pointer in a JSON text to the line where its value starts."""
    decoder = json.JSONDecoder()
    lines: dict[str, int] = {}
    newlines = [i for i, ch in enumerate(text) if ch == "\n"]

    def line_of(pos: int) -> int:
        lo, hi = 0, len(newlines)
        while lo < hi:
            mid = (lo + hi) // 2
            if newlines[mid] < pos:
                lo = mid + 1
            else:
                hi = mid
        return lo + 1

    def skip(pos: int) -> int:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        return pos

    def value(pos: int, pointer: str) -> int:
        pos = skip(pos)
        lines[pointer] = line_of(pos)
        if text[pos] == "{":
            pos = skip(pos + 1)
            if text[pos] == "}":
                return pos + 1
            while True:
                key, pos = decoder.raw_decode(text, skip(pos))  # the key, a JSON string
                pos = skip(pos)
                pos = value(pos + 1, pointer + "/" + key.replace("~", "~0").replace("/", "~1"))
                pos = skip(pos)
                if text[pos] == "}":
                    return pos + 1
                pos += 1
        if text[pos] == "[":
            pos = skip(pos + 1)
            if text[pos] == "]":
                return pos + 1
            index = 0
            while True:
                pos = skip(value(pos, f"{pointer}/{index}"))
                index += 1
                if text[pos] == "]":
                    return pos + 1
                pos += 1
        _, end = decoder.raw_decode(text, pos)
        return end

    value(0, "")
    return lines
