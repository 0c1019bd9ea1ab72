"""The staff roles and the inbox counts the page header shows: here, not in the review
blueprint, so that the layout can ask without importing the review pages."""

from __future__ import annotations

from flask import g

from ..models import Role
from ..workflow import inbox
from .access import current_actor, department_tree
from .database import request_session

STAFF = (Role.COUNTER_CLERK, Role.REVIEWER, Role.DEPARTMENT_ADMIN, Role.PLATFORM_ADMIN)


def inbox_counts() -> dict[str, int]:
    """The header's counts, once per request; ``extensions``: the clock extensions waiting
    for this person's decision (a department administrator's work too)."""
    if "tb_inbox_counts" not in g:
        from .deadline_views import extensions_for

        session, actor = request_session(), current_actor()
        found = dict(inbox.counts(session, actor, department_tree()))
        found["extensions"] = len(extensions_for(session, actor.user_id)) \
            if actor.user_id is not None else 0
        g.tb_inbox_counts = found
    counts: dict[str, int] = g.tb_inbox_counts
    return counts
