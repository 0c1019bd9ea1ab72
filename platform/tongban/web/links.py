"""Absolute links (in pages people copy, e-mails, notifications), built from BASE_URL.

Never from the request's Host header: whoever sends the request chooses that header, and a
link built from it can send a citizen's resume link to another site.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for


def external_url(endpoint: str, **values: Any) -> str:
    """The address of ``endpoint`` under BASE_URL (which includes any path the app is mounted at)."""
    path = url_for(endpoint, **values)
    if request and request.script_root and path.startswith(request.script_root):
        path = path[len(request.script_root):]
    return current_app.config["BASE_URL"] + path
