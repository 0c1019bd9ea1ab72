"""The layout every HTML page shares (``base.html``): head links, header, session warning, footer.

It is the same for every visitor in the same language, mode (standard or elderly-friendly) and
sign-in state but for three values: the CSRF token, the page's own address (where the language
and mode switches return to) and the signed-in user's name. So it is drawn once per
combination from ``templates/layout/`` and kept (:mod:`tongban.fragments`); a page fills in its
three values. Every page pays for the layout; this keeps the price to a join.

Kept HTML is drawn under :func:`tongban.fragments.shared_draw`; :func:`init_app` puts guards
(:class:`tongban.fragments.PerVisitor`) in place of everything per-visitor that templates can
reach, so a template that reads the session, the request, ``g``, ``current_user`` or a CSRF
token while it is drawn for everyone raises instead of keeping one visitor's value.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g, get_flashed_messages, render_template, request, session
from flask_babel import gettext
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from ..fragments import FragmentCache, PerVisitor, marker, refuse_in_shared_draw
from ..i18n import current_lang
from .inbox_counts import STAFF, inbox_counts
from .messages import unread_count
from .urls import fixed_url

_SLOTS = {name: marker(name) for name in
          ("csrf", "next", "user", "nav", "lang_switch", "elder_switch",
                     "page_default")}

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


_FRAME_STATE: ContextVar[tuple[Hashable, ...] | None] = ContextVar("tongban_frame_state",
                                                                    default=None)
"""While :func:`framed` draws a page to keep: the layout state it was keyed by."""


def _state() -> tuple[Hashable, ...]:
    """What the shared parts depend on besides the three per-request values."""
    refuse_in_shared_draw("the layout state (session, sign-in)")
    return (request.script_root, current_lang(), bool(session.get("elder")),
            bool(current_user.is_authenticated))


def _values() -> dict[str, Markup]:
    refuse_in_shared_draw("the layout's per-visitor values")
    return {
        "csrf": escape(generate_csrf()),
        "next": escape(_return_address()),
        "user": escape(current_user.display_name) if current_user.is_authenticated
        else Markup(""),
        "nav": _nav(),
        **_switches(),
    }


def _nav() -> Markup:
    """The signed-in visitor's own links: the review inbox with its counts for staff, their
    applications (``/my``) for applicants and counter clerks. Per visitor, so a slot."""
    if not current_user.is_authenticated:
        return Markup("")
    links = []
    if current_user.has_role(*STAFF):
        counts = inbox_counts()
        work = counts["mine"] + counts["group"] + counts.get("extensions", 0)
        shown = str(work) if work < 100 else "99+"
        links.append(Markup(
            '<a class="tb-header__link" href="{}">{}<span class="tb-header__count" '
            'aria-label="{}">{}</span></a>').format(
            fixed_url("review.index"), gettext("Review inbox"),
            gettext("%(count)s tasks waiting", count=shown), shown))
    if current_user.has_role("counter_clerk"):  # issue 17 item 4: the queue and the day list
        links.append(Markup('<a class="tb-header__link" href="{}">{}</a>').format(
            fixed_url("queue.desk"), gettext("Counter queue")))
    if current_user.has_role("platform_admin", "department_admin"):
        links.append(Markup('<a class="tb-header__link" href="{}">{}</a>').format(
            fixed_url("admin.home"), gettext("Administration")))
        links.append(Markup('<a class="tb-header__link" href="{}">{}</a>').format(
            fixed_url("admin.incident_list"), gettext("Flow incidents")))
    if not current_user.has_role(*STAFF) or current_user.has_role("counter_clerk"):
        links.append(Markup('<a class="tb-header__link" href="{}">{}</a>').format(
            fixed_url("apply.mine"), gettext("Your applications")))
    unread = unread_count(current_user.id)
    if unread:
        shown = str(unread) if unread < 100 else "99+"
        links.append(Markup(
            '<a class="tb-header__link" href="{}">{}<span class="tb-header__count" '
            'aria-label="{}">{}</span></a>').format(
            fixed_url("messages.inbox"), gettext("Messages"),
            gettext("%(count)s unread", count=shown), shown))
    else:
        links.append(Markup('<a class="tb-header__link" href="{}">{}</a>').format(
            fixed_url("messages.inbox"), gettext("Messages")))
    links.append(Markup('<a class="tb-header__link" href="{}">{}</a>').format(
        fixed_url("contact.settings"), gettext("Contact settings")))
    return Markup(" ").join(links)


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
    :func:`framed` draws a page to keep, they hold markers instead of this request's values
    and follow the state the page is kept by."""
    framing = _FRAME_STATE.get()
    state = framing if framing is not None else _state()
    _root, lang, elder, signed_in = state
    cache: FragmentCache = current_app.extensions["tongban.layout"]

    def draw(name: str) -> str:
        return render_shared(f"layout/_{name}.html", lang=lang, elder=elder,
                             signed_in=signed_in, idle_seconds=_idle_seconds(), **_SLOTS)

    values = _SLOTS if framing is not None else _values()
    what = "the page layout"
    return Shell(
        lang="en" if lang == "en" else "zh-CN",
        site_name=gettext("Tongban"),
        head=cache.get(("head", *state), lambda: draw("head"), what).fill(values),
        top=cache.get(("top", *state), lambda: draw("top"), what).fill(values),
        bottom=cache.get(("bottom", *state), lambda: draw("bottom"), what).fill(values),
    )


