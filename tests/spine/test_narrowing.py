"""Where the type checker found an optional value relied on (issue 10, section 5), the code now
says what is wrong instead of passing None on into a foreign key or a later attribute read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlmodel import Session

from tongban.applications import start_draft, submitted_application
from tongban.definitions.publish import current_version
from tongban.models import DefinitionVersion, Draft, saved_id, utcnow


def _unsaved_service_version() -> DefinitionVersion:
    return DefinitionVersion(kind="service", code="residence-points", version=99, content_hash="0" * 64,
                             content={"settings": {}}, source_path="unsaved.yaml", author="test")


def test_the_id_of_a_row_not_yet_flushed_is_an_error_that_names_the_model() -> None:
    with pytest.raises(ValueError, match="DefinitionVersion has no id yet"):
        saved_id(_unsaved_service_version())


def test_a_draft_is_not_started_on_a_definition_version_that_was_never_saved(
        demo: Flask, session: Session) -> None:
    form_row = current_version(session, "form", "residence-points")
    assert form_row is not None
    with pytest.raises(ValueError, match="DefinitionVersion has no id yet"):
        start_draft(session, _unsaved_service_version(), form_row, user_id=None)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Draft)) == 0


def test_a_submitted_draft_whose_application_is_missing_is_reported_as_such(
        demo: Flask, session: Session) -> None:
    service_row = current_version(session, "service", "residence-points")
    form_row = current_version(session, "form", "residence-points")
    assert service_row is not None and form_row is not None
    now = utcnow()
    draft = Draft(token="orphan", service_code="residence-points",
                  service_version_id=saved_id(service_row), form_version_id=saved_id(form_row),
                  submit_key="never-used", status="submitted", expires_at=now + timedelta(days=1))
    session.add(draft)
    session.flush()
    with pytest.raises(LookupError, match=f"draft {draft.id} was submitted, but no application"):
        submitted_application(session, draft)
