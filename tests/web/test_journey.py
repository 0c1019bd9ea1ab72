"""The application journey end to end through the test client, and its bad-input table."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from tongban.models import Application, AuditEvent, Draft, StoredUpload

from .journey import PDF, RESIDENCE_PAGES, VALID_ID, Journey, errors_in, id_number


def _draft(session, journey: Journey) -> Draft:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalars(select(Draft).where(Draft.token == journey.token)).one()


def _fill_residence(journey: Journey) -> None:
    for page_id, data in RESIDENCE_PAGES:
        response = journey.post(page_id, data)
        assert response.status_code == 302, (page_id, errors_in(response.get_data(as_text=True)))
    response = journey.post("materials", {
        "materials.id_card": (io.BytesIO(PDF), "身份证.pdf"),
        "materials.residence_permit": (io.BytesIO(PDF), "居住证.pdf"),
        "materials.diploma": (io.BytesIO(PDF), "diploma.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302, errors_in(response.get_data(as_text=True))


def test_a_citizen_applies_for_residence_points_from_start_to_confirmation(
        personas, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("citizen")
    journey = Journey(client, "residence-points")
    assert journey.first_page_url.endswith("/tasks")  # a long application starts from its task list
    tasks = client.get(journey.first_page_url).get_data(as_text=True)
    assert "申请人" in tasks and "积分指标" in tasks and "请逐项填写以下各部分" in tasks
    _fill_residence(journey)

    check = client.get(f"/apply/{journey.token}/check").get_data(as_text=True)
    assert "提交申请前请核对您的信息" in check and "计算机科学与技术" in check and "身份证.pdf" in check
    response = journey.submit()
    assert response.status_code == 302
    confirmation = client.get(response.headers["Location"]).get_data(as_text=True)
    application = session.scalars(select(Application)).one()
    assert application.reference in confirmation
    assert application.answers["applicant"]["birth_date"] == "1990-03-07"  # calculated
    assert application.status == "submitted"
    draft = _draft(session, journey)
    assert (application.form_version_id, application.service_version_id) == (
        draft.form_version_id, draft.service_version_id)
    assert session.scalars(select(AuditEvent).where(
        AuditEvent.action == "application.submit")).one().object_id == application.reference
    uploads = session.scalars(select(StoredUpload)).all()
    assert {u.application_id for u in uploads} == {application.id}


def test_the_same_submit_twice_makes_one_application(personas, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("citizen")
    journey = Journey(client, "residence-points")
    _fill_residence(journey)
    check = client.get(f"/apply/{journey.token}/check").get_data(as_text=True)
    first = journey.submit()
    # The browser's back button and a second press of "Confirm and send" replay the same form.
    import re

    key = re.search(r'name="idempotency_key" value="([^"]+)"', check).group(1)
    second = journey.submit(key=key)
    assert first.headers["Location"] == second.headers["Location"]
    assert session.scalar(select(func.count()).select_from(Application)) == 1


def test_a_wrong_id_checksum_is_refused_with_its_reason_and_not_saved(personas, session) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(personas.as_("citizen"), "residence-points")
    good = dict(RESIDENCE_PAGES[0][1])
    bad_id = good["applicant.id_number"][:-1] + ("0" if good["applicant.id_number"][-1] != "0" else "1")
    response = journey.post("applicant", {**good, "applicant.id_number": bad_id})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert errors_in(page) == ["身份证号码校验位不正确，请核对最后一位。"]
    assert 'class="tb-error-summary"' in page
    assert f'value="{bad_id}"' in page  # what was typed is shown again
    assert "id_number" not in _draft(session, journey).answers.get("applicant", {})
    assert _draft(session, journey).answers["applicant"]["name"] == "张三"  # the rest is kept


BAD_ANSWERS = [
    # (what, page, posted answers, the path that must not be stored, exact message)
    ("USCC with a bad check character", "applicant",
     {**RESIDENCE_PAGES[0][1], "applicant.employer_uscc": "91350100M000100Y4X"},
     ("applicant", "employer_uscc"), "统一社会信用代码校验位不正确，请核对最后一位。"),
    ("a number with a comma", "social-insurance",
     {"social_insurance.months": "1,000", "social_insurance.base_band": "1_to_2",
      "social_insurance.base_months": "12"},
     ("social_insurance", "months"), "在本市缴纳职工社会保险的累计月数请不要使用逗号"),
    ("an enum value not in the list", "education", {"education.level": "phd-honoris"},
     ("education", "level"), "请从列表中选择最高学历（学位）"),
]


@pytest.mark.parametrize(("what", "page_id", "data", "path", "message"), BAD_ANSWERS,
                         ids=[row[0] for row in BAD_ANSWERS])
def test_bad_answers_get_exact_messages_and_are_not_stored(
        personas, session, what, page_id, data, path, message) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(personas.as_("citizen"), "residence-points")
    response = journey.post(page_id, data)
    assert response.status_code == 422
    assert message in errors_in(response.get_data(as_text=True))
    group, name = path
    assert name not in _draft(session, journey).answers.get(group, {})


def test_a_date_that_does_not_exist_is_refused(personas) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(personas.as_("citizen"), "residence-points")
    response = journey.post("qualification", {
        "qualification.kind": "title", "qualification.title_level": "senior",
        "qualification.certificate_date:year": "2025", "qualification.certificate_date:month": "2",
        "qualification.certificate_date:day": "30"})
    assert response.status_code == 422
    assert errors_in(response.get_data(as_text=True)) == ["证书取得日期必须是真实存在的日期"]


def test_a_hidden_fields_value_posted_anyway_is_dropped(personas, session) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(personas.as_("citizen"), "residence-points")
    response = journey.post("qualification", {"qualification.kind": "none",
                                              "qualification.skill_level": "3"})
    assert response.status_code == 302
    assert _draft(session, journey).answers["qualification"] == {"kind": "none"}


def test_a_required_field_on_a_skipped_page_is_not_required(personas, session) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(personas.as_("citizen"), "household-transfer")
    journey.post("applicant", {"applicant.name": "李四", "applicant.id_number": id_number(
        "31011519850101002"), "applicant.mobile": "13900001111"})
    response = journey.post("transfer", {
        "transfer.reason": "family", "transfer.from_region": "320102",
        "transfer.from_address": "玄武区中山路 1 号", "transfer.to_address": "浦东新区世纪大道 100 号",
        "transfer.to_postal_code": "200120", "transfer.with_family": "false"})
    # The members page (which needs at least one member) is skipped: on to the uploads.
    assert response.headers["Location"] == journey.url("materials")
    response = journey.post("materials", {
        "materials.id_card": (io.BytesIO(PDF), "身份证.pdf"),
        "materials.hukou_booklet": (io.BytesIO(PDF), "户口簿.pdf"),
        "materials.approval_letter": (io.BytesIO(PDF), "准迁证.pdf")},
        content_type="multipart/form-data")
    assert response.headers["Location"] == f"/apply/{journey.token}/check"
    assert journey.submit().status_code == 302
    assert session.scalar(select(func.count()).select_from(Application)) == 1


def test_five_thousand_fields_in_one_post_are_refused(personas, session) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(personas.as_("citizen"), "residence-points")
    # What the start put in: the account's ID number, for the registers (docs/connectors.md)
    started = {"applicant": {"id_number": VALID_ID}}
    data = {f"applicant.x{i}": "1" for i in range(5000)}
    response = journey.post("applicant", data)
    assert response.status_code == 413
    assert _draft(session, journey).answers == started


def test_a_deeply_nested_json_body_on_a_form_page_is_a_415_and_saves_nothing(
        personas, session) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(personas.as_("citizen"), "residence-points")
    # What the start put in: the account's ID number, for the registers (docs/connectors.md)
    started = {"applicant": {"id_number": VALID_ID}}
    body = "[" * 100 + "]" * 100
    response = journey.client.post(journey.url("applicant"), data=body,
                                   content_type="application/json",
                                   headers={"X-CSRFToken": journey.token_value})
    assert response.status_code == 415
    assert _draft(session, journey).answers == started


def test_field_names_nested_a_hundred_levels_are_a_400(personas, session) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(personas.as_("citizen"), "residence-points")
    # What the start put in: the account's ID number, for the registers (docs/connectors.md)
    started = {"applicant": {"id_number": VALID_ID}}
    response = journey.post("applicant", {".".join(["a"] * 100): "1"})
    assert response.status_code == 400
    assert _draft(session, journey).answers == started


def test_an_executable_named_pdf_is_refused(personas, session) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(personas.as_("citizen"), "residence-points")
    response = journey.post("materials", {
        "materials.id_card": (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 200), "身份证.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert "居民身份证正反面：所选文件必须是PDF、JPG或PNG格式" in errors_in(
        response.get_data(as_text=True))
    assert session.scalar(select(func.count()).select_from(StoredUpload)) == 0


def test_a_file_over_the_request_limit_gets_the_413_page(personas, app, session) -> None:  # type: ignore[no-untyped-def]
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    journey = Journey(personas.as_("citizen"), "residence-points")
    response = journey.post("materials", {
        "materials.id_card": (io.BytesIO(PDF + b"0" * 100_000), "big.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 413
    assert "超过了大小限制" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(StoredUpload)) == 0


def test_a_draft_stays_on_the_form_version_it_started_on(personas, app, session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from tongban import PROJECT_ROOT
    from tongban.definitions import load_directory, publish

    journey = Journey(personas.as_("citizen"), "residence-points")
    root = tmp_path / "defs"
    for folder in ("workflow_definitions", "form_definitions"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder)
    form_file = root / "form_definitions" / "residence-points.json"
    form_file.write_text(form_file.read_text("utf-8").replace(
        '"label": {"zh": "姓名", "en": "Full name"}, "autocomplete": "name"',
        '"label": {"zh": "申请人姓名（新版）", "en": "Full name"}, "autocomplete": "name"', 1),
        "utf-8")
    created = publish(session, load_directory(root), author="ops")
    session.commit()
    assert [v.code for v in created.created] == ["residence-points"]

    page = journey.client.get(journey.url("applicant")).get_data(as_text=True)
    assert "申请人姓名（新版）" not in page
    response = journey.post("applicant", RESIDENCE_PAGES[0][1])
    assert response.status_code == 302
    draft = _draft(session, journey)
    assert draft.form_version_id == created.created[0].id - 1 or draft.form_version_id != \
        created.created[0].id


def test_anonymous_reports_get_a_resume_link(demo, client, session) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(client, "urban-event-report")
    response = journey.post("event", {"event.category": "facilities",
                                      "event.facility_kind": "manhole",
                                      "event.description": "人行道上的窨井盖缺失，有人险些踩空。",
                                      "action": "save"})
    assert response.headers["Location"] == f"/apply/{journey.token}/saved"
    saved = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"/apply/{journey.token}" in saved
    # The link works in another browser too: that is what it is for.
    other = demo.test_client()
    resumed = other.get(f"/apply/{journey.token}")
    assert resumed.headers["Location"] == f"/apply/{journey.token}/pages/location"


def test_a_signed_in_users_draft_is_listed_and_private(personas, demo, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("citizen")
    journey = Journey(client, "residence-points")
    journey.post("applicant", {**RESIDENCE_PAGES[0][1], "action": "save"})
    mine = client.get("/my").get_data(as_text=True)
    assert "上海市居住证积分申请" in mine and journey.token in mine
    stranger = demo.test_client()
    assert stranger.get(journey.url("applicant")).status_code == 403


def test_reviewers_see_submitted_applications_and_outsiders_do_not(personas, demo, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("citizen")
    journey = Journey(client, "residence-points")
    _fill_residence(journey)
    journey.submit()
    reference = session.scalars(select(Application.reference)).one()
    client.post("/logout", data={"csrf_token": journey.token_value})

    from ..conftest import Personas

    reviewer = Personas(demo.test_client()).as_("reviewer")
    listing = reviewer.get("/review/applications").get_data(as_text=True)
    assert reference in listing
    detail = reviewer.get(f"/review/applications/{reference}").get_data(as_text=True)
    assert "张三" in detail and "身份证.pdf" in detail
    upload = session.scalars(select(StoredUpload).where(
        StoredUpload.field_key == "materials.id_card")).one()
    file_response = reviewer.get(f"/files/{upload.public_id}")
    assert file_response.status_code == 200 and file_response.data == PDF

    outsider = Personas(demo.test_client()).as_("outsider")
    assert outsider.get("/review/applications").status_code == 403
    assert outsider.get(f"/files/{upload.public_id}").status_code == 404


def test_an_expired_draft_says_so(personas, session) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from tongban.models import utcnow

    journey = Journey(personas.as_("citizen"), "residence-points")
    draft = _draft(session, journey)
    draft.expires_at = utcnow() - timedelta(minutes=1)
    session.add(draft)
    session.commit()
    response = journey.client.get(journey.url("applicant"))
    assert response.status_code == 410


def test_expired_drafts_are_purged_with_their_files(personas, app, session, cli) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta
    from pathlib import Path

    from tongban.models import utcnow

    journey = Journey(personas.as_("citizen"), "residence-points")
    journey.post("materials", {"materials.id_card": (io.BytesIO(PDF), "id.pdf")},
                 content_type="multipart/form-data")
    upload = session.scalars(select(StoredUpload)).one()
    stored = Path(app.config["UPLOAD_DIR"]) / upload.stored_name
    assert stored.exists()
    draft = _draft(session, journey)
    draft.expires_at = utcnow() - timedelta(days=1)
    session.add(draft)
    session.commit()
    result = cli("drafts", "purge")
    assert "Deleted 1 expired draft(s) and 1 file(s)." in result.output
    assert not stored.exists()
    assert session.scalar(select(func.count()).select_from(Draft)) == 0


def test_a_question_revealed_by_a_rule_that_requires_it_is_not_marked_optional(personas) -> None:  # type: ignore[no-untyped-def]
    import re

    journey = Journey(personas.as_("citizen"), "residence-points")
    page = journey.client.get(journey.url("qualification")).get_data(as_text=True)
    skill = re.search(r'id="f-qualification-skill_level-group".*?</legend>', page, re.S)
    title = re.search(r'id="f-qualification-certificate_date-group".*?</legend>', page, re.S)
    assert skill and "选填" not in skill.group(0)
    assert title and "选填" in title.group(0)  # shown by a rule, but never required


def test_without_javascript_a_revealed_question_is_answered_in_the_same_post(personas, session) -> None:  # type: ignore[no-untyped-def]
    """The sub-category lists are on the page from the start (each saying which category it is
    for), so one post answers both; the lists for other categories send nothing that is kept."""
    import re

    journey = Journey(personas.client, "urban-event-report")  # nobody signed in
    page = journey.client.get(journey.url("event")).get_data(as_text=True)
    note = re.search(r'id="f-event-facility_kind-group"[^>]*data-tb-off>\s*'
                     r'<p class="tb-conditional-note">([^<]+)</p>', page)
    assert note and note.group(1) == "如果“问题类别”选择了“市政设施”，请回答此问题。"
    assert not re.search(r'id="f-event-facility_kind"[^>]*disabled', page)
    response = journey.post("event", {
        "event.category": "facilities", "event.facility_kind": "manhole",
        "event.environment_kind": "garbage", "event.description": "人行道上的井盖缺失，很危险。"})
    assert response.status_code == 302, errors_in(response.get_data(as_text=True))
    assert response.headers["Location"].endswith("/pages/location")
    answers = _draft(session, journey).answers["event"]
    assert answers["facility_kind"] == "manhole"
    assert "environment_kind" not in answers  # another category's list: dropped


def test_an_anonymous_visitor_is_not_sent_a_new_session_cookie_on_every_page(personas) -> None:  # type: ignore[no-untyped-def]
    """Once the visitor's session holds their draft, pages and page posts send no cookies:
    no re-signed session and no remember-me deletion with every response."""
    journey = Journey(personas.client, "urban-event-report")  # nobody signed in
    client = journey.client
    client.get(journey.url("event"))  # the draft is remembered in the session here
    client.get(journey.url("event"))  # and the visitor's identity with it
    for _ in range(2):
        assert client.get(journey.url("event")).headers.getlist("Set-Cookie") == []
    response = journey.post("event", {"event.category": "facilities",
                                      "event.facility_kind": "manhole",
                                      "event.description": "人行道上的井盖缺失，很危险。"})
    assert response.status_code == 302
    assert response.headers.getlist("Set-Cookie") == []


def test_an_unreadable_answer_to_a_question_that_does_not_apply_is_no_error(personas, session) -> None:  # type: ignore[no-untyped-def]
    """Without JavaScript every sub-category list is on the page; whatever is sent for one that
    does not apply is neither judged nor kept."""
    journey = Journey(personas.client, "urban-event-report")
    response = journey.post("event", {
        "event.category": "facilities", "event.facility_kind": "manhole",
        "event.environment_kind": "not-an-option",
        "event.description": "人行道上的井盖缺失，很危险。"})
    assert response.status_code == 302, errors_in(response.get_data(as_text=True))
    assert "environment_kind" not in _draft(session, journey).answers["event"]
    # The same unreadable answer when the question does apply is refused as before.
    response = journey.post("event", {
        "event.category": "environment", "event.environment_kind": "not-an-option",
        "event.description": "人行道上的井盖缺失，很危险。"})
    assert response.status_code == 422
    assert errors_in(response.get_data(as_text=True)) == ["请从列表中选择具体问题"]
