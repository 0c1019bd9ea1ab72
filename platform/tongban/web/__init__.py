"""Web layer: blueprints by audience, plus what every request shares."""

from __future__ import annotations

import base64
import hashlib
import re
import uuid

from flask import Flask, abort, current_app, g, request, session, url_for
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from markupsafe import Markup

from .. import db
from ..accounts import load_login_user
from ..fragments import Fragment, marker
from .json_bodies import init_app as init_json_bodies

csrf = CSRFProtect()
login_manager = LoginManager()
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# The one inline script: marks the page as having JavaScript before it is drawn, so that
# questions forms.js reveals later do not flash up first (forms.css, tb-js). Inline rather than
# a file, which would cost every page a blocking request; the CSP allows exactly this text.
JS_ENABLED_SCRIPT = 'document.documentElement.classList.add("tb-js")'
_JS_ENABLED_HASH = base64.b64encode(hashlib.sha256(JS_ENABLED_SCRIPT.encode()).digest()).decode()
_SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy",
     "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
     f"script-src 'self' 'sha256-{_JS_ENABLED_HASH}'; frame-ancestors 'none'; "
     "form-action 'self'; base-uri 'self'"),
)
_SECURITY_HEADERS_LOWER = tuple((name.lower(), name, value) for name, value in _SECURITY_HEADERS)


def fixed_url(endpoint: str, filename: str | None = None) -> str:
    """``url_for`` for URLs that do not change while the app runs: static files and pages
    without arguments. Built once per app and mount point; every page's header uses several."""
    cache = current_app.extensions.setdefault("tongban.fixed_urls", {})
    key = (request.script_root, endpoint, filename)
    url = cache.get(key)
    if url is None:
        url = cache[key] = (url_for(endpoint, filename=filename) if filename is not None
                            else url_for(endpoint))
    return url


_URL_SAFE = re.compile(r"^[A-Za-z0-9_.~-]+$")


def path_url(endpoint: str, **values: str) -> str:
    """``url_for`` for a route whose arguments are path segments, such as a draft's pages: the
    URL is built once per endpoint and mount point with placeholders, then filled in. A value
    with any character that URL quoting would change goes through ``url_for`` itself."""
    if not all(_URL_SAFE.match(value) for value in values.values()):
        return url_for(endpoint, **values)
    cache = current_app.extensions.setdefault("tongban.path_urls", {})
    key = (request.script_root, endpoint, tuple(values))
    pattern = cache.get(key)
    if pattern is None:
        pattern = cache[key] = Fragment(url_for(endpoint, **{name: marker(name) for name in values}))
    return str(pattern.fill(values))




def init_web(app: Flask) -> None:
    from . import (
        admin,
        apply,
        auth,
        errors,
        files,
        health,
        layout,
        links,
        portal,
        ratelimits,
        regions,
        review,
        sessions,
        settings,
    )

    app.before_request(links.refuse_untrusted_host)  # first: nothing else runs for such a host

    init_json_bodies(app)  # first: before anything that may read the body

    @app.before_request
    def _limit_form_parts() -> None:
        # Werkzeug limits parts of multipart bodies only; url-encoded bodies are counted here,
        # before CSRF or any view reads them.
        if request.mimetype == "application/x-www-form-urlencoded":
            parts = sum(len(values) for _key, values in request.form.lists())
            if parts > app.config["MAX_FORM_PARTS"]:
                abort(413)

    app.jinja_env.globals["fixed_url"] = fixed_url
    app.jinja_env.globals["js_enabled_script"] = Markup(f"<script>{JS_ENABLED_SCRIPT}</script>")
    app.session_interface = sessions.DatabaseSessionInterface()
    csrf.init_app(app)  # templates' csrf_token() is Flask-WTF's generate_csrf
    login_manager.init_app(app)
    layout.init_app(app)  # after Flask-WTF and Flask-Login: it guards what they give templates
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load_user(user_id: str):  # type: ignore[no-untyped-def]
        return load_login_user(db.session(), int(user_id)) if user_id.isdigit() else None

    @app.before_request
    def _anonymous_session_identity() -> None:
        # Strong session protection takes a session without "_id" (any visitor who has not
        # signed in but has a CSRF token or a draft) for a moved one: it clears keys, which
        # re-signs the cookie and sends a remember-cookie deletion with every response. The
        # visitor's identifier (address and browser, as sign-in records it) ends that; a
        # session that does move from there is still treated as moved.
        if session and "_id" not in session:
            session["_id"] = login_manager._session_identifier_generator()

    @app.before_request
    def _request_id() -> None:
        supplied = request.headers.get("X-Request-ID", "")
        g.request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex

    hsts = app.config["HSTS"]  # on when BASE_URL is https (config.py)

    @app.after_request
    def _headers(response):  # type: ignore[no-untyped-def]
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

    for module in (auth, portal, apply, review, files, admin, settings, health, regions):
        app.register_blueprint(module.bp)
    ratelimits.init_app(app)
    errors.init_app(app)
