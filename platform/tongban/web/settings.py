"""Visitor preferences kept in the session: language and the elderly-friendly mode (长辈版)."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, redirect, request, session
from flask.typing import ResponseReturnValue

from ..i18n import SUPPORTED_LOCALES
from .auth import safe_redirect_target

bp = Blueprint("settings", __name__)


@bp.post("/settings/language")
def language() -> ResponseReturnValue:
    chosen = request.form.get("locale", "")
    if chosen in SUPPORTED_LOCALES:
        session["locale"] = chosen
    return redirect(safe_redirect_target(request.form.get("next")))


@bp.post("/settings/elder")
def elder() -> ResponseReturnValue:
    session["elder"] = request.form.get("on") == "1"
    return redirect(safe_redirect_target(request.form.get("next")))


@bp.post("/settings/session")
def extend_session() -> ResponseReturnValue:
    """Any request refreshes the idle timer; this one exists to be pressed on purpose."""
    session.modified = True
    if request.headers.get("HX-Request"):
        return "", 204
    return redirect(safe_redirect_target(request.form.get("next")))


def remember_choice(values: Mapping[str, str]) -> None:
    """A language (``locale``) or 长辈版 (``elder``: "1" or "0") chosen on a form page, where the
    switch posts the page's answers (``apply.switch``) and the choice comes in the address."""
    if values.get("locale") in SUPPORTED_LOCALES:
        session["locale"] = values["locale"]
    if values.get("elder") in ("0", "1"):
        session["elder"] = values["elder"] == "1"
