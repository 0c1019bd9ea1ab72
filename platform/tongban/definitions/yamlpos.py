"""Strict YAML/JSON reading that keeps the line and column of every value."""

from __future__ import annotations

import copy
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from io import StringIO
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import AliasEvent, NodeEvent, ScalarEvent

from ..i18n import N_

_DAY = re.compile(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$")  # what YAML would read as a date


@dataclass(frozen=True)
class ReadError(Exception):
    line: int
    column: int
    message: str
    # The message as an N_-marked template and its values (message == template % params), so
    # pages can show it translated; empty when the message is English only.
    template: str = ""
    params: dict[str, Any] | None = field(default=None, hash=False)


def _error(line: int, column: int, template: str, **params: Any) -> ReadError:
    return ReadError(line, column, template % params, template, params)


@dataclass
class Document:
    """Plain data plus the positions needed to point at any JSON pointer in it."""

    data: Any
    tree: Any  # the ruamel round-trip tree, carrying .lc positions
    # JSON: the text the tree is read from when a position is first asked for (reading JSON
    # as YAML for its positions costs more than everything else about a form file).
    text: str | None = None

    def position(self, path: list[str | int]) -> tuple[int, int]:
        """1-based (line, column) of the deepest node of path that exists."""
        if self.tree is None and self.text is not None:
            try:
                self.tree = _yaml().load(self.text)
            except Exception:  # noqa: BLE001 - positions are a convenience; the data is valid
                self.text = None
        node, line, column = self.tree, 1, 1
        for part in path:
            if isinstance(node, CommentedMap) and part in node:
                line, column = node.lc.value(part) if _is_scalar(node[part]) else node.lc.key(part)
                line, column = line + 1, column + 1
                node = node[part]
            elif isinstance(node, CommentedMap) and isinstance(part, str) and part.isdigit() \
                    and int(part) in node:  # a number key (a year) read as text by _plain
                key = int(part)
                line, column = node.lc.value(key) if _is_scalar(node[key]) else node.lc.key(key)
                line, column = line + 1, column + 1
                node = node[key]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                line, column = node.lc.item(part)
                line, column = line + 1, column + 1
                node = node[part]
            else:
                break
        return line, column


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, CommentedMap | CommentedSeq)


def _plain(node: Any) -> Any:
    if isinstance(node, CommentedMap):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, CommentedSeq):
        return [_plain(v) for v in node]
    if isinstance(node, date):
        # An unquoted 2026-10-01 is a YAML timestamp; definitions keep days as ISO text.
        return node.isoformat()
    if isinstance(node, bool | int | float | str) or node is None:
        # ruamel scalar subclasses (ScalarFloat, etc.) become plain Python values.
        for kind in (bool, int, float, str):
            if isinstance(node, kind):
                return kind(node)
        return node
    raise ReadError(1, 1, f"values of type {type(node).__name__} are not allowed here")


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


# Readings of YAML texts seen lately: the form editor checks a draft against the same published
# files (the department catalogue, calendars) on every save, and ruamel reads ~50 KB/s.
_READ_CACHE: OrderedDict[str, tuple[Any, Any]] = OrderedDict()
_READ_CACHE_SIZE = 64
_read_cache_lock = threading.Lock()


def read_yaml(text: str) -> Document:
    """Parse YAML, refusing anchors and aliases (no alias bombs) and duplicate keys. A text
    read before gives the same positions and a fresh copy of its data."""
    with _read_cache_lock:
        cached = _READ_CACHE.get(text)
        if cached is not None:
            _READ_CACHE.move_to_end(text)
    if cached is not None:
        return Document(copy.deepcopy(cached[0]), cached[1])
    document = _read_yaml(text)
    with _read_cache_lock:
        _READ_CACHE[text] = (copy.deepcopy(document.data), document.tree)
        while len(_READ_CACHE) > _READ_CACHE_SIZE:
            _READ_CACHE.popitem(last=False)
    return document


def _read_yaml(text: str) -> Document:
    yaml = _yaml()
    try:
        for event in yaml.parse(StringIO(text)):
            if isinstance(event, AliasEvent) or (
                    isinstance(event, NodeEvent) and event.anchor is not None):
                mark = event.start_mark
                raise _error(mark.line + 1, mark.column + 1,
                             N_("YAML anchors and aliases (& and *) are not allowed"))
            if isinstance(event, ScalarEvent) and event.style is None \
                    and _DAY.match(event.value):
                try:
                    date.fromisoformat(event.value)
                except ValueError:
                    mark = event.start_mark
                    raise _error(mark.line + 1, mark.column + 1,
                                 N_('"%(value)s" is not a date; expected YYYY-MM-DD'),
                                 value=event.value) from None
            tag = getattr(event, "tag", None)
            if tag and not str(tag).startswith("tag:yaml.org,2002:"):
                mark = event.start_mark
                raise _error(mark.line + 1, mark.column + 1,
                             N_("YAML tags such as %(tag)s are not allowed"), tag=str(tag))
        tree = yaml.load(text)
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        key = str(exc.problem).split('"')[1] if '"' in str(exc.problem) else ""
        first = _first_definition(text, key, exc.context_mark, mark)
        if key and first is not None:
            raise _error(mark.line + 1, mark.column + 1,
                         N_('duplicate key "%(key)s" (first defined on line %(first)s)'),
                         key=key, first=first) from None
        if key:
            raise _error(mark.line + 1, mark.column + 1, N_('duplicate key "%(key)s"'),
                         key=key) from None
        raise _error(mark.line + 1, mark.column + 1, N_("duplicate key")) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = (exc.problem or exc.context or "invalid YAML").strip()
        raise _error((mark.line + 1) if mark else 1, (mark.column + 1) if mark else 1,
                     N_("YAML syntax error: %(reason)s"), reason=reason) from None
    if tree is None:
        raise _error(1, 1, N_("the file is empty"))
    return Document(_plain(tree), tree)


def _first_definition(text: str, key: str, mapping: Any, duplicate: Any) -> int | None:
    """The 1-based line where `key` was first written in the block mapping holding the
    duplicate. ruamel's context mark is where the mapping starts, not the first key, so the
    lines between are searched for the key at the duplicate's indentation."""
    if not key or mapping is None or duplicate is None:
        return None
    name = re.escape(key)
    written = re.compile(" " * duplicate.column + f"""({name}|"{name}"|'{name}')\\s*:""")
    lines = text.splitlines()
    for number in range(mapping.line, min(duplicate.line, len(lines))):
        if written.match(lines[number]):
            return number + 1
    return None


def read_json(text: str) -> Document:
    """Parse strict JSON (duplicate keys refused); positions come from a YAML reading, made
    when the first one is asked for."""
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise ValueError(f'duplicate key "{key}"')
            seen[key] = value
        return seen

    try:
        data = json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise ReadError(exc.lineno, exc.colno, f"JSON syntax error: {exc.msg}") from None
    except ValueError as exc:
        line, column = 1, 1
        try:
            _yaml().load(text)
        except DuplicateKeyError as dup:
            line, column = dup.problem_mark.line + 1, dup.problem_mark.column + 1
        except Exception:  # noqa: BLE001 - the JSON message is the one that matters
            pass
        raise ReadError(line, column, str(exc)) from None
    return Document(data, None, text)
