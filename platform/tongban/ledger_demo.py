"""Demo points for the embedded default: the citizen persona's ID number linked to their
account, and a few green-points events so that /my/points has something to show."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from .counter.people import verify_account
from .models import User, utcnow
from .points import ledger

DEMO_LEDGER = "shanghai-green-points"
CITIZEN_ID_NUMBER = "31010419900307123X"  # 张三, the `citizen` persona (a made-up number)
DEMO_EVENTS = (  # event id, type, quantity, days ago, source
    ("demo-sorting-1", "sorting_drop_off", 1, 20, "sorting-station"),
    ("demo-recyclables-1", "recyclables", 12.5, 10, "recycling-station"),
    ("demo-volunteering-1", "volunteering", 3, 5, "volunteer-platform"),
)


def seed_points(session: Session) -> list[str]:
    """Link the citizen persona and post the demo events; safe to run again (event ids make
    the posts idempotent). The caller commits."""
    user_id = session.scalars(select(col(User.id)).where(col(User.username) == "citizen")).first()
    try:
        green = ledger.latest_ledger(session, DEMO_LEDGER)
    except ledger.UnknownLedger:
        return []
    if user_id is None:
        return []
    ledger.link_user(session, CITIZEN_ID_NUMBER, user_id)
    citizen = session.get(User, user_id)
    if citizen is not None and citizen.id_number is None:  # applications made at a counter
        verify_account(session, citizen, CITIZEN_ID_NUMBER, "demo")  # for 张三 show in /my
    now = utcnow()
    posted = 0
    for event_id, event_type, quantity, days_ago, source in DEMO_EVENTS:
        result = ledger.post_event(session, green, ledger.Event(
            event_id, event_type, CITIZEN_ID_NUMBER, quantity, now - timedelta(days=days_ago),
            source), now=now, actor_name="demo")
        posted += 0 if result.duplicate else 1
    return [f"Green points: citizen linked to ID number {CITIZEN_ID_NUMBER}; "
            f"{posted} demo event(s) posted."]
