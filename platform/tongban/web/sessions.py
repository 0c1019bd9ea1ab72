"""Server-side sessions: the cookie holds a random id, the `web_session` table holds the data.

A session can then be ended on the server (sign-out, a password change, deactivation), which a
signed cookie cannot: a copy of the cookie would stay valid until it expires.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime, timedelta
from typing import Any, cast

from flask import Flask, Request, Response
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSession, SessionInterface
from sqlalchemy import CursorResult, bindparam, delete, select, update
from sqlmodel import Session, col

from ..models import WebSession, utcnow
from .database import request_session, request_transaction

# Writing last_seen_at on every request would turn every page view into a write; it is moved
# on at most this often, and the idle limit allows for it, so a session never ends early
# (at most this much late).
TOUCH_INTERVAL = timedelta(minutes=1)
# Expired rows are deleted by `tongban sessions purge` and, at most this often per process,
# by the request that creates a session.
PURGE_INTERVAL_SECONDS = 600
_serializer = TaggedJSONSerializer()  # what Flask's cookie sessions use: tuples, bytes, Markup


# Read on every request that brings a cookie: the columns alone, not an ORM object (nothing is
# changed through it), with a statement built once so SQLAlchemy's compiled cache serves it.
_READ_SESSION = select(col(WebSession.data), col(WebSession.created_at),
                       col(WebSession.last_seen_at), col(WebSession.expires_at)).where(
    col(WebSession.id_hash) == bindparam("id_hash"))


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class ServerSession(SecureCookieSession):
    """The request's session values, and which row they came from."""

    def __init__(self, initial: dict[str, Any] | None = None, session_id: str | None = None,
                 created_at: datetime | None = None, last_seen_at: datetime | None = None):
        super().__init__(initial)
        self.session_id = session_id
        self.created_at = created_at
        self.last_seen_at = last_seen_at
        self.renew = False

    def regenerate(self) -> None:
        """Give this session a new id at the end of the request and delete the old row: called
        at sign-in (against session fixation) and sign-out (a copied cookie stops working)."""
        self.renew = True
        self.modified = True


def regenerate(session: Any) -> None:
    """Renew the id of the request's session (see :meth:`ServerSession.regenerate`)."""
    if isinstance(session, ServerSession):
        session.regenerate()


