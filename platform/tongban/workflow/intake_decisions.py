"""The two ways of accepting an application that is not complete (pure engine operations):

- 容缺受理 (``accept_deficient``): the clerk names the missing materials and the day they are due;
  the flow goes on, but an approving end waits (``result_held``) until the materials arrive
  (``lift_hold``). A reminder timer (``intake.material_due``) is set before the due day.
  When the due day passes without them a second timer (``intake.material_overdue``, at 00:00
  of the next day) marks the hold overdue (``mark_hold_overdue``), and a reviewer may end the
  application for it (``end_overdue_hold``: 不予许可, "容缺材料逾期未补齐").
- 告知承诺制 (``accept_commitment``): the applicant signed the service's commitment; the flow goes
  on and a reviewer checks the promise later; a broken one ends a running application
  (``break_commitment``).

Both emit ``accepted`` (with ``mode``), so the acceptance notice, the statutory clock that
starts on acceptance and the notifications work as for a plain acceptance. Whether the applicant
may use either (the credit bar list) is checked by :mod:`tongban.counter_intake` before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from ..models import FlowTimer
from ..worktime import TZ
from . import errors
from .engine import _decide, emit, ensure_live, finish, task_for
from .rows import build, put
from .state import State, set_status, set_var

MAX_DUE_DAYS = 180          # a 容缺 promise further off than this is not a promise
REMIND_DAYS_BEFORE = 2      # the reminder goes out this many days before the due day, at 09:00
REMIND_AT = time(9, 0)
TIMER_KIND = "intake.material_due"
OVERDUE_KIND = "intake.material_overdue"   # fires at 00:00 local the day after the due day
OVERDUE_REASON = "容缺材料逾期未补齐"        # the reason an overdue hold ends the application


def local_today(now: datetime) -> date:
    return now.astimezone(TZ).date()


def _due_day(due: date | str | None, now: datetime) -> date:
    if due is None or due == "":
        raise errors.invalid("deficiency_due_required")
    if isinstance(due, str):
        try:
            due = date.fromisoformat(due)
        except ValueError:
            raise errors.invalid("deficiency_due_required") from None
    today = local_today(now)
    if due < today:
        raise errors.invalid("deficiency_due_past", today=today.isoformat())
    if due > today + timedelta(days=MAX_DUE_DAYS):
        raise errors.invalid("deficiency_due_far", days=MAX_DUE_DAYS)
    return due


def reminder_at(due: date, now: datetime) -> datetime:
    """09:00 local two days before the due day; at once (now) when that is past already."""
    at = datetime.combine(due - timedelta(days=REMIND_DAYS_BEFORE), REMIND_AT, tzinfo=TZ)
    return max(at, now)


def overdue_at(due: date) -> datetime:
    """00:00 local of the day after the due day: the due day counts in full (natural days,
    as the clerk chose the day on the calendar)."""
    return datetime.combine(due + timedelta(days=1), time(0, 0), tzinfo=TZ)


def accept_deficient(state: State, actor_id: int, now: datetime, task_seq: int,
                     materials: Iterable[Mapping[str, Any]] = (), due: date | str | None = None,
                     comment: str = "") -> None:
    """容缺受理. ``materials``: ``{"code", "name": {"zh", "en"}}`` each, at least one."""
    task = task_for(state, task_seq, actor_id, operation="accept_deficient", kinds=("intake",))
    named = [dict(m) for m in materials if str(m.get("code") or "").strip()]
    if not named:
        raise errors.invalid("deficiency_materials_required")
    due_day = _due_day(due, now)
    hold = {"kind": "deficiency", "materials": named, "due": due_day.isoformat(),
            "since": now.isoformat()}
    set_var(state, "hold", hold)
    _decide(state, actor_id, now, task, "accepted", "accepted", comment.strip(),
            {"mode": "deficient", "missing": [m["code"] for m in named],
             "due": due_day.isoformat()})
    instance_id = state.instance.id
    state.new_rows.append(build(
        FlowTimer, instance_id=instance_id, kind=TIMER_KIND,
        key=f"{TIMER_KIND}:{instance_id}:{task.seq}", due_at=reminder_at(due_day, now),
        state="pending", payload={"due": due_day.isoformat()}, attempts=0, created_at=now))
    state.new_rows.append(build(
        FlowTimer, instance_id=instance_id, kind=OVERDUE_KIND,
        key=f"{OVERDUE_KIND}:{instance_id}:{task.seq}", due_at=overdue_at(due_day),
        state="pending", payload={"due": due_day.isoformat()}, attempts=0, created_at=now))


def accept_commitment(state: State, actor_id: int, now: datetime, task_seq: int,
                      text: str = "", confirmed: bool = False, verify_by: date | None = None,
                      comment: str = "") -> None:
    """告知承诺制: ``text`` is the service's commitment, ``confirmed`` that the applicant
    signed it; ``verify_by`` when a reviewer checks the promise."""
    task = task_for(state, task_seq, actor_id, operation="accept_commitment", kinds=("intake",))
    if not text.strip():
        raise errors.invalid("commitment_not_offered")
    if not confirmed:
        raise errors.invalid("commitment_unconfirmed")
    set_var(state, "commitment", {"since": now.isoformat(),
                                  "verify_by": verify_by.isoformat() if verify_by else None})
    _decide(state, actor_id, now, task, "accepted", "accepted", comment.strip(),
            {"mode": "commitment",
             **({"verify_by": verify_by.isoformat()} if verify_by else {})})


def lift_hold(state: State, actor_id: int | None, now: datetime,
              received: Iterable[str] = ()) -> None:
    """Every 容缺 material arrived: the hold lifts and an end that waited for it is reached."""
    ensure_live(state)
    hold = state.vars.get("hold")
    if not hold:
        raise errors.invalid("no_hold")
    set_var(state, "hold", None)
    emit(state, "hold_lifted", now, actor_id=actor_id, data={"received": list(received)})
    for token in state.tokens:
        node = state.flow.nodes.get(token.node)
        if token.state == "waiting" and node is not None and node.type == "end":
            put(token, state="done", left_at=now)
            finish(state, node.outcome or "completed", now, actor_id, node=node.id)
            return


def mark_hold_overdue(state: State, actor_id: int | None, now: datetime,
                      missing: Iterable[str] = ()) -> None:
    """The due day passed with materials still missing: the hold is marked overdue
    (``hold_overdue``); the result stays held and a reviewer may end the application."""
    ensure_live(state)
    hold = state.vars.get("hold")
    if not hold or hold.get("overdue"):
        raise errors.invalid("no_hold")
    set_var(state, "hold", {**hold, "overdue": now.isoformat()})
    emit(state, "hold_overdue", now, actor_id=actor_id,
         data={"missing": list(missing), "due": hold.get("due")})


def end_overdue_hold(state: State, actor_id: int | None, now: datetime,
                     reason: str = OVERDUE_REASON) -> None:
    """A reviewer ends an application whose 容缺 materials are overdue: not approved (不予许可,
    终止办理), with the reason "容缺材料逾期未补齐"."""
    ensure_live(state)
    hold = state.vars.get("hold")
    if not hold or not hold.get("overdue"):
        raise errors.invalid("hold_not_overdue")
    text = reason.strip() or OVERDUE_REASON
    emit(state, "hold_expired", now, actor_id=actor_id, data={"reason": text})
    set_var(state, "hold", None)
    finish(state, "rejected", now, actor_id)


def break_commitment(state: State, actor_id: int | None, now: datetime, reason: str = "") -> None:
    """告知承诺 found untrue while the application runs: it ends, not approved (终止办理)."""
    ensure_live(state)
    text = reason.strip()
    if not text:
        raise errors.invalid("reason_required")
    emit(state, "commitment_broken", now, actor_id=actor_id, data={"reason": text})
    finish(state, "rejected", now, actor_id)


def revoke_approval(state: State, actor_id: int | None, now: datetime, reason: str = "") -> None:
    """告知承诺 found untrue after the approval: the approval is revoked (撤销), status
    ``revoked``; the instance had ended and stays ended."""
    if state.instance.status != "approved":
        raise errors.invalid("not_approved")
    text = reason.strip()
    if not text:
        raise errors.invalid("reason_required")
    emit(state, "commitment_broken", now, actor_id=actor_id, data={"reason": text})
    set_status(state, "revoked")
    emit(state, "approval_revoked", now, actor_id=actor_id, data={"reason": text})
