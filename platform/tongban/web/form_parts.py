"""A limit on the number of fields in a url-encoded body (Werkzeug limits multipart only)."""

from __future__ import annotations

from flask import Flask, abort, current_app, request


def _limit_form_parts() -> None:
    # Counted before CSRF or any view reads the body.
    if request.mimetype == "application/x-www-form-urlencoded":
        parts = sum(len(values) for _key, values in request.form.lists())
        if parts > current_app.config["MAX_FORM_PARTS"]:
            abort(413)


def init_app(app: Flask) -> None:
    app.before_request(_limit_form_parts)
