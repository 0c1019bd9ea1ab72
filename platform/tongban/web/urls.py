"""URLs built once and filled in: ``url_for`` for static files, fixed pages and draft pages."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, current_app, request, url_for

from ..fragments import Fragment, marker


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
    # As Any: url_for's own keyword parameters (_external, ...) are not strings.
    arguments: dict[str, Any] = dict(values)
    if not all(_URL_SAFE.match(value) for value in values.values()):
        return url_for(endpoint, **arguments)
    cache = current_app.extensions.setdefault("tongban.path_urls", {})
    key = (request.script_root, endpoint, tuple(values))
    pattern = cache.get(key)
    if pattern is None:
        markers: dict[str, Any] = {name: marker(name) for name in values}
        pattern = cache[key] = Fragment(url_for(endpoint, **markers))
    return str(pattern.fill(values))


def init_app(app: Flask) -> None:
    app.jinja_env.globals["fixed_url"] = fixed_url
