"""HTML drawn once and kept, with markers where each request puts its own values.

A template that is the same for every request but for a few values (a CSRF token, the page's
own address, a draft's URLs) is rendered once with a marker in place of each such value; the
result is kept split at the markers, and a request only joins the pieces with its values.
A marker is letters, digits and ``_`` only, so escaping and URL quoting pass it through
unchanged, and it starts with a random prefix chosen when the process starts, so no text from
a definition or a visitor can be taken for one.

What is kept is shared by every visitor, so it must be drawn from nothing of any one visitor's.
That is enforced, not left to care: the drawing runs inside :func:`shared_draw`, and while it
runs every per-visitor accessor a template or helper can reach (see :class:`PerVisitor` and
``web/layout.py``) raises :class:`PerVisitorRead`.
"""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from threading import Lock
from typing import Any, Generic, TypeVar

from markupsafe import Markup, escape

V = TypeVar("V")
_PREFIX = "tbslot" + secrets.token_hex(8)
_MARKER = re.compile(_PREFIX + r"([a-z_]+)0")
_NAME = re.compile(r"^[a-z_]+$")


_SHARED_DRAW: ContextVar[str | None] = ContextVar("tongban_shared_draw", default=None)


class PerVisitorRead(RuntimeError):
    """Something of one visitor's was read while drawing HTML that every visitor shares."""


@contextmanager
def shared_draw(what: str) -> Iterator[None]:
    """Mark the block as drawing ``what``, HTML to be kept and shared by every visitor."""
    token = _SHARED_DRAW.set(what)
    try:
        yield
    finally:
        _SHARED_DRAW.reset(token)


def drawing_shared() -> str | None:
    """What shared HTML is being drawn in this context, if any."""
    return _SHARED_DRAW.get()


def refuse_in_shared_draw(name: str) -> None:
    """Raise :class:`PerVisitorRead` if shared HTML is being drawn: ``name`` (a per-visitor
    value such as the session or the draft) must not go into it."""
    what = _SHARED_DRAW.get()
    if what is not None:
        raise PerVisitorRead(f"{name} was read while drawing {what}, which every visitor shares")


class PerVisitor:
    """Stands for a per-visitor object (``request``, ``session``, ``current_user``, …) where
    templates reach it: passes everything through to ``get()``, except while shared HTML is
    being drawn, when any use of it raises :class:`PerVisitorRead`."""

    __slots__ = ("_get", "_name")

    def __init__(self, name: str, get: Callable[[], Any]):
        self._name = name
        self._get = get

    def _target(self) -> Any:
        refuse_in_shared_draw(self._name)
        return self._get()

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._target(), attr)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._target()(*args, **kwargs)

    def __getitem__(self, key: Any) -> Any:
        return self._target()[key]

    def __contains__(self, key: Any) -> bool:
        return key in self._target()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._target())

    def __len__(self) -> int:
        return len(self._target())

    def __bool__(self) -> bool:
        return bool(self._target())

    def __str__(self) -> str:
        return str(self._target())

    def __html__(self) -> str:
        target = self._target()
        return target.__html__() if hasattr(target, "__html__") else str(escape(target))


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


class BoundedLRU(Generic[V]):
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


class FragmentCache(BoundedLRU[Fragment]):
    """Kept fragments, each rendered the first time it is asked for."""

    def get(self, key: Hashable, render: Callable[[], str], what: str = "a kept fragment"
            ) -> Fragment:
        """The fragment kept under ``key``, rendered with ``render()`` (markers in place of
        the slot values) the first time, inside :func:`shared_draw`: ``render`` may read
        nothing of the visitor's."""
        found = self.lookup(key)
        if found is None:
            with shared_draw(what):
                found = Fragment(render())
            self.put(key, found)
        return found
