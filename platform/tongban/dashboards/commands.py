"""`tongban dashboards seed`: fill a database with a generated year of applications so the
dashboards have something to show (a demo, a trial, the bench). Attached to the `dashboards`
group by tongban.cli, which gives the database session."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import click
from sqlmodel import Session

from .history import seed_history


def add_commands(group: click.Group, session: Callable[[], Session]) -> None:
    """Attach the commands to ``group`` (an app group: its commands run in the app context)."""

    @group.command("seed")
    @click.option("--applications", type=click.IntRange(1, 1_000_000), default=3000,
                  show_default=True, help="How many applications to add")
    @click.option("--days", type=click.IntRange(1, 3660), default=365, show_default=True,
                  help="Over how many days before now they were submitted")
    @click.option("--seed", "seed", type=int, default=2026, show_default=True,
                  help="The same seed gives the same history")
    def seed(applications: int, days: int, seed: int) -> None:
        """Add a generated history of applications across the published demo services
        (made-up rows: for a demo or a trial database, never for one in service)."""
        started = time.perf_counter()
        tx = session()
        try:
            count = seed_history(tx, applications=applications, now=datetime.now(UTC),
                                 seed=seed, days=days)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        tx.commit()
        click.echo(f"added {count} applications over {days} days "
                   f"in {time.perf_counter() - started:.1f} s")
