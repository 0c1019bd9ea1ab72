"""What the console's editors share below the web layer: a refused edit, and the round-trip YAML
that keeps a file's comments, key order and the one-line style of small maps.

Each editor raises its own subclass of :class:`EditRefused`; the editor pages catch this class
(``tongban.web.console_editor``), so a new editor only has to raise it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from io import StringIO
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap


class EditRefused(ValueError):
    """A refused edit: ``template % params`` is the English message (a gettext msgid, translated
    by the page); nothing was changed. ``at`` names the field it is about, when the edit knows
    better than the page that posted it."""

    def __init__(self, template: str, *, at: str = "", **params: Any) -> None:
        self.template = template
        self.params = params
        self.at = at
        super().__init__(template % params if params else template)


def round_trip_yaml(width: int = 100) -> YAML:
    """The loader and dumper of every YAML edit: the repository files' indentation, quotes kept,
    ``[{var: x}, 1]`` not ruamel's default ``[var: x, 1]``. Lines longer than ``width`` are
    folded (a file of long sentences passes a large width, so that nothing is folded)."""
    yaml = YAML(typ="rt")
    yaml.allow_unicode = True
    yaml.width = width
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.preserve_quotes = True
    yaml.brace_single_entry_mapping_in_flow_sequence = True
    return yaml


def dump(doc: Any, *, width: int = 100) -> str:
    out = StringIO()
    round_trip_yaml(width).dump(doc, out)
    return out.getvalue()


def plain(value: Any) -> Any:
    """Round-trip data as plain dicts and lists (for views and checks)."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def small(**values: Any) -> CommentedMap:
    """A map written on one line, as the files write names and actors."""
    found = CommentedMap(values)
    found.fa.set_flow_style()
    return found


def put(node: CommentedMap, key: str, value: Any, *, before: Iterable[str] = ()) -> None:
    """Set key; a new key goes before the first of ``before`` the node has, else at the end."""
    if key in node:
        node[key] = value
        return
    keys = list(node)
    for anchor in before:
        if anchor in keys:
            node.insert(keys.index(anchor), key, value)
            return
    node[key] = value
