"""Absolute links (in pages people copy, e-mails, notifications), built from BASE_URL, and the
refusal of requests that name a host outside TRUSTED_HOSTS.

Links never come from the request's Host header: whoever sends the request chooses that
header, and a link built from it can send a citizen's resume link to another site.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import escape
from werkzeug.exceptions import SecurityError


def external_url(endpoint: str, **values: Any) -> str:
    """The address of ``endpoint`` under BASE_URL (which includes any path the app is mounted at)."""
    path = url_for(endpoint, **values)
    if request and request.script_root and path.startswith(request.script_root):
        path = path[len(request.script_root):]
    return current_app.config["BASE_URL"] + path


def refuse_untrusted_host() -> Response | None:
    """A request naming a host outside TRUSTED_HOSTS gets a short 400 page. Werkzeug has
    already refused the host (no URLs can be built for it), so the page is drawn without the
    layout, whose links would need them."""
    if not isinstance(request.routing_exception, SecurityError):
        return None
    title = _("There is a problem with your request")
    body = _("This site is not served at the address you used. Check the web address and "
             "try again.")
    html = (f'<!DOCTYPE html><html lang="{escape(str(get_locale()).replace("_", "-"))}">'
            f'<head><meta charset="utf-8"><title>{escape(title)}</title></head>'
            f"<body><h1>{escape(title)}</h1><p>{escape(body)}</p></body></html>")
    return Response(html, status=400, content_type="text/html; charset=utf-8")
