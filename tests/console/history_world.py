"""A demo database with a generated history (tongban.dashboards.history), shared by the
dashboards' tests: the instant it is generated at is fixed, so its figures are too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tongban import db
from tongban.dashboards.history import seed_history

NOW = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, a Monday


def seed(app: Any, applications: int, seed: int = 7) -> None:
    with db.new_session(app.extensions["tongban.engine"]) as session:
        seed_history(session, applications=applications, now=NOW, seed=seed)
        session.commit()
