"""The confirmation page links the applicant to the application's own page (its progress and
score); someone who is neither its applicant nor its counter clerk gets no such link."""

from __future__ import annotations

from typing import Any

from tongban import db

from ..conftest import Personas
from .test_points_in_applications import _apply


def test_the_confirmation_page_links_to_the_application(demo: Any) -> None:
    citizen = Personas(demo.test_client()).as_("citizen")
    with db.new_session(demo.extensions["tongban.engine"]) as session:
        reference = _apply(demo, session, citizen=citizen).reference
    page = citizen.get(f"/applications/{reference}/confirmation").get_data(as_text=True)
    assert f'href="/my/applications/{reference}" id="follow-application"' in page
    assert "查看申请并跟踪办理进度" in page
    assert citizen.get(f"/my/applications/{reference}").status_code == 200
    admin = Personas(demo.test_client()).as_("deptadmin")
    seen = admin.get(f"/applications/{reference}/confirmation").get_data(as_text=True)
    assert 'id="follow-application"' not in seen
