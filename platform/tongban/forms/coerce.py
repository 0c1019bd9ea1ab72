"""HTML form posts to typed JSON answers, keeping what was typed when it cannot be read.

Names follow instance paths (``applicant.name``, ``members.0.name``); a date is posted as
``birth_date:year``, ``birth_date:month``, ``birth_date:day`` or as one ``birth_date`` value.
Nothing is silently "fixed": ``1,000`` is an error, not 1000; 2025-02-30 is an error.
An answer with a NUL character is refused (``nul``): PostgreSQL text cannot hold one.
"""

from __future__ import annotations

import datetime
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tongban.forms import formats_and_rules, paths, region_picker
from tongban.forms.errors import FieldError
from tongban.forms.fields import Field

if TYPE_CHECKING:
    from tongban.forms.definition import FormDefinition

MAX_FIELDS = 1000
"""A post with more values than this is refused whole."""
MAX_DEPTH = 12
"""Names nested deeper than this are refused."""
MAX_ITEMS = 200
"""Highest number of entries in a repeatable group without its own ``maxItems``."""

DATE_PARTS = ("year", "month", "day")
RESERVED_NAMES = frozenset({"csrf_token", "action", "tb-field"})

_MISSING: Any = object()
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_INTEGER = re.compile(r"[+-]?\d+")
_LOOSE_DATE = re.compile(r"(\d{1,4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?")
_TIME = re.compile(r"(\d{2}:\d{2})(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?")
CHINA_OFFSET = "+08:00"

StoreFile = Callable[[Field, str, Any], Any]
UseMaterial = Callable[[Field, str, str], Any]
"""Answer a file question with the stored material a page post chose (field, path, its id)."""


@dataclass
class CoerceResult:
    answers: Any
    """The previous answers with this post's values put in (values that failed are absent)."""
    raw: dict[str, list[str]]
    """What was posted, by name, to show again when the page has errors."""
    errors: list[FieldError] = field(default_factory=list)
    action: str | None = None
    rejected: bool = False
    """True when the post was refused whole (too many values, too deep)."""


