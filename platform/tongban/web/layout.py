"""The layout every HTML page shares (``base.html``): head links, header, session warning, footer.

It is the same for every visitor in the same language, mode (standard or elderly-friendly) and
sign-in state but for three values: the CSRF token, the page's own address (where the language
and mode switches return to) and the signed-in user's name. So it is drawn once per
combination from ``templates/layout/`` and kept (:mod:`tongban.fragments`); a page fills in its
three values. Every page pays for the layout; this keeps the price to a join.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g, render_template, request, session
from flask_babel import gettext
from flask_login import current_user
from markupsafe import Markup, escape

from ..fragments import FragmentCache, marker
from ..i18n import current_lang
from . import csrf_token, fixed_url

_SLOTS = {name: marker(name) for name in
          ("csrf", "next", "user", "lang_switch", "elder_switch", "page_default")}

PAGE_FORM_ID = "tb-page-form"
"""The ``id`` of a form page's own form (``forms/_page.html``): the header's switches join it."""


@dataclass(frozen=True)
class Shell:
    lang: str
    """The ``lang`` attribute of the page."""
    site_name: str
    head: Markup
    top: Markup
    bottom: Markup


def _state() -> tuple[Hashable, ...]:
    """What the shared parts depend on besides the three per-request values."""
    return (request.script_root, current_lang(), bool(session.get("elder")),
            bool(current_user.is_authenticated))


def _values() -> dict[str, Markup]:
    return {
        "csrf": escape(csrf_token()),
        "next": escape(_return_address()),
        "user": escape(current_user.display_name) if current_user.is_authenticated
        else Markup(""),
        **_switches(),
    }


def send_page_along(switch_url: str) -> None:
    """Make the header's language and 长辈版 switches on the form page being drawn buttons of
    its form, posting to ``switch_url`` (``apply.switch``): what was typed is kept (saved as
    "save and come back later" saves it) instead of lost, with or without JavaScript."""
    g.tb_page_switch = switch_url


def _switches() -> dict[str, Markup]:
    """The switches' attributes: the choice alone, or, on a form page, the page's answers
    with the choice in the address."""
    locale = "zh_CN" if current_lang() == "en" else "en"
    elder = "0" if session.get("elder") else "1"
    switch_url = g.get("tb_page_switch")
    if switch_url is None:
        return {"lang_switch": Markup('name="locale" value="{}"').format(locale),
                "elder_switch": Markup('name="on" value="{}"').format(elder),
                "page_default": Markup("")}
    joined = "&" if "?" in switch_url else "?"
    page_button = Markup('form="{}" name="action" value="save" formnovalidate '
                         'formaction="{}"')
    return {
        "lang_switch": page_button.format(PAGE_FORM_ID, f"{switch_url}{joined}locale={locale}"),
        "elder_switch": page_button.format(PAGE_FORM_ID, f"{switch_url}{joined}elder={elder}"),
        # A form's Enter key presses its first button in the document: here, Continue.
        "page_default": Markup('<button form="{}" name="action" value="continue" hidden '
                               'tabindex="-1"></button>').format(PAGE_FORM_ID),
    }


def _return_address() -> str:
    """Where the language and mode switches come back to: this page. A page drawn in answer
    to a post (a form page with errors, say) comes back to its own address when that address
    also shows it on a GET; otherwise (a post-only address) to the home page."""
    rule = request.url_rule
    if request.method == "GET" or (rule is not None and "GET" in (rule.methods or ())):
        return request.full_path.rstrip("?")
    return fixed_url("portal.index")


def page_shell() -> Shell:
    """The shared parts of the page being rendered (``base.html`` calls this once). While
    :func:`framed` draws a page to keep, they hold markers instead of this request's values."""
    state = _state()
    _root, lang, elder, signed_in = state
    cache: FragmentCache = current_app.extensions["tongban.layout"]

    def draw(name: str) -> str:
        return render_template(f"layout/_{name}.html", lang=lang, elder=elder,
                               signed_in=signed_in, idle_seconds=_idle_seconds(), **_SLOTS)

    values = _SLOTS if g.get("tb_drawing_frame") else _values()
    return Shell(
        lang="en" if lang == "en" else "zh-CN",
        site_name=gettext("Tongban"),
        head=cache.get(("head", *state), lambda: draw("head")).fill(values),
        top=cache.get(("top", *state), lambda: draw("top")).fill(values),
        bottom=cache.get(("bottom", *state), lambda: draw("bottom")).fill(values),
    )


def framed(template: str, key: Hashable, slots: Mapping[str, Markup],
           **context: Any) -> Markup:
    """``render_template(template, **context, **slots)`` for a page whose whole context but
    ``slots`` is fixed by ``key``: drawn once per key and layout state with markers for the
    slots and the layout's own values, kept, and filled in. The caller vouches for ``key``:
    everything in ``context`` must follow from it (and from the language, mode and sign-in
    state, which are added here)."""
    cache: FragmentCache = current_app.extensions["tongban.layout"]

    def draw() -> str:
        g.tb_drawing_frame = True
        try:
            return render_template(template, **context,
                                   **{name: marker(name) for name in slots})
        finally:
            g.tb_drawing_frame = False

    fragment = cache.get(("framed", template, key, *_state()), draw)
    return fragment.fill({**_values(), **slots})


def _idle_seconds() -> int:
    return int(current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds())


def favicon() -> Response:
    """Browsers ask for /favicon.ico on every site, whatever the page links to."""
    return current_app.send_static_file("favicon.ico")


def init_app(app: Flask) -> None:
    app.extensions["tongban.layout"] = FragmentCache(size=1024)
    app.jinja_env.globals["page_shell"] = page_shell
    app.add_url_rule("/favicon.ico", "favicon", favicon)
