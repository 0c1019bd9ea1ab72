"""Machine API of the points ledgers: a sorting station, a volunteering platform or a reward
kiosk posts events, redeems rewards and reads an account.

- ``POST /api/ledgers/<ledger>/events`` ``{event_id, type, person, quantity, occurred_at,
  source}``: 201 with the entry, 200 for an event id already posted (naming the first entry),
  422 for bad input or an event refused by a cap (stored, flagged);
- ``POST /api/ledgers/<ledger>/redemptions`` ``{request_id, person, reward, count}``: 201,
  200 for a request id already redeemed, 422 beyond the balance or the stock;
- ``GET /api/ledgers/<ledger>/accounts/<id_number>``: balance, what lapses when, the postings.

Callers: a system with ``Authorization: Bearer TOKEN`` (LEDGER_TOKENS names the ledger source
each token is; no cookie, so no CSRF token), or a signed-in counter clerk or platform
administrator (source ``counter``; their cookie session needs the ``X-CSRFToken`` header, as
every cookie request does). Every answer, errors included, is JSON; messages are English in
``message`` and Chinese in ``message_zh``.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from ..i18n import N_
from ..models import LedgerEntry, Role, utcnow
from ..points import ledger as points_ledger
from ..policy import holds
from .access import current_actor
from .database import request_session, request_transaction
from .json_bodies import accepts_json, json_body

bp = Blueprint("ledger_api", __name__, url_prefix="/api/ledgers")
STAFF_ROLES = (Role.COUNTER_CLERK, Role.PLATFORM_ADMIN)
STAFF_SOURCE = "counter"
TRIES = 3
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")


@dataclass(frozen=True)
class Caller:
    source: str
    name: str
    user_id: int | None = None


def both(template: str, params: dict[str, Any]) -> dict[str, str]:
    """A message in English and Chinese, whatever the request's language (a parameter given
    as ``{"zh": ..., "en": ...}`` in the message's own)."""
    said = {}
    for key, locale, lang in (("message", "en", "en"), ("message_zh", "zh_CN", "zh")):
        values = {name: value[lang] if isinstance(value, dict) else value
                  for name, value in params.items()}
        with force_locale(locale):
            said[key] = _(template, **values) if values else _(template)
    return said


def _error(status: int, code: str, template: str, **params: Any) -> ResponseReturnValue:
    response = jsonify({"error": code, **both(template, params)})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="tongban-ledgers"'
    return response


def _refused(exc: points_ledger.LedgerRefused) -> ResponseReturnValue:
    return _error(exc.status, exc.code, exc.template, **exc.params)


def _token_source() -> str | None:
    scheme, _sep, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return None
    found = None
    for token, source in current_app.config["LEDGER_TOKENS"].items():
        if hmac.compare_digest(token.encode(), presented.strip().encode()):
            found = source
    return found


def _caller() -> Caller | ResponseReturnValue:
    """Who calls: a token's system, or signed-in staff (whose cookie request must carry the
    CSRF token: these views are exempt from the automatic check only for token callers)."""
    if request.headers.get("Authorization"):
        source = _token_source()
        if source is None:
            return _error(401, "unauthorized", N_("A valid bearer token is required"))
        return Caller(source, f"system:{source}")
    if not current_user.is_authenticated:
        return _error(401, "unauthorized", N_("A valid bearer token is required"))
    if not holds(current_actor(), STAFF_ROLES):
        return _error(403, "forbidden", N_("Your account may not use the ledger API"))
    current_app.extensions["csrf"].protect()  # Flask-WTF's CSRFProtect, as on every form
    return Caller(STAFF_SOURCE, current_user.username, current_user.id)


def _ledger(ledger_id: str) -> points_ledger.Ledger | ResponseReturnValue:
    try:
        return points_ledger.latest_ledger(request_session(), ledger_id)
    except points_ledger.UnknownLedger:
        return _error(404, "unknown_ledger", N_('There is no ledger "%(ledger)s"'), ledger=ledger_id)


def _text(body: dict[str, Any], name: str, *, pattern: re.Pattern[str] | None = None) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise points_ledger.LedgerRefused("invalid", N_("%(field)s is required and must be text"),
                                          field=name)
    if pattern is not None and not pattern.fullmatch(value.strip()):
        raise points_ledger.LedgerRefused(
            "invalid", N_("%(field)s must be 1 to 100 letters, digits or . _ : -"), field=name)
    return value.strip()


def _body(allowed: set[str]) -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise points_ledger.LedgerRefused("invalid", N_("The body must be a JSON object"))
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise points_ledger.LedgerRefused("invalid", N_("Unknown field(s): %(fields)s"),
                                          fields=", ".join(unknown))
    return body


def _occurred(body: dict[str, Any]) -> datetime:
    value = body.get("occurred_at")
    if value is None:
        return utcnow()
    moment = None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
    if moment is None or moment.tzinfo is None:
        raise points_ledger.LedgerRefused(
            "invalid", N_("occurred_at must be a date and time with its offset, such as "
                          "2026-12-02T09:30:00+08:00"))
    return moment


def _read_event(body: dict[str, Any], caller: Caller) -> points_ledger.Event:
    source = body.get("source", caller.source)
    if source != caller.source:
        raise points_ledger.LedgerRefused(
            "source_mismatch", N_('source "%(given)s" is not the source of your credentials '
                                  '("%(source)s")'), status=403, given=str(source),
            source=caller.source)
    quantity = body.get("quantity", 1)
    if isinstance(quantity, bool) or not isinstance(quantity, int | float):
        raise points_ledger.LedgerRefused("bad_quantity", N_("quantity must be a number"))
    return points_ledger.Event(event_id=_text(body, "event_id", pattern=_KEY),
                               type=_text(body, "type"), person=_text(body, "person"),
                               quantity=float(quantity), occurred_at=_occurred(body),
                               source=caller.source)