class _Post:
    """The posted names arranged as a tree of segments."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self.parts: dict[str, list[str]] = {}
        self.children: dict[str, _Post] = {}


def coerce_page(form: FormDefinition, page_id: str | None, formdata: Any,
                previous: Any = None, *, files: Any = None,
                store_file: StoreFile | None = None,
                use_material: UseMaterial | None = None) -> CoerceResult:
    """Read the fields of one page (all pages when ``page_id`` is None) from ``formdata``
    (a werkzeug ``MultiDict`` or a mapping of name to string or list of strings)."""
    # Any: the answers are JSON of the root's shape, an object for most forms.
    answers: Any = paths.copy_answers(previous) if previous is not None else (
        {} if form.root_is_object else None)
    raw = _raw(formdata)
    posted_actions = raw.get("action")
    action = posted_actions[0] if posted_actions else None
    total = sum(len(v) for v in raw.values())
    if total > MAX_FIELDS:
        return CoerceResult(answers, {}, [FieldError("", None, "too_many_fields",
                                                     {"limit": MAX_FIELDS})], None, True)
    tree = _Post()
    for name, values in raw.items():
        if name in RESERVED_NAMES:
            continue
        segments = name.split(".")
        if len(segments) > MAX_DEPTH:
            return CoerceResult(answers, {}, [FieldError("", None, "too_deep",
                                                         {"limit": MAX_DEPTH})], None, True)
        node = tree
        last, _, part = segments[-1].partition(":")
        for segment in [*segments[:-1], last]:
            node = node.children.setdefault(paths.unescape(segment), _Post())
        if part:
            node.parts[part] = values
        else:
            node.values = values
    reader = _Reader(form, files, store_file, use_material)
    if not form.root_is_object:
        root = tree if form.root.widget == "repeatable" else tree.children.get(paths.ROOT_NAME)
        value = reader.read(form.root, root, "", answers)
        answers = None if value is _MISSING else value
        return CoerceResult(answers, raw, reader.errors, action)
    pages = [form.page_by_id[page_id]] if page_id is not None else list(form.pages)
    keys = [key for page in pages for key in page.keys]
    reader.read_keys(keys, tree, answers)
    return CoerceResult(answers, raw, reader.errors, action)


def region_action(form: FormDefinition, action: str | None) -> str | None:
    """The path of the region picker whose "选择下一级" button sent the page, if one did."""
    verb, _, target = (action or "").partition(":")
    if verb != "region":
        return None
    fld = _field_at(form, paths.split(target))
    return target if fld is not None and fld.widget == "region" else None


def apply_action(form: FormDefinition, answers: Any, action: str | None) -> tuple[Any, bool]:
    """Carry out an ``add:<path>`` or ``remove:<path>.<index>`` button; returns the new answers
    and whether anything changed."""
    if not action or ":" not in action:
        return answers, False
    verb, _, target = action.partition(":")
    segments = paths.split(target)
    if verb == "add":
        fld = _field_at(form, segments)
        if fld is None or fld.widget != "repeatable":
            return answers, False
        answers = paths.copy_answers(answers)
        items = paths.get_in(answers, segments)
        if not isinstance(items, list):
            items = []
        limit = fld.max_items if fld.max_items is not None else MAX_ITEMS
        if len(items) >= limit:
            return answers, False
        items.append({} if fld.item is not None and fld.item.widget == "fieldset" else None)
        _put(answers, segments, items)
        return answers, True
    if verb == "remove" and segments and paths.is_index(segments[-1]):
        fld = _field_at(form, segments[:-1])
        if fld is None or fld.widget != "repeatable":
            return answers, False
        answers = paths.copy_answers(answers)
        items = paths.get_in(answers, segments[:-1])
        index = int(segments[-1])
        if isinstance(items, list) and index < len(items):
            del items[index]
            return answers, True
    return answers, False


def _field_at(form: FormDefinition, segments: list[str]) -> Field | None:
    fld: Field | None = form.root
    for segment in segments:
        if fld is None:
            return None
        if fld.widget == "fieldset":
            fld = next((c for c in fld.children if c.name == segment), None)
        elif fld.item is not None and paths.is_index(segment):
            fld = fld.item
        else:
            return None
    return fld


class _Reader:
    def __init__(self, form: FormDefinition, files: Any, store_file: StoreFile | None,
                 use_material: UseMaterial | None = None) -> None:
        self.form = form
        self.use_material = use_material
        self.files = files
        self.store_file = store_file
        self.errors: list[FieldError] = []

    def fail(self, fld: Field, path: str, code: str, **params: Any) -> Any:
        self.errors.append(FieldError(path, fld.key, code, params))
        return _MISSING

    def read_keys(self, keys: list[str], tree: _Post, answers: dict[str, Any]) -> None:
        """Read page-level keys; conditional fields after the answers they depend on."""
        fields = [f for key in keys for f in self.form.fields.get(key, ())]
        for fld in [f for f in fields if not f.conditions] + [f for f in fields if f.conditions]:
            segments = paths.split(fld.key)
            parent = paths.get_in(answers, segments[:-1]) if len(segments) > 1 else answers
            if parent is None:
                parent = {}
                _put(answers, segments[:-1], parent)
            if not isinstance(parent, dict):
                continue
            if fld.conditions:
                siblings = [c for c in _parent_field(self.form, segments).children
                            if c.name == fld.name]
                active = next((c for c in siblings if all(x.holds(parent) for x in c.conditions)),
                              None)
                if active is not fld:
                    if active is None:
                        parent.pop(fld.name, None)
                    continue
            node = _node(tree, segments)
            value = self.read(fld, node, fld.key, parent.get(fld.name))
            if value is _MISSING:
                parent.pop(fld.name, None)
            else:
                parent[fld.name] = value

    def read(self, fld: Field, node: _Post | None, path: str, previous: Any) -> Any:
        if fld.key in self.form.calculated:
            return previous if previous is not None else _MISSING
        if fld.widget in ("readonly", "hidden") or fld.read_only:
            if fld.has_const and not fld.read_only:
                return fld.const
            if previous is not None:
                return previous
            return fld.default if fld.has_default else _MISSING
        widget = fld.widget
        if node is not None and widget not in ("fieldset", "repeatable") and _has_nul(node):
            return self.fail(fld, path, "nul")
        if widget == "fieldset":
            return self._object(fld, node, path, previous)
        if widget == "repeatable":
            return self._array(fld, node, path, previous)
        if widget == "checkboxes":
            return self._choices(fld, node, path)
        if widget == "file":
            return self._file(fld, node, path, previous)
        values = node.values if node is not None else []
        if widget == "date":
            return self._date(fld, node, path)
        if widget == "region" and node is not None and node.parts:
            return self._region(fld, node, path)
        if widget == "checkbox":
            ticked = any(v == "true" for v in values)
            if fld.has_const:
                return True if ticked else _MISSING
            return ticked
        text = values[-1] if values else ""
        if fld.options:
            return self._choice(fld, text, path)
        if widget == "json":
            return self._json(fld, text, path)
        if fld.type in ("number", "integer") and fld.format is None:
            return self._number(fld, text, path)
        return self._text(fld, text, path)

    def _object(self, fld: Field, node: _Post | None, path: str, previous: Any) -> Any:
        if node is None and previous is None and not self._files_under(path):
            return _MISSING
        result: dict[str, Any] = dict(previous) if isinstance(previous, dict) else {}
        base = [c for c in fld.children if not c.conditions]
        conditional = [c for c in fld.children if c.conditions]
        for child in base:
            self._member(child, node, path, result)
        active = {id(c) for c in fld.active_children(result)}
        for child in conditional:
            if id(child) in active:
                self._member(child, node, path, result)
            elif not any(id(c) in active for c in conditional if c.name == child.name):
                result.pop(child.name, None)
        return result if result else _MISSING

    def _files_under(self, path: str) -> bool:
        """A group whose only answers are files posts nothing but files (multipart)."""
        if self.files is None:
            return False
        prefix = paths.html_name(path) + "." if path else ""
        return any(name.startswith(prefix) and getattr(upload, "filename", "")
                   for name, upload in (self.files.items(multi=True)
                                        if hasattr(self.files, "items") else []))

    def _member(self, child: Field, node: _Post | None, path: str,
                result: dict[str, Any]) -> None:
        sub = node.children.get(child.name) if node is not None else None
        value = self.read(child, sub, paths.child(path, child.name), result.get(child.name))
        if value is _MISSING:
            result.pop(child.name, None)
        else:
            result[child.name] = value

    def _array(self, fld: Field, node: _Post | None, path: str, previous: Any) -> Any:
        if node is None or fld.item is None:
            return _MISSING
        limit = fld.max_items if fld.max_items is not None else MAX_ITEMS
        indices = sorted(int(k) for k in node.children if paths.is_index(k))
        if indices and indices[-1] >= max(limit, MAX_ITEMS):
            return self.fail(fld, path, "too_many_items", limit=limit)
        old = previous if isinstance(previous, list) else []
        items: list[Any] = []
        for index in indices:
            item_path = paths.child(path, len(items))
            before = old[index] if index < len(old) else None
            sub = node.children[str(index)]
            if _blank(sub):
                continue
            value = self.read(fld.item, sub, item_path, before)
            if value is _MISSING:
                value = {} if fld.item.widget == "fieldset" else None
            items.append(value)
        return items if items else _MISSING

    def _choices(self, fld: Field, node: _Post | None, path: str) -> Any:
        values = [v for v in (node.values if node is not None else []) if v != ""]
        chosen = []
        for token in values:
            option = fld.option_for(token)
            if option is None:
                return self.fail(fld, path, "enum")
            if option.value not in chosen:
                chosen.append(option.value)
        return chosen if chosen else _MISSING

    def _choice(self, fld: Field, token: str, path: str) -> Any:
        if token == "":
            return _MISSING
        option = fld.option_for(token)
        if option is None:
            return self.fail(fld, path, "enum")
        return option.value

    def _number(self, fld: Field, text: str, path: str) -> Any:
        text = unicodedata.normalize("NFKC", text).strip()
        if text == "":
            return _MISSING
        if "," in text:
            return self.fail(fld, path, "comma")
        compact = text.replace(" ", "")
        if fld.type == "integer":
            if _INTEGER.fullmatch(compact):
                return int(compact)
            if _NUMBER.fullmatch(compact):
                number = float(compact)
                if number.is_integer():
                    return int(number)
                return self.fail(fld, path, "whole_number")
            return self.fail(fld, path, "not_a_number")
        if _INTEGER.fullmatch(compact):
            return int(compact)
        if _NUMBER.fullmatch(compact):
            return float(compact)
        return self.fail(fld, path, "not_a_number")

    def _text(self, fld: Field, text: str, path: str) -> Any:
        if fld.widget == "textarea":
            text = text.replace("\r\n", "\n").strip()
        else:
            text = text.strip()
        if text == "":
            return _MISSING
        if fld.format:
            text = formats_and_rules.normalize_format(fld.format, text)
            if fld.format == "cn-amount" and "," in text:
                return self.fail(fld, path, "comma")
        if fld.widget == "datetime" or fld.format == "date-time":
            match = _DATETIME.fullmatch(text)
            if match:
                seconds = match.group(3) or ":00"
                text = f"{match.group(1)}T{match.group(2)}{seconds}{match.group(5) or CHINA_OFFSET}"
        elif fld.widget == "time" or fld.format == "time":
            match = _TIME.fullmatch(text)
            if match:
                seconds = match.group(2) or ":00"
                text = f"{match.group(1)}{seconds}{match.group(4) or CHINA_OFFSET}"
        if fld.type not in ("string", None):
            return self.fail(fld, path, "type")
        return text

    def _json(self, fld: Field, text: str, path: str) -> Any:
        if text.strip() == "":
            return _MISSING
        try:
            value = json.loads(text)
        except ValueError:
            return self.fail(fld, path, "json")
        if _nul_in(value):  # written as the escape \u0000 in the JSON text
            return self.fail(fld, path, "nul")
        return value

    def _date(self, fld: Field, node: _Post | None, path: str) -> Any:
        if node is None:
            return _MISSING
        parts = {p: unicodedata.normalize("NFKC", (node.parts.get(p) or [""])[-1]).strip()
                 for p in DATE_PARTS}
        if not any(parts.values()):
            single = unicodedata.normalize("NFKC", (node.values or [""])[-1]).strip()
            if not single:
                return _MISSING
            match = _LOOSE_DATE.fullmatch(single)
            if not match:
                return self.fail(fld, path, "date_format")
            parts = dict(zip(DATE_PARTS, match.groups(), strict=True))
        for part in DATE_PARTS:
            if not parts[part]:
                return self.fail(fld, path, "date_part_missing", part=part)
        if not all(v.isdigit() for v in parts.values()):
            return self.fail(fld, path, "date_format")
        if len(parts["year"]) != 4:
            return self.fail(fld, path, "date_year")
        try:
            day = datetime.date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
        except ValueError:
            return self.fail(fld, path, "real_date")
        return day.isoformat()

    def _region(self, fld: Field, node: _Post, path: str) -> Any:
        """The picker's lists; without them, a plain code is read as text (format-checked)."""
        posted = {level: unicodedata.normalize("NFKC", (node.parts.get(level) or [""])[-1]).strip()
                  for level in region_picker.LEVELS}
        if not any(posted.values()):
            return self._text(fld, (node.values or [""])[-1], path)
        choice = region_picker.read_choice(posted)
        if choice.problem is not None:
            return self.fail(fld, path, choice.problem, level=choice.level)
        return choice.code if choice.code is not None else _MISSING

    def _file(self, fld: Field, node: _Post | None, path: str, previous: Any) -> Any:
        # A stored material chosen instead of an upload (``<name>:material``; "upload" means
        # a new file): the choice wins over a file sent along with it.
        choice = (node.parts.get("material") or [""])[-1] if node is not None else ""
        if choice and choice != "upload" and self.use_material is not None:
            try:
                return self.use_material(fld, path, choice)
            except ValueError as exc:
                return self.fail(fld, path, "file", detail=str(exc))
        upload = None
        if self.files is not None:
            candidates = self.files.getlist(paths.html_name(path)) if hasattr(
                self.files, "getlist") else [self.files.get(paths.html_name(path))]
            upload = next((f for f in candidates if f is not None and bool(getattr(f, "filename", ""))),
                          None)
        if upload is not None and self.store_file is not None:
            try:
                return self.store_file(fld, path, upload)
            except ValueError as exc:
                return self.fail(fld, path, "file", detail=str(exc))
        kept = (node.values or [""])[-1] if node is not None else ""
        if kept:
            return kept
        return _MISSING


