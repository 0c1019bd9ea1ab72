"""China's administrative regions as HTML for the region picker: public, cacheable fragments.

``GET /regions`` lists the provinces, ``GET /regions/<code>/children`` the regions below one.
With ``name`` (the question's form name) the response is the picker's lists from that level
down, ready to swap in; without it, bare ``<option>`` elements. ``level`` (city or district) may say
which level is expected, ``id`` the question's element id when it is not derived from
``name``, and ``lang`` (zh or en) the language of the labels, so a URL always gives the same page.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, make_response, request, url_for
from flask_babel import force_locale
from werkzeug.wrappers import Response

from ..forms import paths, region_picker, regions

bp = Blueprint("regions", __name__)

MAX_AGE = 24 * 3600
"""The data changes only with a release, so caches may keep a list for a day."""
_NAME = re.compile(r"[\w.~-]{1,200}")
_ID = re.compile(r"f-[\w-]{1,200}")
_LOCALES = {"zh": "zh_CN", "en": "en"}


@bp.get("/regions")
def provinces() -> Response:
    return _lists(None)


@bp.get("/regions/<code>/children")
def children(code: str) -> Response:
    if not regions.is_current(code):
        abort(404)
    return _lists(code)


def _lists(parent: str | None) -> Response:
    chosen = region_picker.path_codes(parent) if parent else []
    if len(chosen) >= len(region_picker.LEVELS):
        abort(404)  # a county has nothing below it
    level = region_picker.LEVELS[len(chosen)]
    if request.args.get("level", level) != level:
        abort(404)
    name = request.args.get("name")
    element_id = request.args.get("id")
    if name is not None and not _NAME.fullmatch(name):
        abort(400)
    if element_id is not None and (name is None or not _ID.fullmatch(element_id)):
        abort(400)
    lang = "en" if request.args.get("lang") == "en" else "zh"
    with force_locale(_LOCALES[lang]):
        if name is None:
            html = _render("forms/_region_options.html", options=regions.children(parent))
        else:
            levels = region_picker.levels(
                name, element_id or paths.element_id(name), chosen, first=level,
                url=url_for("regions.provinces"), lang=lang)
            html = _render("forms/_region_levels.html", levels=levels)
    response = make_response(html)
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.add_etag()
    return response.make_conditional(request)


def _render(template: str, **context: object) -> str:
    # Not render_template: its context processors load the signed-in user, a database query
    # these public lists do not need.
    return current_app.jinja_env.get_template(template).render(**context)
