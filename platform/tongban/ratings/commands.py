"""`tongban ratings seed` and `tongban ratings defaults`: made-up ratings for the finished
applications of a demo or trial database (after `tongban dashboards seed`, so the dashboards'
rating tables have something to show), and one run of the worker's default-rating job.
Attached to the `ratings` group by tongban.cli, which gives the database session."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

import click
from sqlalchemy import select
from sqlmodel import Session, col

from .. import db
from ..models import Application, FlowInstance, ServiceRating, utcnow
from .follow_ups import open_follow_up
from .rules import FINISHED, REASONS, Policy, apply_defaults, insert, is_bad

# How often each level is given in the made-up history: mostly satisfied, a few 差评.
LEVEL_WEIGHTS = ((5, 55), (4, 25), (3, 10), (2, 6), (1, 4))


def seed_ratings(session: Session, *, seed: int = 2026, limit: int = 100_000) -> int:
    """Rate the finished applications that have no rating yet, the same way for the same
    seed; a real-name 差评 opens its follow-up. The caller commits."""
    rng = random.Random(seed)
    policy = Policy()
    rows = session.execute(
        select(Application, col(FlowInstance.ended_at))
        .join(FlowInstance, col(FlowInstance.application_id) == col(Application.id))
        .where(col(Application.status).in_(FINISHED), col(FlowInstance.ended_at).is_not(None),
               col(Application.id).not_in(select(col(ServiceRating.application_id))))
        .order_by(col(Application.id)).limit(limit)).all()
    levels, weights = zip(*LEVEL_WEIGHTS, strict=True)
    bad_reasons = [code for code in REASONS if code != "other"]
    count = 0
    for application, ended_at in rows:
        level = rng.choices(levels, weights)[0]
        reasons = rng.sample(bad_reasons, rng.randint(1, 2)) if is_bad(level) else []
        rated_at = min(ended_at + timedelta(hours=rng.randint(1, 96)), utcnow())
        row = insert(session, application, level=level, source="applicant",
                     rater_id=application.submitter_id, reasons=reasons, comment="",
                     now=rated_at)
        if row is not None and is_bad(level) and application.submitter_id is not None:
            open_follow_up(session, row, application, policy=policy, now=rated_at,
                           actor_name="seed")
        count += row is not None
    return count


def add_commands(group: click.Group, session: Callable[[], Session],
                 policy: Callable[[], Policy]) -> None:
    """Attach the commands to ``group`` (an app group: its commands run in the app context);
    ``policy`` reads the RATING_* settings."""

    @group.command("seed")
    @click.option("--seed", "seed", type=int, default=2026, show_default=True,
                  help="The same seed gives the same ratings")
    def seed(seed: int) -> None:
        """Rate every finished application not rated yet with made-up ratings (for a demo or
        a trial database, never for one in service)."""
        tx = session()
        count = seed_ratings(tx, seed=seed)
        tx.commit()
        click.echo(f"rated {count} finished applications")

    @group.command("defaults")
    def defaults() -> None:
        """Give the default rating now to the finished applications whose time is up (what
        the worker does once a minute)."""
        tx = session()
        with db.unit_of_work(tx):
            given = apply_defaults(tx, policy())
        click.echo(f"gave the default rating to {given} applications")
