"""Issue 11, found walking the demo flows as their users: each a fix with its test."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from tongban.models import Application

from ..conftest import Personas
from . import review_world
from .journey import PDF, csrf

TAG = re.compile(r"<[^>]+>")


@pytest.fixture(autouse=True)
def _fresh_flow_cache() -> None:
    review_world.forget_compiled_flows()


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", TAG.sub(" ", html))


def _as(demo: Any, username: str) -> FlaskClient:
    return Personas(demo.test_client()).as_(username)


def _post(client: FlaskClient, task_id: int, op: str, **data: Any):  # type: ignore[no-untyped-def]
    page = client.get(f"/review/tasks/{task_id}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version is not None
    return client.post(f"/review/tasks/{task_id}", data={
        "csrf_token": csrf(page), "op": op, "version": version.group(1), **data})


def test_a_correction_naming_a_material_takes_the_new_file_and_names_it_in_words(
        demo) -> None:  # type: ignore[no-untyped-def]
    run = review_world.start(demo.extensions["tongban.engine"], "web-intake")
    intake = review_world.open_task(run, "intake")
    clerk = _as(demo, "clerk")
    asked = _post(clerk, intake.id, "correction", questions="applicant.mobile",
                  materials="materials.id_card", comment="身份证照片不清晰")
    assert asked.status_code == 302, asked.get_data(as_text=True)
    citizen = _as(demo, "citizen")
    progress = _text(citizen.get(f"/my/applications/{run.reference}").get_data(as_text=True))
    # The timeline names what to fix as the form does, not by its keys.
    assert "applicant.mobile" not in progress and "materials.id_card" not in progress
    assert progress.count("居民身份证正反面") == 2  # the box "what to fix" and the timeline
    staff = _text(clerk.get(f"/review/tasks/{intake.id}").get_data(as_text=True))
    assert "materials.id_card" not in staff.split("办理记录")[1]
    form = citizen.get(f"/my/applications/{run.reference}/correct").get_data(as_text=True)
    sent = citizen.post(f"/my/applications/{run.reference}/correct", data={
        "csrf_token": csrf(form), "applicant.mobile": "13900001111",
        "materials.id_card": (io.BytesIO(PDF), "新身份证.pdf", "application/pdf")},
        content_type="multipart/form-data")
    assert sent.status_code == 302, _text(sent.get_data(as_text=True))
    assert review_world.status(run) == "submitted"
    with run.session() as session:
        application = session.get(Application, run.application_id)
        assert application is not None
        assert application.answers["applicant"]["mobile"] == "13900001111"
        assert isinstance(application.answers["materials"]["id_card"], str)