def _raw(formdata: Any) -> dict[str, list[str]]:
    if formdata is None:
        return {}
    if hasattr(formdata, "lists"):
        return {k: [str(v) for v in vs] for k, vs in formdata.lists()}
    raw: dict[str, list[str]] = {}
    for key, value in dict(formdata).items():
        raw[key] = [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
    return raw


def _has_nul(node: _Post) -> bool:
    return any("\x00" in v for v in node.values) or any(
        "\x00" in v for vs in node.parts.values() for v in vs)


def _nul_in(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_nul_in(k) or _nul_in(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_nul_in(v) for v in value)
    return False


def _blank(node: _Post) -> bool:
    if any(v.strip() for v in node.values) or any(
            v.strip() for vs in node.parts.values() for v in vs):
        return False
    return all(_blank(c) for c in node.children.values())


def _node(tree: _Post, segments: list[str]) -> _Post | None:
    node: _Post | None = tree
    for segment in segments:
        if node is None:
            return None
        node = node.children.get(segment)
    return node


def _parent_field(form: FormDefinition, segments: list[str]) -> Field:
    parent = _field_at(form, segments[:-1])
    return parent if parent is not None else form.root



def _put(data: Any, segments: list[str], value: Any) -> None:
    for segment in segments[:-1]:
        if isinstance(data, list) and paths.is_index(segment):
            data = data[int(segment)]
            continue
        nxt = data.get(segment)
        if not isinstance(nxt, (dict, list)):
            nxt = {}
            data[segment] = nxt
        data = nxt
    if not segments:
        return
    last = segments[-1]
    if isinstance(data, list) and paths.is_index(last):
        data[int(last)] = value
    else:
        data[last] = value

