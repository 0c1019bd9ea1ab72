"""Headers on every response: the request id, the security headers and HTML caching rules."""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, request

from .inline_script import JS_ENABLED_HASH

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy",
     "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
     f"script-src 'self' 'sha256-{JS_ENABLED_HASH}'; frame-ancestors 'none'; "
     "form-action 'self'; base-uri 'self'"),
)
_SECURITY_HEADERS_LOWER = tuple((name.lower(), name, value) for name, value in _SECURITY_HEADERS)


def assign_request_id() -> None:
    """Runs before anything else, so every page, error pages included, can name it."""
    supplied = request.headers.get("X-Request-ID", "")
    g.request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex


def init_app(app: Flask) -> None:
    hsts = app.config["HSTS"]  # on when BASE_URL is https (config.py)

    @app.after_request
    def _headers(response: Response) -> Response:
        # Runs on every response: the names present are looked at once, and headers are
        # added rather than set (setting one searches and rewrites the list each time).
        headers = response.headers
        present = {name.lower() for name in headers.keys()}
        request_id = g.get("request_id", "")
        if "x-request-id" in present:
            headers["X-Request-ID"] = request_id
        else:
            headers.add("X-Request-ID", request_id)
        if hsts and "strict-transport-security" not in present:
            headers.add("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        for lower, name, value in _SECURITY_HEADERS_LOWER:
            if lower not in present:  # a view may set its own (files: a stricter CSP)
                headers.add(name, value)
        if headers.get("Content-Type", "").partition(";")[0].strip().lower() == "text/html":
            if "cache-control" not in present:
                headers.add("Cache-Control", "no-store")
            if "vary" in present:
                response.vary.add("HX-Request")
            else:
                headers.add("Vary", "HX-Request")
        return response
