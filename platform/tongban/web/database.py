"""The request's database session: one per request, so one pooled connection per request.

Views and the web layer's own stores (server-side sessions, the department tree) read and
write through :func:`request_session`; it is closed at the end of the request, which gives
its connection back to the pool. Domain code never reaches for it: it is handed the session.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlmodel import Session

from .. import db


def init_app(app: Flask) -> None:
    """Close the request's session when the request (or app context) ends; the engine itself
    is made by :func:`tongban.db.init_app`."""
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    return current_app.extensions["tongban.engine"]


def request_session() -> Session:
    """The request's session; created on first use, closed at teardown (its connection goes
    back to the pool)."""
    if "db_session" not in g:
        g.db_session = db.new_session(engine())
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


@contextmanager
def request_transaction() -> Iterator[Session]:
    """One unit of work on the request's session (see :func:`tongban.db.unit_of_work`)."""
    with db.unit_of_work(request_session()) as tx:
        yield tx