class DatabaseSessionInterface(SessionInterface):
    """Flask sessions kept in the database through SQLAlchemy's ``Session`` and pool.

    Each request reads its row once; it writes only when the values changed, when the id is
    renewed, or to move ``last_seen_at`` on (at most once per ``TOUCH_INTERVAL``). A visitor
    whose session holds nothing gets no row and no cookie."""

    session_class = ServerSession

    def __init__(self) -> None:
        self._last_purge = -float(PURGE_INTERVAL_SECONDS)  # the first new session purges

    # -- limits --------------------------------------------------------------------------
    @staticmethod
    def _idle(app: Flask) -> timedelta:
        return timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])

    @staticmethod
    def _absolute(app: Flask) -> timedelta:
        return timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])

    # -- Flask's interface ---------------------------------------------------------------
    def open_session(self, app: Flask, request: Request) -> ServerSession:
        session_id = request.cookies.get(self.get_cookie_name(app), "")
        if not session_id or len(session_id) > 128:
            return self.session_class()
        now = utcnow()
        # The request's own database session: a request holds one pooled connection, never two
        # (two per request deadlock a full pool: each holder waits for a second).
        row = request_session().execute(_READ_SESSION, {"id_hash": _hash(session_id)}).first()
        idle_until = row.last_seen_at + self._idle(app) + TOUCH_INTERVAL if row else now
        if row is None or row.expires_at <= now or idle_until <= now:
            # Unknown, tampered with, signed out or expired: a fresh session, never the old one.
            return self.session_class()
        try:
            data = _serializer.loads(row.data)
        except ValueError:
            return self.session_class()
        return self.session_class(data, session_id=session_id, created_at=row.created_at,
                                  last_seen_at=row.last_seen_at)

    # Narrower than Flask's SessionMixin: open_session above only ever makes a ServerSession.
    def save_session(self, app: Flask, session: ServerSession,  # type: ignore[override]
                     response: Response) -> None:
        name, domain, path = (self.get_cookie_name(app), self.get_cookie_domain(app),
                              self.get_cookie_path(app))
        old_id = session.session_id
        if not session:
            if old_id is not None:  # emptied (signed out with nothing kept): end it
                self._delete(app, old_id)
                response.delete_cookie(name, domain=domain, path=path,
                                       secure=self.get_cookie_secure(app),
                                       httponly=self.get_cookie_httponly(app),
                                       samesite=self.get_cookie_samesite(app))
                response.vary.add("Cookie")
            return
        if session.accessed:
            response.vary.add("Cookie")
        now = utcnow()
        data = _serializer.dumps(dict(session))
        user_id = _user_id(session)
        if old_id is None or session.renew:
            new_id = secrets.token_urlsafe(32)
            row = WebSession(id_hash=_hash(new_id), user_id=user_id, data=data, created_at=now,
                             last_seen_at=now, expires_at=now + self._absolute(app))
            with request_transaction() as tx:
                if old_id is not None:
                    tx.execute(delete(WebSession).where(col(WebSession.id_hash) == _hash(old_id)))
                tx.add(row)
            self._set_cookie(app, response, new_id, row.last_seen_at, row.expires_at)
            self._purge_now_and_then(app)
            return
        assert session.created_at is not None and session.last_seen_at is not None
        expires_at = session.created_at + self._absolute(app)
        stale = now - session.last_seen_at >= TOUCH_INTERVAL
        if not session.modified and not stale:
            return
        values: dict[str, Any] = {"last_seen_at": now}
        if session.modified:
            values.update(data=data, user_id=user_id)
        with request_transaction() as tx:
            result = tx.execute(update(WebSession)
                                .where(col(WebSession.id_hash) == _hash(old_id)).values(**values))
            found = cast(CursorResult[Any], result).rowcount
        if found:  # not ended meanwhile (sign-out elsewhere, password change)
            self._set_cookie(app, response, old_id, now, expires_at)

    # -- helpers -------------------------------------------------------------------------
    def _set_cookie(self, app: Flask, response: Response, session_id: str,
                    last_seen_at: datetime, expires_at: datetime) -> None:
        # The browser forgets the cookie when the server would: at the idle or the absolute
        # limit, whichever comes first.
        expires = min(last_seen_at + self._idle(app) + TOUCH_INTERVAL, expires_at)
        response.set_cookie(self.get_cookie_name(app), session_id, expires=expires,
                            httponly=self.get_cookie_httponly(app),
                            domain=self.get_cookie_domain(app), path=self.get_cookie_path(app),
                            secure=self.get_cookie_secure(app),
                            samesite=self.get_cookie_samesite(app),
                            partitioned=self.get_cookie_partitioned(app))
        response.vary.add("Cookie")

    def _delete(self, app: Flask, session_id: str) -> None:
        with request_transaction() as tx:
            tx.execute(delete(WebSession).where(col(WebSession.id_hash) == _hash(session_id)))

    def _purge_now_and_then(self, app: Flask) -> None:
        if time.monotonic() - self._last_purge < PURGE_INTERVAL_SECONDS:
            return
        self._last_purge = time.monotonic()
        with request_transaction() as tx:
            purge_expired(tx, idle=self._idle(app))


def _user_id(session: ServerSession) -> int | None:
    value = session.get("_user_id")  # where Flask-Login keeps the signed-in user
    return int(value) if isinstance(value, str) and value.isdigit() else None


def purge_expired(database: Session, *, idle: timedelta) -> int:
    """Delete sessions past their absolute or idle limit; return how many."""
    now = utcnow()
    result = database.execute(delete(WebSession).where(
        (col(WebSession.expires_at) <= now)
        | (col(WebSession.last_seen_at) <= now - idle - TOUCH_INTERVAL)))
    return cast(CursorResult[Any], result).rowcount or 0


def count_sessions(database: Session, user_id: int) -> int:
    """How many live session rows a user has (for operators and tests)."""
    return len(database.scalars(select(col(WebSession.id_hash))
                          .where(col(WebSession.user_id) == user_id)).all())
