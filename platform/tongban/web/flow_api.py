"""Machine API of the flow engine: another department's system answers a ``wait`` node.

``POST /api/flow/messages`` with ``Authorization: Bearer TOKEN`` (a token of
FLOW_MESSAGE_TOKENS, which also names the sender) and the JSON body
``{"reference": ..., "message": ..., "key": ..., "payload": {...}}``. Token-authenticated, so
exempt from CSRF (no cookie is involved: ``web.init_web`` exempts this one view); every
answer, errors included, is JSON.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from werkzeug.exceptions import HTTPException

from ..models import Application
from ..workflow import runtime
from ..workflow.errors import FlowError, Stale
from .database import request_session, request_transaction
from .json_bodies import accepts_json, json_body

bp = Blueprint("flow_api", __name__, url_prefix="/api/flow")
MAX_FIELD = 200
DELIVERY_TRIES = 3


def _error(status: int, code: str, message: str, **extra: Any) -> ResponseReturnValue:
    response = jsonify({"error": code, "message": message, **extra})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="tongban-flow"'
    return response


def _sender() -> str | None:
    """The sender the presented bearer token belongs to; every token is compared in full."""
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return None
    found = None
    for token, sender in current_app.config["FLOW_MESSAGE_TOKENS"].items():
        if hmac.compare_digest(token.encode(), presented.strip().encode()):
            found = sender
    return found


def _read_message(body: Any) -> tuple[dict[str, Any] | None, str]:
    if not isinstance(body, dict):
        return None, "The body must be a JSON object"
    fields: dict[str, Any] = {}
    for name in ("reference", "message", "key"):
        value = body.get(name)
        if not isinstance(value, str) or not value.strip():
            return None, f"{name} is required and must be text"
        if len(value) > MAX_FIELD:
            return None, f"{name} is longer than {MAX_FIELD} characters"
        fields[name] = value.strip()
    payload = body.get("payload", {})
    if not isinstance(payload, dict):
        return None, "payload must be a JSON object"
    fields["payload"] = payload
    unknown = sorted(set(body) - {"reference", "message", "key", "payload"})
    if unknown:
        return None, "Unknown field(s): " + ", ".join(unknown)
    return fields, ""


@bp.post("/messages")
@accepts_json
def post_message() -> ResponseReturnValue:
    sender = _sender()
    if sender is None:
        return _error(401, "unauthorized", "A valid bearer token is required")
    if not request.is_json:
        return _error(415, "unsupported_media_type", "Send the message as application/json")
    fields, problem = _read_message(json_body())
    if fields is None:
        return _error(422, "invalid", problem)
    reference = fields["reference"]
    application = request_session().scalars(
        select(Application).where(col(Application.reference) == reference)).first()
    if application is None:
        return _error(404, "unknown_reference", f"There is no application {reference}")
    for attempt in range(DELIVERY_TRIES):
        try:
            with request_transaction() as tx:
                delivered = runtime.deliver_message(
                    tx, application, fields["message"], fields["key"], fields["payload"],
                    sender=sender, request_id=g.get("request_id", ""))
            break
        except (IntegrityError, Stale) as exc:
            # Another delivery (the same key sent twice at once) or a person's action changed
            # the instance first: read it again; a repeated key is now a duplicate.
            if attempt == DELIVERY_TRIES - 1:
                if isinstance(exc, Stale):
                    return _error(exc.status, exc.code, exc.text())
                raise
        except runtime.FlowNotFound:
            return _error(409, "not_waiting", "This application has no step waiting for a "
                                              "message")
        except FlowError as exc:
            return _error(exc.status, exc.code, exc.text())
    if delivered.duplicate:
        return jsonify({"duplicate": True, "reference": reference, "status": delivered.status,
                        "duplicates": delivered.duplicates})
    return jsonify({"duplicate": False, "reference": reference, "status": delivered.status})


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> ResponseReturnValue:
    code = exc.code or 500
    return _error(code, (exc.name or "error").lower().replace(" ", "_"),
                  exc.description or exc.name or "Error")
