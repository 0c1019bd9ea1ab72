"""代办 online (docs/counter.md): the mandates people gave the person the account is (its
verified ID number), and starting a service for one of them; and the mandates that person
gave, which they may revoke before the end date. A mandate that has ended, was revoked or
does not name the service is refused with 403 (audited) and nothing is started."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..counter import mandates
from ..forms import date_limits
from ..services import PublishedService, current_services, get_service
from .counter import mandate_refusal, revoke_mandate, start_for
from .database import request_session

bp = Blueprint("mandates", __name__)


@bp.get("/my/mandates")
def mine() -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=url_for("mandates.mine")))
    return _page()


def _page(errors: dict[str, str] | None = None, status: int = 200) -> ResponseReturnValue:
    """The mandates the account's person holds (as the agent) and gave (as the principal)."""
    session = request_session()
    held = mandates.of_agent_account(session, current_user.id)
    principal = mandates.principal_of_account(session, current_user.id)
    given = mandates.of_principal(session, principal) if principal is not None else []
    errors = errors or {}
    summary = [{"text": text, "href": f"#{field}"} for field, text in errors.items()]
    return render_template("counter/agent.html", mandates=held, given=given,
                           people=mandates.people_of(session, [*held, *given]),
                           revokers=mandates.revokers_of(session, [*held, *given]),
                           services=current_services(session, offered=True),
                           today=date_limits.today(), errors=errors, summary=summary,
                           typed=request.form), status


@bp.post("/my/mandates/<public_id>/revoke")
def revoke(public_id: str) -> ResponseReturnValue:
    """The person who gave a mandate revokes it before its end date, with a reason."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=url_for("mandates.mine")))
    session = request_session()
    mandate = mandates.by_public_id(session, public_id)
    if mandate is None:
        abort(404)
    principal = mandates.principal_of_account(session, current_user.id)
    refused = revoke_mandate(mandate, principal, via="online",
                             page=lambda errors: _page(errors, 422))
    if refused is not None:
        return refused
    return redirect(url_for("mandates.mine", _anchor="given"), code=303)


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
    refused = mandate_refusal(mandate, service, channel="online")
    if refused is not None:
        return refused
    principal = mandates.people_of(session, [mandate])[mandate.principal_id]
    return start_for(principal, PublishedService(service.code, service.version, service.content),
                     clerk_id=None, user_id=current_user.id, mandate=mandate)
