"""The material library (issue 16 item 1): a file given for a question naming a material type
becomes the applicant's C-level material; the next form offers it ("use the one you gave on
...") instead of an upload, never an expired one; a storage that fails keeps the answers and
says so; the owner, a counter clerk and a reviewer of the applicant's application see it, with
its trust level and watermark; anyone else asking by its id gets a 404 and an audit event."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from tongban.extend.manager import material_storage
from tongban.ledger_demo import CITIZEN_ID_NUMBER
from tongban.models import Application, AuditEvent, Draft, Material, StoredUpload

from ..conftest import csrf_token
from .journey import PDF, RESIDENCE_PAGES, Journey, errors_in

OTHER_PDF = b"%PDF-1.4\n% the second id card\n%%EOF\n"
OFFER = re.compile(r'name="materials.id_card:material" type="radio" value="([^"]+)"')
STORAGE_DOWN = "居民身份证正反面：文件暂时无法保存。您的其他填写内容已保存，请几分钟后重新上传文件"


def _fill(journey: Journey) -> None:
    for page_id, data in RESIDENCE_PAGES:
        if page_id == "education":
            data = {"education.level": "none"}  # no diploma asked for
        response = journey.post(page_id, data)
        assert response.status_code == 302, (page_id, errors_in(response.get_data(as_text=True)))


def _upload_both(journey: Journey, id_card: bytes = PDF):  # type: ignore[no-untyped-def]
    return journey.post("materials", {
        "materials.id_card": (io.BytesIO(id_card), "身份证.pdf"),
        "materials.residence_permit": (io.BytesIO(PDF), "居住证.pdf")},
        content_type="multipart/form-data")


def _apply_once(client) -> str:  # type: ignore[no-untyped-def]
    journey = Journey(client, "residence-points")
    _fill(journey)
    response = _upload_both(journey)
    assert response.status_code == 302, errors_in(response.get_data(as_text=True))
    response = journey.submit()
    assert response.status_code == 302 and "confirmation" in response.headers["Location"]
    return response.headers["Location"].split("/")[2]


def _materials(session) -> list[Material]:  # type: ignore[no-untyped-def]
    session.rollback()  # a new snapshot: the requests wrote on their own connections
    return list(session.scalars(select(Material).order_by(Material.id)))


def test_files_given_for_material_questions_become_c_level_materials_at_submit(
        personas, demo, session) -> None:  # type: ignore[no-untyped-def]
    reference = _apply_once(personas.as_("citizen"))
    kept = _materials(session)
    assert [(m.type_code, m.owner, m.trust_level, m.source, m.mime) for m in kept] == [
        ("id-card", CITIZEN_ID_NUMBER, "C", "uploaded", "application/pdf"),
        ("residence-permit", CITIZEN_ID_NUMBER, "C", "uploaded", "application/pdf")]
    application = session.scalars(select(Application)
                                  .where(Application.reference == reference)).one()
    assert {m.application_id for m in kept} == {application.id}
    # An id card carries its own expiry, which an upload does not tell: the catalogue's
    # unknown_expiry_days (180) from the day it was given, a day in Shanghai.
    given_on = kept[0].created_at.astimezone(ZoneInfo("Asia/Shanghai")).date()
    assert kept[0].expires_on == given_on + timedelta(days=180)
    with demo.app_context():
        assert material_storage(demo).get(kept[0].storage_key) == PDF


def test_the_next_form_offers_the_stored_one_and_uses_it_instead_of_an_upload(
        personas, demo, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("citizen")
    _apply_once(client)
    stored = _materials(session)[0]
    journey = Journey(client, "residence-points")
    _fill(journey)
    page = client.get(journey.url("materials")).get_data(as_text=True)
    given = stored.created_at.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    assert f"使用您于 {given} 提交的材料（身份证.pdf）" in page
    assert "C级：申请人上传，使用前须核对原件" in page
    assert OFFER.findall(page)[0] == stored.public_id
    response = journey.post("materials", {
        "materials.id_card:material": stored.public_id,
        "materials.residence_permit": (io.BytesIO(PDF), "居住证.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302, errors_in(response.get_data(as_text=True))
    session.rollback()
    draft = session.scalars(select(Draft).where(Draft.token == journey.token)).one()
    chosen = session.scalars(select(StoredUpload).where(
        StoredUpload.public_id == draft.answers["materials"]["id_card"])).one()
    assert (chosen.material_id, chosen.stored_name, chosen.field_key) == (
        stored.id, "", "materials.id_card")
    # The page shows the choice again, and the file opens from the library's storage.
    again = client.get(journey.url("materials")).get_data(as_text=True)
    assert re.search(rf'value="{stored.public_id}" checked', again)
    opened = client.get(f"/files/{chosen.public_id}")
    assert opened.status_code == 200 and opened.data == PDF
    assert journey.submit().status_code == 302
    # The reused one is not stored again: only the new residence permit joined the library.
    assert [m.type_code for m in _materials(session)] == ["id-card", "residence-permit",
                                                          "residence-permit"]


def test_an_expired_material_is_never_offered_nor_taken_by_its_id(
        personas, demo, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("citizen")
    _apply_once(client)
    stored = _materials(session)[0]
    session.execute(update(Material).where(Material.id == stored.id)
                    .values(expires_on=date.today() - timedelta(days=1)))
    session.commit()
    journey = Journey(client, "residence-points")
    _fill(journey)
    page = client.get(journey.url("materials")).get_data(as_text=True)
    assert "materials.id_card:material" not in page
    response = journey.post("materials", {"materials.id_card:material": stored.public_id})
    assert response.status_code == 422
    assert "居民身份证正反面：找不到此项的文件，请重新上传" in errors_in(
        response.get_data(as_text=True))


def test_a_storage_that_fails_during_an_upload_keeps_the_answers_and_says_so(
        personas, demo, session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(personas.as_("citizen"), "residence-points")
    _fill(journey)
    storage = material_storage(demo)

    def down(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage, "put", down)
    response = _upload_both(journey)
    assert response.status_code == 422
    assert STORAGE_DOWN in errors_in(response.get_data(as_text=True))
    session.rollback()
    draft = session.scalars(select(Draft).where(Draft.token == journey.token)).one()
    assert draft.answers["applicant"]["name"] == "张三"  # nothing given before is lost
    assert "id_card" not in draft.answers.get("materials", {})
    assert session.scalar(select(func.count()).select_from(StoredUpload).where(
        StoredUpload.field_key == "materials.id_card")) == 0
    monkeypatch.undo()
    assert _upload_both(journey).status_code == 302  # once it is back, the same post works


def _refusals(session, public_id: str) -> int:  # type: ignore[no-untyped-def]
    session.rollback()
    return int(session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "material.refused", AuditEvent.object_id == public_id)) or 0)


def test_owner_clerk_and_reviewer_see_a_material_and_anyone_else_gets_404_and_an_audit_event(
        personas, demo, session) -> None:  # type: ignore[no-untyped-def]
    reference = _apply_once(personas.as_("citizen"))
    stored = _materials(session)[0]
    client = personas.client
    assert 'href="/my/materials"' in client.get("/my").get_data(as_text=True)
    mine = client.get("/my/materials").get_data(as_text=True)
    assert "居民身份证" in mine and "水印：此件由申请人上传，使用前须核对原件" in mine
    detail = client.get(f"/materials/{stored.public_id}")
    assert detail.status_code == 200
    assert "可信等级 C" in detail.get_data(as_text=True)
    assert client.get(f"/materials/{stored.public_id}/file").data == PDF
    client.get("/logout")

    for outsider in ("enterprise", "outsider"):
        personas.as_(outsider)
        before = _refusals(session, stored.public_id)
        assert client.get(f"/materials/{stored.public_id}").status_code == 404
        assert client.get(f"/materials/{stored.public_id}/file").status_code == 404
        assert _refusals(session, stored.public_id) == before + 2
        client.get("/logout")

    personas.as_("clerk")
    page = client.get(f"/counter/materials?person={CITIZEN_ID_NUMBER}")
    assert page.status_code == 200 and stored.original_name in page.get_data(as_text=True)
    assert client.get(f"/materials/{stored.public_id}").status_code == 200
    bad = client.get("/counter/materials?person=12345")
    assert bad.status_code == 422
    assert "请输入 18 位身份证号码或统一社会信用代码" in bad.get_data(as_text=True)
    client.get("/logout")

    personas.as_("reviewer")  # reviews sh-rsj: sees it through the applicant's application
    assert client.get(f"/materials/{stored.public_id}").status_code == 404
    through = client.get(f"/materials/{stored.public_id}?application={reference}")
    assert through.status_code == 200
    session.rollback()
    seen = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "material.view", AuditEvent.object_id == stored.public_id)
        .order_by(AuditEvent.seq.desc())).first()
    assert seen is not None and seen.actor_name == "reviewer"
    assert seen.after is not None and seen.after["application"] == reference


def test_an_unknown_material_id_is_404_and_an_audit_event(personas, demo, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("citizen")
    assert client.get("/materials/no-such-material").status_code == 404
    assert _refusals(session, "no-such-material") == 1


def test_the_task_page_shows_the_checklist_and_the_applicants_library(
        personas, demo, session) -> None:  # type: ignore[no-untyped-def]
    from tongban.models import FlowInstance, FlowTask

    reference = _apply_once(personas.as_("citizen"))
    personas.client.get("/logout")
    session.rollback()
    application = session.scalars(select(Application)
                                  .where(Application.reference == reference)).one()
    instance = session.scalars(select(FlowInstance).where(
        FlowInstance.application_id == application.id)).one()
    task = session.scalars(select(FlowTask).where(FlowTask.instance_id == instance.id)).first()
    assert task is not None
    client = personas.as_("reviewer")
    page = client.get(f"/review/tasks/{task.id}").get_data(as_text=True)
    assert "材料清单核对" in page and "申请人材料库" in page
    states = dict(re.findall(r'data-material="([^"]+)" data-state="([^"]+)"', page))
    assert states == {"id-card": "present", "residence-permit": "present",
                      "diploma": "missing"}
    assert f"?application={reference}" in page
    assert "水印：此件由申请人上传，使用前须核对原件" in page


def test_an_expired_draft_that_reused_a_stored_material_is_purged_and_the_material_kept(
        personas, demo, session, cli) -> None:  # type: ignore[no-untyped-def]
    from tongban.models import utcnow

    client = personas.as_("citizen")
    _apply_once(client)
    stored = _materials(session)[0]
    journey = Journey(client, "residence-points")
    _fill(journey)
    journey.post("materials", {"materials.id_card:material": stored.public_id})
    session.rollback()
    draft = session.scalars(select(Draft).where(Draft.token == journey.token)).one()
    assert draft.answers["materials"]["id_card"]
    draft.expires_at = utcnow() - timedelta(days=1)
    session.add(draft)
    session.commit()
    result = cli("drafts", "purge")
    assert "Deleted 1 expired draft(s) and 0 file(s)." in result.output, result.output
    assert [m.id for m in _materials(session)][0] == stored.id
    with demo.app_context():
        assert material_storage(demo).get(stored.storage_key) == PDF


def test_a_clerk_at_the_counter_is_offered_the_applicants_materials_by_the_typed_id_number(
        personas, demo, session) -> None:  # type: ignore[no-untyped-def]
    _apply_once(personas.as_("citizen"))
    stored = _materials(session)[0]
    personas.client.get("/logout")
    client = personas.as_("clerk")
    journey = Journey(client, "residence-points")  # started on the applicant's behalf
    _fill(journey)  # the applicant's ID number is typed on the first page
    page = client.get(journey.url("materials")).get_data(as_text=True)
    assert OFFER.findall(page) == [stored.public_id, "upload"]
    response = journey.post("materials", {
        "materials.id_card:material": stored.public_id,
        "materials.residence_permit": (io.BytesIO(OTHER_PDF), "新居住证.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302, errors_in(response.get_data(as_text=True))
    assert journey.submit().status_code == 302
    newest = _materials(session)[-1]
    assert (newest.type_code, newest.owner, newest.trust_level) == (
        "residence-permit", CITIZEN_ID_NUMBER, "C")


def test_a_clerk_who_saw_the_original_raises_an_upload_from_c_to_b_and_nobody_else_can(
        personas, demo, session) -> None:  # type: ignore[no-untyped-def]
    _apply_once(personas.as_("citizen"))
    stored = _materials(session)[0]
    client = personas.client
    page = client.get(f"/materials/{stored.public_id}").get_data(as_text=True)
    assert "与原件核对无误" not in page  # the owner gets no such button
    token = csrf_token(client, f"/materials/{stored.public_id}")
    refused = client.post(f"/materials/{stored.public_id}/checked",
                          data={"csrf_token": token})
    assert refused.status_code == 403
    client.get("/logout")

    personas.as_("clerk")
    page = client.get(f"/materials/{stored.public_id}").get_data(as_text=True)
    assert "与原件核对无误" in page
    token = csrf_token(client, f"/materials/{stored.public_id}")
    done = client.post(f"/materials/{stored.public_id}/checked", data={"csrf_token": token})
    assert done.status_code == 303
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "可信等级 B" in after
    assert "水印：此件经与原件核对无误，仅供办理政务服务事项时使用" in after
    again = client.post(f"/materials/{stored.public_id}/checked", data={"csrf_token": token})
    assert again.status_code == 409
    session.rollback()
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "material.checked",
        AuditEvent.object_id == stored.public_id)).one()
    assert (event.actor_name, event.before, event.after["trust_level"]) == (
        "clerk", {"trust_level": "C"}, "B")
