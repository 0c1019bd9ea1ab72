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
from flask import Flask, current_app, g, session
from flask_babel import Babel, get_locale, get_translations
from markupsafe import Markup


def N_(message: str) -> str:
    """Mark a message for extraction without translating it now."""
    return message


SUPPORTED_LOCALES = ("zh_CN", "en")
# The interface locale of each language a person may choose for themselves (/my/settings).
LOCALE_OF_LANGUAGE = {"zh": "zh_CN", "en": "en"}
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
CATALOGUE_ZH = TRANSLATIONS_DIR / "zh" / "LC_MESSAGES" / "messages.po"


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


def _translations() -> Any:
    """The request's catalogue, looked up once per request instead of once per message."""
    found = g.get("_tb_translations")
    if found is None:
        found = g._tb_translations = get_translations()
    return found


def _template_gettext(message: str, **variables: Any) -> Markup:
    return Markup(_translations().ugettext(message)) % variables


def init_app(app: Flask) -> None:
    compile_catalogues()
    Babel(app, locale_selector=_select_locale)
    # Templates call _() dozens of times per page; Flask-Babel's own callables resolve the
    # locale and domain on every call. (The i18n extension adds this method to the
    # environment at run time, so Environment's type does not declare it.)
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: _translations().ugettext(message),
        lambda singular, plural, n: _translations().ungettext(singular, plural, n),
        newstyle=True)
    # `_()` itself in one call: the extension's alias passes through three context calls.
    # Same meaning as newstyle gettext in an autoescaped template: the catalogue's text is
    # trusted, the values put into it are escaped.
    app.jinja_env.globals["_"] = _template_gettext
    app.jinja_env.globals["pick"] = pick
    app.jinja_env.globals["current_lang"] = current_lang
