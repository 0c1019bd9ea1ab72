"""The applicant rates their finished application (一事一评): checked, stored with who it is
about, audited, and a 差评 opens its 回访 task, all in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from .. import audit
from ..models import Application, ServiceRating, utcnow
from .follow_ups import open_follow_up
from .rules import (
    ALREADY_RATED,
    COMMENT_MAX,
    COMMENT_TOO_LONG,
    REASONS,
    UNKNOWN_REASON,
    Policy,
    RatingRefused,
    check_may_rate,
    insert,
    is_bad,
    parse_level,
)

DEFAULT_POLICY = Policy()


def rate(session: Session, application: Application | None, *, rater_id: int | None,
         level: str | None, reasons: Sequence[str] = (), comment: str = "",
         policy: Policy = DEFAULT_POLICY, now: datetime | None = None, actor_name: str = "",
         request_id: str = "") -> ServiceRating:
    """The applicant rates their finished application, in the caller's transaction. A 差评
    opens its 回访 task. Raises :class:`RatingRefused` before anything is stored."""
    found = check_may_rate(session, application, rater_id)
    chosen = parse_level(level)
    picked = list(dict.fromkeys(reason.strip() for reason in reasons if reason.strip()))
    if any(reason not in REASONS for reason in picked):
        raise RatingRefused(UNKNOWN_REASON, "reasons")
    text = (comment or "").strip()
    if len(text) > COMMENT_MAX:
        raise RatingRefused(COMMENT_TOO_LONG, "comment", {"max": COMMENT_MAX})
    moment = now or utcnow()
    row = insert(session, found, level=chosen, source="applicant", rater_id=rater_id,
                  reasons=picked, comment=text, now=moment)
    if row is None:  # someone (the worker's default) rated it a moment ago
        raise RatingRefused(ALREADY_RATED, status=409)
    audit.record(session, action="rating.given", object_type="application",
                 object_id=found.reference, actor_id=rater_id, actor_name=actor_name or "applicant",
                 after={"level": chosen, "reasons": picked, "comment": bool(text)},
                 request_id=request_id)
    if is_bad(chosen):
        open_follow_up(session, row, found, policy=policy, now=moment, actor_name=actor_name,
                       request_id=request_id)
    return row
