"""An agent's own account (代办 online, docs/counter.md): the mandates people gave the person
the account is (its verified ID number), and starting a service for one of them. A mandate
that has ended or does not name the service is refused with 403 and nothing is started."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..counter import mandates
from ..forms import date_limits
from ..services import PublishedService, current_services, get_service
from .counter import mandate_refusal, start_for
from .database import request_session

bp = Blueprint("mandates", __name__)


@bp.get("/my/mandates")
def mine() -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=url_for("mandates.mine")))
    session = request_session()
    given = mandates.of_agent_account(session, current_user.id)
    return render_template("counter/agent.html", mandates=given,
                           people=mandates.people_of(session, given),
                           services=current_services(session, offered=True),
                           today=date_limits.today())


@bp.post("/my/mandates/<public_id>/services/<code>/start")
def start(public_id: str, code: str) -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=url_for("mandates.mine")))
    session = request_session()
    mandate = next((m for m in mandates.of_agent_account(session, current_user.id)
                    if m.public_id == public_id), None)
    service = get_service(session, code, offered=True)
    if mandate is None or service is None:
        abort(404)  # not a mandate this account is the agent of: not confirmed to exist
    refused = mandate_refusal(mandate, service)
    if refused is not None:
        return refused
    principal = mandates.people_of(session, [mandate])[mandate.principal_id]
    return start_for(principal, PublishedService(service.code, service.version, service.content),
                     clerk_id=None, user_id=current_user.id, mandate=mandate)
