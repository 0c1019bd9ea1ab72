"""The notification worker: delivers waiting notifications through the channel plugins.

One row at a time, the way the outbox of service calls works (workflow/worker.py): a short
transaction claims a due row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) by counting the
attempt and pushing ``next_attempt_at`` out by a lease; the channel is called with no
transaction open; a second transaction marks the row sent, or schedules the next try with a
doubling backoff, or marks it failed (a permanent error, or the tries spent) for the admin page
(/admin/notifications). A worker that dies between the two leaves the row to be claimed again
when the lease runs out; the channel is then asked again with the same key, and channels
deliver a key once (docs/notifications.md), so the person gets one message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from .. import db, leases
from ..models import Notification, saved_id, utcnow
from ..plugin_api import ConnectorError, NotificationChannel
from ..plugin_api import Notification as Message

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 30
log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Policy:
    base_url: str = ""
    max_attempts: int = MAX_ATTEMPTS
    backoff_seconds: float = BACKOFF_SECONDS
    lease: timedelta = LEASE


def policy_from(config: Mapping[str, Any]) -> Policy:
    """The worker's policy from the app's settings."""
    return Policy(base_url=str(config.get("BASE_URL") or ""),
                  max_attempts=int(config.get("NOTIFY_MAX_ATTEMPTS", MAX_ATTEMPTS)),
                  backoff_seconds=float(config.get("NOTIFY_BACKOFF_SECONDS", BACKOFF_SECONDS)))


@dataclass(frozen=True)
class Outcome:
    row_id: int
    channel: str
    state: str  # sent | pending (will retry) | failed | lost (the lease ran out meanwhile)
    attempt: int
    error: str = ""


def message_of(row: Notification, base_url: str) -> Message:
    """What the channel is given: the stored text with ``{link}`` filled for its medium."""
    link = row.link if row.channel == "site" else base_url + row.link
    return Message(key=row.key, channel=row.channel, recipient=row.recipient,
                   subject=row.subject, body=row.body.replace("{link}", link),
                   language=row.language,
                   data={"reference": row.reference, "kind": row.kind, "link": link})


def _claim(session: Session, now: datetime, lease: timedelta,
           base_url: str) -> tuple[int, int, datetime, Message] | None:
    row = leases.claim(session, leases.oldest_pending(Notification, now), now, lease)
    if row is None:
        return None
    return saved_id(row), row.attempts, row.next_attempt_at, message_of(row, base_url)


def _send(channels: Mapping[str, NotificationChannel], message: Message) -> tuple[bool, bool, str]:
    """(sent, transient, error). Anything but a permanent ConnectorError may pass."""
    channel = channels.get(message.channel)
    if channel is None:
        return False, False, f"no installed plugin offers the channel {message.channel!r}"
    try:
        channel.send(message)
    except ConnectorError as exc:
        return False, exc.transient, f"{exc}"[:2000]
    except Exception as exc:  # a plugin's bug or an unexpected network error: try again later
        return False, True, f"{type(exc).__name__}: {exc}"[:2000]
    return True, False, ""


def deliver_one(target: Engine | db.SessionFactory, channels: Mapping[str, NotificationChannel],
                policy: Policy | None = None, now: datetime | None = None) -> Outcome | None:
    """Claim the oldest due notification, send it, record how it went."""
    factory, policy = db.session_factory(target), policy or Policy()
    with factory() as session:
        with db.unit_of_work(session):
            claimed = _claim(session, now or utcnow(), policy.lease, policy.base_url)
        if claimed is None:
            return None
        row_id, attempt, lease_until, message = claimed
        sent, transient, error = _send(channels, message)
        finished = now or utcnow()
        with db.unit_of_work(session):
            row = leases.relock(session, Notification, row_id)
            if row.state != "pending" or row.next_attempt_at != lease_until:
                return Outcome(row_id, message.channel, "lost", attempt)
            if sent:
                row.state, row.sent_at, row.last_error = "sent", finished, ""
            elif transient and attempt < policy.max_attempts:
                row.last_error = error
                row.next_attempt_at = finished + timedelta(
                    seconds=policy.backoff_seconds * 2 ** (attempt - 1))
            else:
                row.state, row.last_error = "failed", error
            session.add(row)
            state = row.state
    if not sent:
        log.warning("notification %s (%s) attempt %s: %s", row_id, message.channel, attempt, error)
    return Outcome(row_id, message.channel, state, attempt, error)


def deliver_due(target: Engine | db.SessionFactory, channels: Mapping[str, NotificationChannel],
                policy: Policy | None = None, now: datetime | None = None, *,
                limit: int = 500) -> list[Outcome]:
    """Work through the notifications due, one at a time, up to ``limit``."""
    return leases.drain(lambda: deliver_one(target, channels, policy, now), limit)


def retry(session: Session, row_id: int, now: datetime | None = None) -> Notification | None:
    """An admin's retry: a failed (or waiting) notification is due again with fresh tries."""
    row = session.get(Notification, row_id)
    if row is None or row.state == "sent":
        return None
    row.state, row.attempts, row.next_attempt_at = "pending", 0, now or utcnow()
    session.add(row)
    return row
