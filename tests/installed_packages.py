"""The installed packages' metadata, read once per test run while nothing is installed.

Each test's app builds its plugin manager, which reads the entry points of every installed
distribution (about 150 files, twice: the clash check and pluggy's loading): after the URL rules,
the largest part of the app factory's time. The run reads them once and keeps the parsed
distributions for as long as ``sys.path`` and the folders on it are unchanged; a test that
installs a package (tests/plugins/test_manager.py writes a dist-info folder onto a path of its
own) changes one of them and gets a fresh reading.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any


class _ReadOnce(importlib.metadata.Distribution):
    """A distribution whose files are read at most once."""

    def __init__(self, dist: importlib.metadata.Distribution) -> None:
        self._dist = dist
        self._texts: dict[str, str | None] = {}

    def read_text(self, filename: str) -> str | None:
        if filename not in self._texts:
            self._texts[filename] = self._dist.read_text(filename)
        return self._texts[filename]

    def locate_file(self, path: Any) -> Any:
        return self._dist.locate_file(path)

    @functools.cached_property
    def entry_points(self) -> importlib.metadata.EntryPoints:  # type: ignore[override]  # cached
        return super().entry_points

    @functools.cached_property
    def metadata(self) -> Any:  # type: ignore[override]  # the parsed message, cached
        return super().metadata


def _state() -> tuple[tuple[str, int], ...]:
    """Each folder on sys.path with the time it last changed (a package added or removed)."""
    state = []
    for entry in sys.path:
        try:
            state.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            state.append((entry, -1))
    return tuple(state)


@contextmanager
def metadata_read_once() -> Iterator[None]:
    read = importlib.metadata.distributions
    held: dict[tuple[tuple[str, int], ...], list[importlib.metadata.Distribution]] = {}

    def distributions(**kwargs: Any) -> Iterable[importlib.metadata.Distribution]:
        if kwargs:
            return read(**kwargs)
        state = _state()
        if state not in held:
            held.clear()
            held[state] = [_ReadOnce(dist) for dist in read()]
        return iter(held[state])

    importlib.metadata.distributions = distributions  # type: ignore[assignment]  # restored below
    try:
        yield
    finally:
        importlib.metadata.distributions = read  # type: ignore[assignment]
