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
    """The header's counts, once per request."""
    if "tb_inbox_counts" not in g:
        g.tb_inbox_counts = inbox.counts(request_session(), current_actor(), department_tree())
    counts: dict[str, int] = g.tb_inbox_counts
    return counts
