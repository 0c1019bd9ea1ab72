"""Citizen and enterprise portal: finding a service (by life event, department or search) and
each service's guide (start page)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask.blueprints import BlueprintSetupState

from .. import bundles
from ..search.bundles import find_bundles
from ..search.finder import find
from ..search.index import IndexCache
from ..services import get_service
from .database import request_session
from .flow_diagram import published_flow

bp = Blueprint("portal", __name__)


@bp.record_once
def _index_cache(state: BlueprintSetupState) -> None:
    state.app.extensions["service_search"] = IndexCache()


@bp.get("/")
def index() -> str:
    finding = find(request_session(), current_app.extensions["service_search"],
                   query=request.args.get("q", ""), event=request.args.get("event", ""),
                   department=request.args.get("department", ""))
    offered = find_bundles([row.content for row in bundles.published(request_session())],
                           query=finding.query, event=request.args.get("event", ""),
                           department=request.args.get("department", ""))
    if request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request"):
        return render_template("portal/_search_update.html", finding=finding, bundles=offered)
    return render_template("portal/index.html", finding=finding, bundles=offered)


@bp.get("/services/<code>")
def service(code: str) -> str:
    session = request_session()
    found = get_service(session, code, offered=True)
    if found is None:
        abort(404)
    flow_code = found.content.get("flow")
    flow = published_flow(session, flow_code) if flow_code else None
    return render_template("portal/service.html", service=found, guide=found.content["guide"], flow=flow)
