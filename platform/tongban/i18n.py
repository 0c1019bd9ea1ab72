"""Language selection and message marking.

Messages are English msgids translated through gettext catalogues (zh_CN is the default
locale). Modules that build messages outside a request mark them with ``N_`` so that
``pybabel extract`` finds them; they are translated with ``gettext`` when rendered.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, session
from flask_babel import Babel, get_locale


def N_(message: str) -> str:
    """Mark a message for extraction without translating it now."""
    return message


SUPPORTED_LOCALES = ("zh_CN", "en")
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"


def compile_catalogues(directory: Path = TRANSLATIONS_DIR) -> None:
    """Compile each messages.po into messages.mo when the .mo is missing or older."""
    for po_path in directory.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle)
        tmp = mo_path.with_suffix(".mo.tmp")
        with tmp.open("wb") as handle:
            write_mo(handle, catalog)
        tmp.replace(mo_path)


def current_lang() -> str:
    """'zh' or 'en': the key used for texts inside definitions."""
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh"


def pick(text: Any, lang: str | None = None) -> str:
    """Choose the current language from a {zh, en} definition text."""
    if isinstance(text, dict):
        lang = lang or current_lang()
        return str(text.get(lang) or text.get("zh") or text.get("en") or "")
    return "" if text is None else str(text)


@cache
def _locale(name: str) -> Locale:
    return Locale.parse(name)


def _select_locale() -> Locale:
    # Returning a parsed Locale spares Flask-Babel parsing the name on every request.
    chosen = session.get("locale")
    if chosen not in SUPPORTED_LOCALES:
        chosen = current_app.config["DEFAULT_LOCALE"]
    return _locale(chosen)


def init_app(app: Flask) -> None:
    compile_catalogues()
    Babel(app, locale_selector=_select_locale)
    app.jinja_env.globals["pick"] = pick
    app.jinja_env.globals["current_lang"] = current_lang
