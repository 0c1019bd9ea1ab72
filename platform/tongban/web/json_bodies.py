"""JSON request bodies: refused (415) on every route that does not take them, before the body is
read; a route opts in with ``accepts_json`` and parses with the standard parser (``json_body``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, request

View = TypeVar("View", bound=Callable[..., Any])
_ACCEPTS_JSON = "tongban_accepts_json"


def accepts_json(view: View) -> View:
    """Mark a view as taking a JSON body. It reads it with ``json_body()``, which is bounded by
    MAX_CONTENT_LENGTH like every other body."""
    setattr(view, _ACCEPTS_JSON, True)
    return view


def json_body() -> Any:
    """The request's JSON, parsed by ``json.loads`` (through Flask's ``get_json``): 400 when it is
    not JSON or nests so deep that the parser gives up, 413 past MAX_CONTENT_LENGTH."""
    try:
        return request.get_json()
    except RecursionError:
        abort(400)


def _refuse_json_bodies() -> None:
    # Checked on the Content-Type header alone: the body is never read, so a large JSON body
    # costs nothing. URLs that match no route are refused the same way.
    if not request.is_json or not _has_body():
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or not getattr(view, _ACCEPTS_JSON, False):
        abort(415)


def _has_body() -> bool:
    # A monitor's GET that merely names JSON as its type carries nothing to refuse.
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    return chunked or bool(request.content_length)


def init_app(app: Flask) -> None:
    """Register before anything that may read the body (form-part counting, CSRF)."""
    app.before_request(_refuse_json_bodies)
