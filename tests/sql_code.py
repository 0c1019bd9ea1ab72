"""Compiled SQL shared by every test's database engine.

Each test builds its own app and with it its own engine, and SQLAlchemy keeps the SQL it
compiled from a statement per engine: every test compiled each query it ran afresh (about a
tenth of a page test's time). The compiled form depends only on the statement and the dialect,
so the run's engines of one database kind share the first one's dialect and its cache of
compiled statements (made larger: the whole suite's queries). Each engine keeps its own URL,
pool and connections. `tongban.db` itself is left alone: its own tests and every process the
tests start build their engines as the platform does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.util import LRUCache

from tongban import db

CACHE_SIZE = 20_000  # statements; the engines' own default keeps 500


@contextmanager
def sql_compiled_once() -> Iterator[dict[tuple[str, Any], Engine]]:
    make_engine = db.make_engine
    first: dict[tuple[str, Any], Engine] = {}

    def shared(url: str, echo: bool = False, pool_size: int = db.POOL_SIZE) -> Engine:
        engine = make_engine(url, echo=echo, pool_size=pool_size)
        # One dialect per database kind and driver: the same options for every test's engine.
        # It is shared once it has met its server (SQLAlchemy sets it up on the first
        # connection); until then each new engine keeps its own and may become the model.
        kind = (engine.dialect.name, engine.dialect.driver)
        model = first.get(kind)
        if model is not None and model.dialect.server_version_info is not None:
            engine.dialect = model.dialect
            engine._compiled_cache = model._compiled_cache  # noqa: SLF001
        else:
            engine._compiled_cache = LRUCache(CACHE_SIZE)  # noqa: SLF001
            first[kind] = engine
        return engine

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(db, "make_engine", shared)
        yield first
