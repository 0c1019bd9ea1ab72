"""The flow engine's entry point. Until flows run, a handed-over application stands as submitted."""

from __future__ import annotations

from sqlmodel import Session

from ..models import Application


def hand_over(session: Session, application: Application) -> None:
    """Called inside the submission transaction, once per new application.

    The flow engine will start the service's pinned flow here; today the application waits in
    the reviewers' list with the status "submitted".
    """
    application.status = "submitted"
    session.add(application)
