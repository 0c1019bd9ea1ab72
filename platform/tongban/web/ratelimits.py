"""Rate limits (Flask-Limiter) on sign-in, starting and submitting applications.

Throttling replaces the old account lock, which any stranger could trigger for any account:
sign-in is limited per address, and failed sign-ins per (account, address), so a guesser slows
only themselves while the account's owner signs in from their own address as usual.
Counters live in memory for the embedded default and in Redis when RATELIMIT_STORAGE_URI says so.
"""

from __future__ import annotations

import hashlib

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user

limiter = Limiter(key_func=get_remote_address)


def _setting(name: str):  # type: ignore[no-untyped-def]
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


def _failed_sign_in(response: Response) -> bool:
    return response.status_code != 302  # a signed-in visitor is redirected


login_by_address = limiter.limit(_setting("LOGIN_RATE_LIMIT_ADDRESS"), methods=["POST"],
                                 scope="login-address")
login_by_account = limiter.limit(_setting("LOGIN_RATE_LIMIT_ACCOUNT"), methods=["POST"],
                                 key_func=_account_at_address, deduct_when=_failed_sign_in,
                                 scope="login-account")
start = limiter.limit(_setting("START_RATE_LIMIT"), key_func=_user_or_address,
                      methods=["POST"], scope="start")
submit = limiter.limit(_setting("SUBMIT_RATE_LIMIT"), key_func=_user_or_address,
                       methods=["POST"], scope="submit")


def init_app(app: Flask) -> None:
    limiter.init_app(app)
