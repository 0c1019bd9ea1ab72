"""Rate limits (Flask-Limiter) on sign-in, starting and submitting applications.

Throttling replaces the old account lock, which any stranger could trigger for any account:
sign-in is limited per address, and failed sign-ins per (account, address), so a guesser slows
only themselves while the account's owner signs in from their own address as usual.
Counters live in memory for the embedded default and in Redis when RATELIMIT_STORAGE_URI says so.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, request
from flask_babel import ngettext
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user

from .errors import render_error


def _setting(name: str) -> Callable[[], str]:
    # Read at request time: limits are settings of the app that serves the request.
    return lambda: current_app.config[name]


def _account_at_address() -> str:
    username = request.form.get("username", "").strip().lower()
    # Hashed: a user name typed by a stranger never reaches the counter store as text.
    account = hashlib.sha256(username.encode()).hexdigest()[:32]
    return f"{account}@{get_remote_address()}"


def _user_or_address() -> str:
    if current_user.is_authenticated:
        return f"user:{current_user.get_id()}"
    return f"address:{get_remote_address()}"


def _throttled(exc: RateLimitExceeded) -> tuple[str, int]:
    # The 429 page, saying how long to wait: the window of the limit that was reached.
    minutes = max(1, math.ceil(exc.limit.limit.get_expiry() / 60))
    return render_error(429, ngettext(
        "You have made too many attempts in a short time. Wait %(num)d minute and try again.",
        "You have made too many attempts in a short time. Wait %(num)d minutes and try again.",
        minutes))


def _failed_sign_in(response: Response) -> bool:
    return response.status_code != 302  # a signed-in visitor is redirected


# endpoint -> its limits: (setting holding the limit, key, count only when, scope)
_LIMITS: dict[str, list[tuple[str, Callable[[], str], Callable[[Response], bool] | None, str]]] = {
    "auth.login": [("LOGIN_RATE_LIMIT_ADDRESS", get_remote_address, None, "login-address"),
                   ("LOGIN_RATE_LIMIT_ACCOUNT", _account_at_address, _failed_sign_in,
                    "login-account")],
    # The second sign-in step: per address (a pending sign-in also ends after 5 wrong codes).
    "account.verify": [("LOGIN_RATE_LIMIT_ADDRESS", get_remote_address, None, "verify-address")],
    "apply.start": [("START_RATE_LIMIT", _user_or_address, None, "start")],
    "apply.submit_application": [("SUBMIT_RATE_LIMIT", _user_or_address, None, "submit")],
    "points_public.check": [("SELF_CHECK_RATE_LIMIT", _user_or_address, None, "self-check")],
    "seal_verify.check": [("VERIFY_RATE_LIMIT", get_remote_address, None, "verify")],
}


def init_app(app: Flask) -> None:
    """Give the app its own limiter (its own storage and settings: RATELIMIT_STORAGE_URI and
    Flask-Limiter's other RATELIMIT_* keys) and put the limits on their views. Called once the
    blueprints are registered. One limiter per app rather than one per process, because
    Flask-Limiter keeps the first app's settings on a shared instance."""
    limiter = Limiter(key_func=get_remote_address, app=app)
    app.extensions["tongban.limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, _throttled)
    for endpoint, limits in _LIMITS.items():
        view: Callable[..., Any] = app.view_functions[endpoint]
        for setting, key_func, deduct_when, scope in limits:
            view = limiter.limit(_setting(setting), key_func=key_func, methods=["POST"],
                                 deduct_when=deduct_when, scope=scope)(view)
        app.view_functions[endpoint] = view
