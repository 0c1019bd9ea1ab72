"""HTML drawn once and kept, with markers where each request puts its own values.

A template that is the same for every request but for a few values (a CSRF token, the page's
own address, a draft's URLs) is rendered once with a marker in place of each such value; the
result is kept split at the markers, and a request only joins the pieces with its values.
A marker is letters, digits and ``_`` only, so escaping and URL quoting pass it through
unchanged, and it starts with a random prefix chosen when the process starts, so no text from
a definition or a visitor can be taken for one.
"""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from threading import Lock
from typing import Generic, TypeVar

from markupsafe import Markup

V = TypeVar("V")
_PREFIX = "tbslot" + secrets.token_hex(8)
_MARKER = re.compile(_PREFIX + r"([a-z_]+)0")
_NAME = re.compile(r"^[a-z_]+$")


def marker(name: str) -> Markup:
    """The marker standing for the value ``name`` (lowercase letters and ``_``) in a kept
    fragment. It ends in a digit, which no name holds, so text right after it never runs
    into it."""
    if not _NAME.match(name):
        raise ValueError(f"slot names are lowercase letters and _: {name!r}")
    return Markup(f"{_PREFIX}{name}0")


class Fragment:
    """Rendered HTML split at its markers: static text, a slot name, static text, …"""

    __slots__ = ("_parts",)

    def __init__(self, html: str):
        self._parts = _MARKER.split(html)

    @property
    def slots(self) -> frozenset[str]:
        return frozenset(self._parts[1::2])

    def fill(self, values: Mapping[str, str]) -> Markup:
        """The HTML with each slot's value, which must already be safe HTML (escaped)."""
        parts = self._parts[:]
        parts[1::2] = [values[name] for name in parts[1::2]]
        return Markup("".join(parts))


class Kept(Generic[V]):
    """At most ``size`` values by key, the least recently used dropped first; thread-safe."""

    def __init__(self, size: int = 512):
        self._size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = Lock()

    def lookup(self, key: Hashable) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class FragmentCache(Kept[Fragment]):
    """Kept fragments, each rendered the first time it is asked for."""

    def get(self, key: Hashable, render: Callable[[], str]) -> Fragment:
        """The fragment kept under ``key``, rendered with ``render()`` (markers in place of
        the slot values) the first time."""
        found = self.lookup(key)
        if found is None:
            found = Fragment(render())
            self.put(key, found)
        return found
