"""Web layer: blueprints by audience, plus what every request shares."""

from __future__ import annotations

import base64
import hashlib
import re
import time
import uuid
from typing import Any

from flask import Flask, abort, current_app, g, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from itsdangerous import BadSignature
from markupsafe import Markup

from .. import db
from ..accounts import load_login_user
from ..forms.paths import copy_answers
from ..fragments import Fragment, Kept, marker
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


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the same cookies and the same checks, but for two
    things done once instead of on every request: the signing serializer is made once per set
    of keys, and a cookie whose signature has been checked is kept opened.

    A browser sends the same cookie with every request until the session changes, and
    checking it (key derivation, HMAC, base64, zlib, JSON) costs more than some whole pages.
    An opened cookie is kept by its full text, signature included, with the time it was
    signed: the age limit is checked again on every request, exactly as the signature check
    would, and each request gets its own copy of the values."""

    def __init__(self) -> None:
        self._serializers: dict[tuple[object, ...], object] = {}
        self._opened: Kept[tuple[dict[str, Any], int]] = Kept(size=10_000)

    def open_session(self, app: Flask, request):  # type: ignore[no-untyped-def]
        serializer = self.get_signing_serializer(app)
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        key = (id(serializer), cookie)
        opened = self._opened.lookup(key)
        if opened is None:
            try:
                data, signed = serializer.loads(  # type: ignore[attr-defined]
                    cookie, max_age=max_age, return_timestamp=True)
            except BadSignature:  # forged, or signed with a key no longer held, or expired
                return self.session_class()
            opened = (data, int(signed.timestamp()))
            self._opened.put(key, opened)
        data, signed_at = opened
        age = int(time.time()) - signed_at  # itsdangerous' own test, in whole seconds
        if age > max_age or age < 0:
            return self.session_class()
        return self.session_class(copy_answers(data))

    def get_signing_serializer(self, app: Flask):  # type: ignore[no-untyped-def]
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        found = self._serializers.get(keys)
        if found is None:
            found = self._serializers[keys] = super().get_signing_serializer(app)
        return found


def init_web(app: Flask) -> None:
    from . import admin, apply, auth, errors, files, health, layout, portal, regions, review, settings

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
    app.session_interface = _SessionInterface()
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
    errors.init_app(app)
