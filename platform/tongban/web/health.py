"""Health endpoint for load balancers and operators."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from ..migrate import database_revision, head_revision
from .database import engine

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    try:
        with engine().connect() as connection:
            current = database_revision(connection)
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        return jsonify(status="error", database="unreachable", detail=type(exc).__name__), 503
    head = head_revision()
    ok = current == head
    return jsonify(status="ok" if ok else "error", database="ok", migration=current,
                   migration_head=head), 200 if ok else 503
