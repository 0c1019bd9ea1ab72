"""The access policy through the web: departments and sub-departments decide who sees what.

Issue 10, part 3: a department admin of sh-rsj could open another department's confirmation
page, and a reviewer of a parent department did not see its sub-departments' applications.
"""

from __future__ import annotations

from sqlalchemy import select, update

from tongban.accounts import create_user
from tongban.definitions.publish import current_version
from tongban.models import Application, Department, Role, StoredUpload

from ..conftest import DEMO_PASSWORD, Personas
from .journey import PDF, Journey, csrf
from .test_journey import _fill_residence


def _application(session, reference: str, service_code: str, department: str) -> None:  # type: ignore[no-untyped-def]
    service = current_version(session, "service", service_code)
    form = current_version(session, "form", service.content["form"])
    session.add(Application(reference=reference, idempotency_key=reference,
                            service_code=service_code, service_version_id=service.id,
                            form_version_id=form.id, answers={}, department_code=department))
    session.commit()


def _sub_department(session) -> None:  # type: ignore[no-untyped-def]
    rsj = session.scalars(select(Department).where(Department.code == "sh-rsj")).one()
    session.add(Department(code="sh-rsj-points", name_zh="上海市人社局积分办",
                           name_en="Points office", parent_id=rsj.id))
    session.commit()


def _user(session, username: str, roles: list[tuple[Role, str | None]]) -> None:  # type: ignore[no-untyped-def]
    create_user(session, username, DEMO_PASSWORD, username, roles)
    session.commit()


def test_a_department_admin_gets_404_on_another_departments_confirmation_page(
        personas, demo, session) -> None:  # type: ignore[no-untyped-def]
    _application(session, "2612-RSJ2-AAAA", "residence-points", "sh-rsj")
    _application(session, "2612-CGJ2-BBBB", "urban-event-report", "sh-cgj")
    admin = personas.as_("deptadmin")  # department_admin of sh-rsj
    assert admin.get("/applications/2612-CGJ2-BBBB/confirmation").status_code == 404
    own = admin.get("/applications/2612-RSJ2-AAAA/confirmation")
    assert own.status_code == 200 and "2612-RSJ2-AAAA" in own.get_data(as_text=True)
    assert admin.get("/review/applications/2612-CGJ2-BBBB").status_code == 404


def test_a_reviewer_of_a_parent_department_sees_a_sub_departments_application_and_its_files(
        personas, demo, session) -> None:  # type: ignore[no-untyped-def]
    _sub_department(session)
    _user(session, "rsj-reviewer", [(Role.REVIEWER, "sh-rsj")])
    _user(session, "points-reviewer", [(Role.REVIEWER, "sh-rsj-points")])
    client = personas.as_("citizen")
    journey = Journey(client, "residence-points")
    _fill_residence(journey)
    journey.submit()
    reference = session.scalars(select(Application.reference)).one()
    session.execute(update(Application).values(department_code="sh-rsj-points"))
    _application(session, "2612-RSJ2-CCCC", "residence-points", "sh-rsj")
    upload = session.scalars(select(StoredUpload).where(
        StoredUpload.field_key == "materials.id_card")).one()

    parent = Personas(demo.test_client()).as_("rsj-reviewer")
    listing = parent.get("/review/applications").get_data(as_text=True)
    assert reference in listing and "2612-RSJ2-CCCC" in listing
    assert parent.get(f"/review/applications/{reference}").status_code == 200
    opened = parent.get(f"/files/{upload.public_id}")
    assert opened.status_code == 200 and opened.data == PDF

    # The sub-department does not see its parent's applications.
    child = Personas(demo.test_client()).as_("points-reviewer")
    listing = child.get("/review/applications").get_data(as_text=True)
    assert reference in listing and "2612-RSJ2-CCCC" not in listing
    assert child.get("/review/applications/2612-RSJ2-CCCC").status_code == 404


def test_a_reviewer_of_another_department_can_neither_list_nor_open_an_application_or_its_file(
        personas, demo, session) -> None:  # type: ignore[no-untyped-def]
    _user(session, "gaj-reviewer", [(Role.REVIEWER, "sh-gaj")])
    journey = Journey(personas.as_("citizen"), "residence-points")
    _fill_residence(journey)
    journey.submit()
    reference = session.scalars(select(Application.reference)).one()
    upload = session.scalars(select(StoredUpload)).first()

    other = Personas(demo.test_client()).as_("gaj-reviewer")
    assert reference not in other.get("/review/applications").get_data(as_text=True)
    assert other.get(f"/review/applications/{reference}").status_code == 404
    assert other.get(f"/applications/{reference}/confirmation").status_code == 404
    assert other.get(f"/files/{upload.public_id}").status_code == 404


def test_a_signed_in_user_outside_a_services_audience_is_told_and_no_draft_is_made(
        personas, demo, session) -> None:  # type: ignore[no-untyped-def]
    from tongban.models import Draft

    client = personas.as_("enterprise")  # residence points are for citizens
    page = client.get("/services/residence-points").get_data(as_text=True)
    response = client.post("/services/residence-points/start", data={"csrf_token": csrf(page)})
    assert response.status_code == 403
    assert "您的账号不能申请此事项" in response.get_data(as_text=True)
    assert session.scalars(select(Draft)).all() == []
    # A service anyone may report to anonymously is open to this account too.
    assert Journey(client, "urban-event-report").token


def test_a_counter_clerk_starts_a_service_on_someones_behalf(personas, session) -> None:  # type: ignore[no-untyped-def]
    from tongban.models import Draft

    journey = Journey(personas.as_("clerk"), "residence-points")
    draft = session.scalars(select(Draft).where(Draft.token == journey.token)).one()
    assert draft.clerk_id is not None and draft.user_id is None
