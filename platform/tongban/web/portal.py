"""Citizen and enterprise portal: the service list and each service's guide (start page)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from ..services import current_services, get_service
from .database import request_session
from .flow_diagram import published_flow

bp = Blueprint("portal", __name__)


@bp.get("/")
def index() -> str:
    return render_template("portal/index.html", services=current_services(request_session(), offered=True))


@bp.get("/services/<code>")
def service(code: str) -> str:
    session = request_session()
    found = get_service(session, code, offered=True)
    if found is None:
        abort(404)
    flow_code = found.content.get("flow")
    flow = published_flow(session, flow_code) if flow_code else None
    return render_template("portal/service.html", service=found, guide=found.content["guide"], flow=flow)
