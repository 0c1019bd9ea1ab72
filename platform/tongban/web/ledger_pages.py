"""Points ledgers in the browser: the citizen's statement and reward redemption at
``/my/points``, and each ledger's totals for administrators at ``/admin/points/ledgers``.

Redemption is a plain form (works without JavaScript); a hidden key drawn with the page makes
a double click one redemption: the second post finds the first and shows it.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from ..i18n import current_lang, pick
from ..models import LedgerAccount, LedgerEntry, LedgerPerson, Role, utcnow
from ..points import ledger as points_ledger
from .access import require_role
from .database import request_session, request_transaction

bp = Blueprint("ledger_pages", __name__)
TRIES = 3


def _ledgers() -> list[points_ledger.Ledger]:
    return points_ledger.published_ledgers(request_session())


def _chosen(ledgers: list[points_ledger.Ledger], ledger_id: str | None) -> points_ledger.Ledger:
    for ledger in ledgers:
        if ledger.id == ledger_id:
            return ledger
    if ledger_id is not None or not ledgers:
        abort(404)
    return ledgers[0]


def _person() -> LedgerPerson | None:
    return points_ledger.person_of_user(request_session(), current_user.id)


def _statement_page(ledger_id: str | None, *, errors: dict[str, str] | None = None,
                    values: dict[str, str] | None = None, done: Any = None,
                    status: int = 200) -> ResponseReturnValue:
    ledgers = _ledgers()
    ledger = _chosen(ledgers, ledger_id)
    holder = _person()
    found = points_ledger.statement(request_session(), ledger, holder.id_number) \
        if holder is not None else None
    now = utcnow()
    today = points_ledger.statement_day(now)
    summary = [{"text": text, "href": f"#{field}"} for field, text in (errors or {}).items()]
    page = render_template(
        "points/statement.html", ledgers=ledgers, ledger=ledger, holder=holder,
        statement=found, soon=found.expiring_soon(today) if found else [],
        stock=points_ledger.stock_left(request_session(), ledger), errors=errors or {},
        summary=summary, values=values or {}, key=secrets.token_urlsafe(16), done=done,
        describe=_describe, pick=pick)
    return page, status


def _describe(entry: Any, ledger: points_ledger.Ledger) -> str:
    """One line of the statement in words."""
    if entry.kind == "earn":
        event_type = ledger.event_types.get(entry.event_type or "")
        name = pick(event_type.name) if event_type else entry.event_type
        if event_type is not None and event_type.unit is not None and entry.quantity:
            name = f"{name} {entry.quantity:g} {pick(event_type.unit)}"
        reason = points_ledger.reason_message(entry)
        return f"{name} ({_(reason[0], **reason[1])})" if reason else str(name)
    if entry.kind == "redeem":
        reward = ledger.rewards.get(entry.reward_code or "")
        return _("Redeemed: %(reward)s × %(count)s",
                 reward=pick(reward.name) if reward else entry.reward_code,
                 count=entry.reward_count)
    return _("Points lapsed")


@bp.get("/my/points")
def statement() -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=url_for("ledger_pages.statement")))
    done = None
    if request.args.get("done", "").isdigit():
        done = request_session().get(LedgerEntry, int(request.args["done"]))
        holder = _person()
        owner = request_session().get(LedgerAccount, done.account_id) if done else None
        if done is None or holder is None or owner is None or done.kind != "redeem" \
                or owner.holder != holder.id_number:
            done = None  # only one's own redemption is shown
    return _statement_page(request.args.get("ledger"), done=done)


@bp.post("/my/points/<ledger_id>/redeem")
def redeem(ledger_id: str) -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=url_for("ledger_pages.statement")))
    ledger = _chosen(_ledgers(), ledger_id)
    holder = _person()
    if holder is None:
        abort(403)
    values = {name: request.form.get(name, "").strip() for name in ("reward", "count", "key")}
    errors: dict[str, str] = {}
    if values["reward"] not in ledger.rewards:
        errors["reward"] = _("Choose a reward")
    count = int(values["count"]) if values["count"].isdigit() else 0
    if not 1 <= count <= points_ledger.MAX_REWARDS_AT_ONCE:
        errors["count"] = _("Enter how many you want, a whole number from 1 to %(most)s",
                            most=points_ledger.MAX_REWARDS_AT_ONCE)
    if not values["key"] or len(values["key"]) > 60:
        values["key"] = secrets.token_urlsafe(16)
    if errors:
        return _statement_page(ledger.id, errors=errors, values=values, status=422)
    try:
        for attempt in range(TRIES):
            try:
                with request_transaction() as tx:
                    posted = points_ledger.redeem(
                        tx, ledger, id_number=holder.id_number, reward_code=values["reward"],
                        count=count, key=f"web-{current_user.id}-{values['key']}",
                        source=points_ledger.CITIZEN_SOURCE, now=utcnow(),
                        actor_name=current_user.username, actor_id=current_user.id)
                break
            except IntegrityError:
                if attempt == TRIES - 1:
                    raise
    except points_ledger.LedgerRefused as exc:
        field = "count" if exc.code in ("insufficient_balance", "out_of_stock", "bad_count") \
            else "reward"
        said = _(exc.template, **exc.params_in(current_lang()))
        return _statement_page(ledger.id, errors={field: said},
                               values=values, status=422)
    return redirect(url_for("ledger_pages.statement", ledger=ledger.id, done=posted.entry.id))


@bp.get("/admin/points/ledgers")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def totals() -> ResponseReturnValue:
    session = request_session()
    return render_template("points/ledger_totals.html", pick=pick, describe=_describe,
                           all_totals=[points_ledger.totals(session, ledger)
                                       for ledger in _ledgers()])