def framed(template: str, key: Hashable, slots: Mapping[str, Markup],
           **context: Any) -> Markup:
    """``render_template(template, **context, **slots)`` for a page whose whole context but
    ``slots`` is fixed by ``key``: drawn once per key and layout state with markers for the
    slots and the layout's own values, kept, and filled in. The caller vouches for ``key``:
    everything in ``context`` must follow from it (and from the language, mode and sign-in
    state, which are added here)."""
    cache: FragmentCache = current_app.extensions["tongban.layout"]
    state = _state()

    def draw() -> str:
        framing = _FRAME_STATE.set(state)
        try:
            return render_shared(template, **context, **{name: marker(name) for name in slots})
        finally:
            _FRAME_STATE.reset(framing)

    fragment = cache.get(("framed", template, key, *state), draw, f"the frame of {template}")
    return fragment.fill({**_values(), **slots})


def _idle_seconds() -> int:
    return int(current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds())


# What templates can reach of the visitor: Flask's template globals and context processors
# (request, session, g), Flask-WTF's token, Flask-Login's user.
_PER_VISITOR = {
    "request": lambda: request, "session": lambda: session, "g": lambda: g,
    "get_flashed_messages": lambda: get_flashed_messages, "csrf_token": lambda: generate_csrf,
    "current_user": lambda: current_user,
}
_GUARDS = {name: PerVisitor(name, get) for name, get in _PER_VISITOR.items()}


def render_shared(template: str, **context: Any) -> str:
    """``render_template`` for HTML that every visitor shares (call it inside
    :func:`tongban.fragments.shared_draw`, as :class:`FragmentCache` does): what the
    template could read of the visitor is replaced by guards that raise. Passed in the
    context, they win over every context processor's values, a blueprint's included."""
    return render_template(template, **context, **_GUARDS)


def favicon() -> Response:
    """Browsers ask for /favicon.ico on every site, whatever the page links to."""
    return current_app.send_static_file("favicon.ico")


def init_app(app: Flask) -> None:
    """Call after Flask-WTF and Flask-Login are set up: their template globals and context
    processors are replaced by guards (which pass through outside a shared draw)."""
    app.extensions["tongban.layout"] = FragmentCache(size=1024)
    app.jinja_env.globals["page_shell"] = page_shell
    # Templates drawn without render_template (forms.render) see the globals.
    app.jinja_env.globals.update(_GUARDS)
    # App-wide processors run before a blueprint's, which adds Flask's request and g again:
    # render_shared passes those two in the context.
    context_guards = {name: _GUARDS[name] for name in ("session", "current_user", "csrf_token")}
    app.context_processor(lambda: context_guards)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
