"""Issue 10 (who looked): every allowed read of an application or opening of one of its files
leaves exactly one audit event with the reader and the request; a refused read leaves none."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from tongban import audit
from tongban.models import Application, AuditEvent, StoredUpload, User
from tongban.who_looked import APPLICATION_READ, FILE_OPEN, looks_at

from ..conftest import Personas
from .journey import PDF, RESIDENCE_PAGES, Journey


@pytest.fixture
def submitted(personas, session):  # type: ignore[no-untyped-def]
    """The citizen's submitted residence-points application, with the citizen's client."""
    client = personas.as_("citizen")
    journey = Journey(client, "residence-points")
    for page_id, data in RESIDENCE_PAGES:
        assert journey.post(page_id, data).status_code == 302
    assert journey.post("materials", {
        "materials.id_card": (io.BytesIO(PDF), "身份证.pdf"),
        "materials.residence_permit": (io.BytesIO(PDF), "居住证.pdf"),
        "materials.diploma": (io.BytesIO(PDF), "diploma.pdf")},
        content_type="multipart/form-data").status_code == 302
    response = journey.submit()
    assert response.status_code == 302
    application = session.scalars(select(Application)).one()
    return application, client, response.headers["Location"]


def _reads(session) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    session.rollback()  # a fresh snapshot: the requests committed on their own sessions
    return list(session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_([APPLICATION_READ, FILE_OPEN])).order_by(AuditEvent.seq)))


def _user_id(session, username: str) -> int:  # type: ignore[no-untyped-def]
    return session.scalars(select(User.id).where(User.username == username)).one()


def _id_card(session) -> StoredUpload:  # type: ignore[no-untyped-def]
    return session.scalars(select(StoredUpload).where(
        StoredUpload.field_key == "materials.id_card")).one()


def test_a_reviewer_reading_an_application_leaves_one_event_naming_them(
        submitted, demo, session) -> None:  # type: ignore[no-untyped-def]
    application, _citizen, _confirmation = submitted
    reviewer = Personas(demo.test_client()).as_("reviewer")
    response = reviewer.get(f"/review/applications/{application.reference}",
                            headers={"X-Request-ID": "review-read-0001"})
    assert response.status_code == 200
    [event] = _reads(session)
    assert (event.action, event.object_type, event.object_id, event.actor_id, event.actor_name,
            event.after, event.request_id) == (
        APPLICATION_READ, "application", application.reference, _user_id(session, "reviewer"),
        "reviewer", {"page": "review"}, "review-read-0001")
    assert audit.verify(session).ok


def test_the_citizen_reading_their_confirmation_leaves_one_event(submitted, session) -> None:  # type: ignore[no-untyped-def]
    application, citizen, confirmation = submitted
    response = citizen.get(confirmation, headers={"X-Request-ID": "confirmation-0001"})
    assert response.status_code == 200
    [event] = _reads(session)
    assert (event.action, event.object_id, event.actor_id, event.actor_name, event.after,
            event.request_id) == (APPLICATION_READ, application.reference,
                                  _user_id(session, "citizen"), "citizen",
                                  {"page": "confirmation"}, "confirmation-0001")


def test_opening_a_file_leaves_one_event_naming_the_application(submitted, demo, session) -> None:  # type: ignore[no-untyped-def]
    application, _citizen, _confirmation = submitted
    upload = _id_card(session)
    reviewer = Personas(demo.test_client()).as_("reviewer")
    response = reviewer.get(f"/files/{upload.public_id}", headers={"X-Request-ID": "file-0001"})
    assert response.status_code == 200 and response.data == PDF
    [event] = _reads(session)
    assert (event.action, event.object_type, event.object_id, event.actor_name, event.after,
            event.request_id) == (
        FILE_OPEN, "file", upload.public_id, "reviewer",
        {"application": application.reference, "question": "materials.id_card"}, "file-0001")


def test_opening_an_upload_of_a_draft_is_recorded_before_there_is_an_application(
        personas, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("citizen")
    journey = Journey(client, "residence-points")
    journey.post("materials", {"materials.id_card": (io.BytesIO(PDF), "身份证.pdf")},
                 content_type="multipart/form-data")
    upload = _id_card(session)
    assert client.get(f"/files/{upload.public_id}").status_code == 200
    [event] = _reads(session)
    assert (event.actor_id, event.actor_name, event.after) == (
        _user_id(session, "citizen"), "citizen",
        {"application": None, "question": "materials.id_card"})


@pytest.mark.parametrize("username", ["outsider", "enterprise"])
def test_a_refused_read_leaves_no_event(submitted, demo, session, username) -> None:  # type: ignore[no-untyped-def]
    application, _citizen, confirmation = submitted
    upload = _id_card(session)
    other = Personas(demo.test_client()).as_(username)
    assert other.get(f"/review/applications/{application.reference}").status_code in (403, 404)
    assert other.get(confirmation).status_code == 404
    assert other.get(f"/files/{upload.public_id}").status_code == 404
    assert demo.test_client().get(confirmation).status_code == 404
    assert _reads(session) == []


def test_a_read_whose_audit_write_fails_is_not_shown(submitted, demo, session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    application, _citizen, _confirmation = submitted
    reviewer = Personas(demo.test_client()).as_("reviewer")

    def refuse(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(audit, "record", refuse)
    demo.config["PROPAGATE_EXCEPTIONS"] = False  # answer 500 as in production
    response = reviewer.get(f"/review/applications/{application.reference}")
    assert response.status_code == 500
    assert "张三" not in response.get_data(as_text=True)


def test_the_reads_of_an_application_and_its_files_are_listed_oldest_first(
        submitted, demo, session) -> None:  # type: ignore[no-untyped-def]
    application, citizen, confirmation = submitted
    upload = _id_card(session)
    citizen.get(confirmation)
    reviewer = Personas(demo.test_client()).as_("reviewer")
    reviewer.get(f"/review/applications/{application.reference}")
    reviewer.get(f"/files/{upload.public_id}")
    session.rollback()
    looks = looks_at(session, application)
    assert [(look.actor_name, look.action, look.page, look.file_name) for look in looks] == [
        ("citizen", APPLICATION_READ, "confirmation", None),
        ("reviewer", APPLICATION_READ, "review", None),
        ("reviewer", FILE_OPEN, None, "身份证.pdf"),
    ]
    assert looks[1].actor_id == _user_id(session, "reviewer")