def entry_json(entry: LedgerEntry) -> dict[str, Any]:
    return {"id": entry.id, "ledger": entry.ledger, "kind": entry.kind,
            "event_id": entry.event_id, "type": entry.event_type, "quantity": entry.quantity,
            "requested": entry.requested, "points": entry.points, "status": entry.status,
            "flagged": entry.flagged, "reason": entry.reason, "source": entry.source,
            "reward": entry.reward_code, "count": entry.reward_count,
            "occurred_at": entry.occurred_at.isoformat()}


def _answer(posted: points_ledger.Posted, what: str) -> ResponseReturnValue:
    entry = posted.entry
    body: dict[str, Any] = {"duplicate": posted.duplicate, "entry": entry_json(entry),
                            "balance": posted.balance}
    if posted.duplicate:
        template = N_("Event %(id)s was already accepted as entry %(entry)s; nothing was "
                      "changed") if what == "event" else N_(
            "Redemption %(id)s was already made as entry %(entry)s; nothing was changed")
        body.update(both(template, {"id": entry.event_id.removeprefix("redeem:"),
                                    "entry": entry.id}))
        return jsonify(body), 200
    reason = points_ledger.reason_message(entry)
    if reason is not None:
        body.update(both(*reason))
    if entry.status == "refused":
        body["error"] = "over_cap"
        return jsonify(body), 422
    return jsonify(body), 201


@bp.post("/<ledger_id>/events")
@accepts_json
def post_event(ledger_id: str) -> ResponseReturnValue:
    caller = _caller()
    if not isinstance(caller, Caller):
        return caller
    if not request.is_json:
        return _error(415, "unsupported_media_type", N_("Send the event as application/json"))
    ledger = _ledger(ledger_id)
    if not isinstance(ledger, points_ledger.Ledger):
        return ledger
    try:
        event = _read_event(_body({"event_id", "type", "person", "quantity", "occurred_at",
                                   "source"}), caller)
        for attempt in range(TRIES):
            try:
                with request_transaction() as tx:
                    posted = points_ledger.post_event(
                        tx, ledger, event, now=utcnow(), actor_name=caller.name,
                        actor_id=caller.user_id, request_id=g.get("request_id", ""))
                break
            except IntegrityError:
                # The same event id (or the person's first account) written at the same
                # moment by another request: read again, it is now a duplicate.
                if attempt == TRIES - 1:
                    raise
    except points_ledger.LedgerRefused as exc:
        return _refused(exc)
    return _answer(posted, "event")


@bp.post("/<ledger_id>/redemptions")
@accepts_json
def post_redemption(ledger_id: str) -> ResponseReturnValue:
    caller = _caller()
    if not isinstance(caller, Caller):
        return caller
    if not request.is_json:
        return _error(415, "unsupported_media_type", N_("Send the redemption as application/json"))
    ledger = _ledger(ledger_id)
    if not isinstance(ledger, points_ledger.Ledger):
        return ledger
    source = ledger.sources.get(caller.source)
    if source is None or not source.redeems:
        return _error(403, "source_not_allowed", N_('The source "%(source)s" may not redeem rewards'),
                      source=caller.source)
    try:
        body = _body({"request_id", "person", "reward", "count"})
        count = body.get("count", 1)
        key, person = _text(body, "request_id", pattern=_KEY), _text(body, "person")
        reward = _text(body, "reward")
        for attempt in range(TRIES):
            try:
                with request_transaction() as tx:
                    posted = points_ledger.redeem(
                        tx, ledger, id_number=person, reward_code=reward, count=count,
                        key=key, source=caller.source, now=utcnow(), actor_name=caller.name,
                        actor_id=caller.user_id, request_id=g.get("request_id", ""))
                break
            except IntegrityError:
                if attempt == TRIES - 1:
                    raise
    except points_ledger.LedgerRefused as exc:
        return _refused(exc)
    return _answer(posted, "redemption")


@bp.get("/<ledger_id>/accounts/<id_number>")
def get_account(ledger_id: str, id_number: str) -> ResponseReturnValue:
    caller = _caller()
    if not isinstance(caller, Caller):
        return caller
    ledger = _ledger(ledger_id)
    if not isinstance(ledger, points_ledger.Ledger):
        return ledger
    source = ledger.sources.get(caller.source)
    if source is None or not source.redeems:
        return _error(403, "source_not_allowed", N_('The source "%(source)s" may not read accounts'),
                      source=caller.source)
    try:
        number = points_ledger.valid_id_number(id_number)
    except points_ledger.LedgerRefused as exc:
        return _refused(exc)
    found = points_ledger.statement(request_session(), ledger, number)
    return jsonify({"ledger": ledger.id, "person": number, "balance": found.balance,
                    "earned": found.earned, "redeemed": found.redeemed, "expired": found.expired,
                    "expiring": [{"last_day": day.isoformat(), "points": points}
                                 for day, points in found.expiring],
                    "postings": [{**entry_json(line.entry), "amount": line.amount}
                                 for line in found.lines]})


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> ResponseReturnValue:
    response = jsonify({"error": (exc.name or "error").lower().replace(" ", "_"),
                        "message": exc.description or exc.name or "Error"})
    response.status_code = exc.code or 500
    return response
