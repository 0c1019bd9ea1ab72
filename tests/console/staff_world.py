"""Helpers of the staff administration tests: who is who, posting a form with its CSRF token."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlmodel import Session, col

from tongban.models import AuditEvent, Membership, User

from ..conftest import DEMO_PASSWORD, Personas, csrf_token


def user_named(session: Session, username: str) -> User:
    session.commit()  # a fresh read of what the requests wrote, not an earlier snapshot
    session.expire_all()
    user = session.scalars(select(User).where(col(User.username) == username)).one()
    return user


def grants(session: Session, username: str) -> set[tuple[str, int | None]]:
    user = user_named(session, username)
    return {(m.role, m.department_id) for m in session.scalars(
        select(Membership).where(col(Membership.user_id) == user.id))}


def actions(session: Session, object_id: int) -> list[str]:
    session.commit()
    session.expire_all()
    return list(session.scalars(select(col(AuditEvent.action)).where(
        col(AuditEvent.object_type) == "user", col(AuditEvent.object_id) == str(object_id))
        .order_by(col(AuditEvent.seq))))


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None, *,
         page: str = "/admin/users", **kwargs: Any):  # type: ignore[no-untyped-def]
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, page)},
                       **kwargs)


def signed_in(app: Flask, username: str, password: str = DEMO_PASSWORD) -> FlaskClient:
    return Personas(app.test_client()).as_(username)


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    """The page's text without tags, spaces folded (messages are asserted whole)."""
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
