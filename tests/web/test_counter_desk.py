"""Issue 17 items 1 and 2, the clerk's desk (/counter): a clerk looks an applicant up by ID
number or USCC (a wrong check character is refused, nothing recorded), types the name of one
the register cannot confirm (unverified), sees their materials, drafts and applications,
checks a service's materials (a scan kept at level B once the original is checked) and starts
a service their window handles on the applicant's behalf: the form speaks of 申请人 and
starts with what the counter knows. A service outside the window is 403; the person, signed
in to an account with the same verified ID number, sees the counter's application in /my."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select, update

from tongban.counter import people
from tongban.ledger_demo import CITIZEN_ID_NUMBER
from tongban.models import Application, AuditEvent, Draft, Material, Person

from ..conftest import csrf_token
from . import review_world
from .journey import PDF, errors_in

LISI = "310101198805120028"         # a valid number the tests' (absent) register cannot read
BAD_CHECK = "310101198805120029"    # the same with a wrong check character
USCC = "91350100M000100Y43"
MATERIALS_NONE = "材料库中没有此人的材料。"
WRONG_CHECK = "身份证号码校验位不正确，请核对最后一位。"
NOT_HERE = "您的窗口不受理此事项：企业信用评价（示例）由上海市市场监督管理局办理。未开始任何办理。"


def _count(session, model) -> int:  # type: ignore[no-untyped-def]
    session.rollback()
    return int(session.scalar(select(func.count()).select_from(model)))


def _clerk(personas):  # type: ignore[no-untyped-def]
    client = personas.as_("clerk_xuhui")
    return client, csrf_token(client, "/counter")


def _create(client, token: str, number: str = LISI, name: str = "李四") -> str:  # type: ignore[no-untyped-def]
    response = client.post("/counter/people", data={"csrf_token": token, "number": number,
                                                     "name": name})
    assert response.status_code == 303, errors_in(response.get_data(as_text=True))
    return str(response.headers["Location"])


@pytest.mark.parametrize(("typed", "kind", "number"), [
    ("11010519491231002x", "person", "11010519491231002X"),
    (" 9135 0100 M000 100Y43 ", "enterprise", USCC),
])
def test_a_number_is_read_as_an_id_number_or_a_credit_code(typed, kind, number) -> None:  # type: ignore[no-untyped-def]
    assert people.parse_number(typed) == (kind, number)


@pytest.mark.parametrize(("typed", "message"), [
    ("", people.MSG_EMPTY),
    ("12345", people.MSG_LENGTH),
    (BAD_CHECK, "The ID number's check character is wrong. Check the last character."),
    ("91350100M000100Y44", "The unified social credit code's check character is wrong. "
                           "Check the last character."),
    ("310101880512002", "This is an old 15-digit ID number. Enter the 18-character number."),
])
def test_a_bad_number_is_refused_with_its_reason(typed, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(people.PersonRefused) as caught:
        people.parse_number(typed)
    assert caught.value.message == message


def test_a_wrong_id_number_check_character_is_refused_and_nothing_is_recorded(
        personas, session) -> None:  # type: ignore[no-untyped-def]
    client, token = _clerk(personas)
    events = _count(session, AuditEvent)
    response = client.post("/counter/lookup", data={"csrf_token": token, "number": BAD_CHECK})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert errors_in(html) == [WRONG_CHECK]
    assert f'<a href="#number">{WRONG_CHECK}</a>' in html  # the summary links to the field
    assert f'value="{BAD_CHECK}"' in html  # what was typed is kept
    assert _count(session, Person) == 0
    assert _count(session, AuditEvent) == events  # the register was not asked


def test_a_person_the_register_cannot_confirm_is_typed_in_and_marked_unverified(
        personas, session) -> None:  # type: ignore[no-untyped-def]
    client, token = _clerk(personas)
    response = client.post("/counter/lookup", data={"csrf_token": token, "number": LISI})
    html = response.get_data(as_text=True)
    assert response.status_code == 200  # the tests give the register no URL: it fails
    assert f"市公安局人口库暂未应答，无法核验 {LISI}" in html
    assert _count(session, Person) == 0
    response = client.post("/counter/people", data={"csrf_token": token, "number": LISI,
                                                     "name": " "})
    assert response.status_code == 422
    assert errors_in(response.get_data(as_text=True)) == ["请按申请人证件填写姓名"]
    assert _count(session, Person) == 0
    page = client.get(_create(client, token)).get_data(as_text=True)
    assert "李四" in page and "未核验" in page and "由窗口人员按所示证件录入" in page
    session.rollback()  # a new snapshot: what the requests wrote
    person = session.scalars(select(Person)).one()
    assert (person.kind, person.id_number, person.verified_by) == ("person", LISI, None)
    # Looked up again: the same record, no second one.
    response = client.post("/counter/lookup", data={"csrf_token": token, "number": LISI})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(person.public_id)
    actions = session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.in_(["person.create", "connector.counter"]))).all()
    assert sorted(actions) == ["connector.counter", "person.create"]


def test_an_enterprise_is_looked_up_by_its_credit_code(personas, session) -> None:  # type: ignore[no-untyped-def]
    client, token = _clerk(personas)
    response = client.post("/counter/lookup", data={"csrf_token": token, "number": USCC})
    assert "此号码无可查询的登记库" in response.get_data(as_text=True)
    _create(client, token, USCC, "福建示例有限公司")
    session.rollback()
    assert session.scalars(select(Person.kind)).one() == "enterprise"


def test_the_person_page_lists_materials_and_the_services_of_the_window(
        personas, session) -> None:  # type: ignore[no-untyped-def]
    client, token = _clerk(personas)
    page = client.get(_create(client, token)).get_data(as_text=True)
    assert "代为申请：上海市居住证积分申请" in page and "代为申请：户口迁入" in page
    assert "代为申请：企业信用评价" not in page  # not a service of a 徐汇 window
    assert MATERIALS_NONE in page


def test_a_clerk_starts_a_service_for_the_applicant_and_the_form_speaks_of_the_applicant(
        personas, session) -> None:  # type: ignore[no-untyped-def]
    client, token = _clerk(personas)
    person_url = _create(client, token)
    public_id = person_url.rsplit("/", 1)[1]
    response = client.post(f"/counter/people/{public_id}/services/residence-points/start",
                           data={"csrf_token": token})
    assert response.status_code == 303
    session.rollback()
    draft = session.scalars(select(Draft)).one()
    person = session.scalars(select(Person)).one()
    assert (draft.person_id, draft.user_id) == (person.id, None)
    assert draft.clerk_id is not None
    assert draft.answers["applicant"] == {"id_number": LISI, "name": "李四"}
    page = client.get(f"/apply/{draft.token}/pages/applicant").get_data(as_text=True)
    assert "由该区人才服务中心受理申请人的申请" in page
    assert "受理您的申请" not in page
    assert f"窗口代申请人 李四（{LISI}）填写" in page
    # The person's page lists the draft; an applicant's own draft still says 您.
    assert "居住证积分申请" in client.get(person_url).get_data(as_text=True)


def test_a_service_outside_the_window_is_refused_and_nothing_is_started(
        personas, session) -> None:  # type: ignore[no-untyped-def]
    client, token = _clerk(personas)
    public_id = _create(client, token).rsplit("/", 1)[1]
    response = client.post(f"/counter/people/{public_id}/services/enterprise-credit/start",
                           data={"csrf_token": token})
    assert response.status_code == 403
    assert NOT_HERE in response.get_data(as_text=True)
    assert _count(session, Draft) == 0
    response = client.get(f"/counter/people/{public_id}/services/enterprise-credit/materials")
    assert response.status_code == 403


def test_only_counter_clerks_use_the_desk(personas) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("citizen")
    assert client.get("/counter").status_code == 403


def _scan(client, token: str, public_id: str, data: bytes, checked: bool):  # type: ignore[no-untyped-def]
    form = {"csrf_token": token, "file-id-card": (io.BytesIO(data), "身份证.pdf")}
    if checked:
        form["checked_original"] = "yes"
    return client.post(f"/counter/people/{public_id}/services/household-transfer/materials/"
                       "id-card", data=form, content_type="multipart/form-data")


def test_the_materials_check_takes_a_scan_at_level_b_once_the_original_is_checked(
        personas, session) -> None:  # type: ignore[no-untyped-def]
    client, token = _clerk(personas)
    public_id = _create(client, token).rsplit("/", 1)[1]
    url = f"/counter/people/{public_id}/services/household-transfer/materials"
    page = client.get(url).get_data(as_text=True)
    assert page.count("缺少") == 4  # 身份证, 户口簿, 准予迁入证明, 亲属关系证明 (投靠亲属 only)
    response = _scan(client, token, public_id, b"not a pdf at all", checked=True)
    assert response.status_code == 422
    assert errors_in(response.get_data(as_text=True)) == ["所选文件必须是PDF、JPG或PNG格式"]
    assert _count(session, Material) == 0
    assert _scan(client, token, public_id, PDF, checked=True).status_code == 303
    session.rollback()
    material = session.scalars(select(Material)).one()
    assert (material.owner, material.type_code, material.trust_level, material.source) == (
        LISI, "id-card", "B", "uploaded")
    page = client.get(url).get_data(as_text=True)
    assert page.count("缺少") == 3 and "已具备" in page
    assert _scan(client, token, public_id, PDF, checked=False).status_code == 303
    session.rollback()
    assert sorted(m.trust_level for m in session.scalars(select(Material))) == ["B", "C"]
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "material.scanned")) == 2


def test_the_person_sees_the_counters_application_once_signed_in_with_a_verified_number(
        demo, personas, session) -> None:  # type: ignore[no-untyped-def]
    run = review_world.build(demo.extensions["tongban.engine"], reference="2612-CNTR-ZHAN")
    person = Person(public_id="zhangsan", kind="person", id_number=CITIZEN_ID_NUMBER,
                    name="张三", verified_by="市公安局人口库")
    session.add(person)
    session.flush()
    session.execute(update(Application).where(Application.reference == run.reference)
                    .values(person_id=person.id, submitter_id=None))
    session.commit()
    client = personas.as_("citizen")  # the demo loader verified 张三's number
    mine = client.get("/my").get_data(as_text=True)
    assert run.reference in mine
    assert client.get(f"/my/applications/{run.reference}").status_code == 200
    other = personas.as_("enterprise")
    assert run.reference not in other.get("/my").get_data(as_text=True)
    assert other.get(f"/my/applications/{run.reference}").status_code == 404


def test_the_task_list_and_the_confirmation_of_a_clerks_application_speak_of_the_applicant(
        demo, personas, session) -> None:  # type: ignore[no-untyped-def]
    """The task-list intro and the page after a clerk's submit say 申请人, not 您 (as the form
    pages do); an applicant's own confirmation still speaks to them."""
    from tongban.models import User

    client, token = _clerk(personas)
    public_id = _create(client, token).rsplit("/", 1)[1]
    client.post(f"/counter/people/{public_id}/services/residence-points/start",
                data={"csrf_token": token})
    session.rollback()
    draft = session.scalars(select(Draft)).one()
    intro = client.get(f"/apply/{draft.token}/tasks").get_data(as_text=True)
    assert "请逐项为申请人填写以下各部分，顺序不限。填写的内容会自动保存。" in intro
    assert "检查申请人的回答" in intro and "您" not in intro.split('id="tasks-intro"')[1][:200]

    run = review_world.build(demo.extensions["tongban.engine"], reference="2612-CNTR-CONF")
    own = personas.as_("citizen").get(f"/applications/{run.reference}/confirmation")
    assert "请保存此申请编号，查询进度或咨询时需要使用。" in own.get_data(as_text=True)
    session.rollback()  # a fresh snapshot: the pages above wrote their read records
    clerk_id = session.scalars(select(User.id).where(User.username == "clerk_xuhui")).one()
    person = session.scalars(select(Person)).one()
    session.execute(update(Application).where(Application.reference == run.reference)
                    .values(person_id=person.id, submitter_id=clerk_id, clerk_id=clerk_id))
    session.commit()
    client = personas.as_("clerk_xuhui")  # one client: signed in as the clerk again
    page = client.get(f"/applications/{run.reference}/confirmation").get_data(as_text=True)
    assert "请将申请编号交给申请人，申请人凭此查询办理进度或咨询。" in page
    assert "并告知申请人结果" in page and "将与申请人联系" in page
    main = page[page.index("<main"):page.index("</main>")]
    assert "您" not in main


NO_DRAFT_YET = "请先为申请人开始办理该事项：容缺标记属于正在填写的申请"


def test_a_required_material_marked_deferred_at_the_counter_does_not_block_the_submit(
        personas, session) -> None:  # type: ignore[no-untyped-def]
    """At the counter a required material the clerk marks 容缺 at the materials check may be
    left out: the pages and the submit go through, the application records it as outstanding
    and the intake task's 容缺受理 names it. An applicant online is still blocked."""
    from tongban.models import FlowInstance, FlowTask

    from .journey import Journey

    client, token = _clerk(personas)
    public_id = _create(client, token).rsplit("/", 1)[1]
    base = f"/counter/people/{public_id}/services/residence-points/materials"
    # Nothing to mark on before the service is started: the message, nothing changed.
    early = client.post(f"{base}/id-card/defer", data={"csrf_token": token, "defer": "yes"})
    assert early.status_code == 422
    assert errors_in(early.get_data(as_text=True)) == [NO_DRAFT_YET]
    assert _count(session, Draft) == 0

    client.post(f"/counter/people/{public_id}/services/residence-points/start",
                data={"csrf_token": token})
    marked = client.post(f"{base}/id-card/defer", data={"csrf_token": token, "defer": "yes"})
    assert marked.status_code == 303
    session.rollback()
    draft = session.scalars(select(Draft)).one()
    assert draft.deferred_materials == ["id-card"]
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "counter.material_deferred")) == 1
    assert "容缺：申请人稍后补交" in client.get(base).get_data(as_text=True)

    journey = _answer_for_lisi(client, token, draft.token)
    # The materials page without the ID card: not refused.
    response = journey.post("materials", {
        "materials.residence_permit": (io.BytesIO(PDF), "居住证.pdf"),
        "materials.diploma": (io.BytesIO(PDF), "学位证书.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302, errors_in(response.get_data(as_text=True))
    sent = journey.submit()
    assert sent.status_code == 302 and "/confirmation" in sent.headers["Location"]
    session.rollback()
    application = session.scalars(select(Application)).one()
    assert application.outstanding_materials == ["id-card"]
    assert not (application.answers.get("materials") or {}).get("id_card")
    submitted = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "application.submit")).one()
    assert submitted.after["outstanding_materials"] == ["id-card"]  # type: ignore[index]

    # The intake task names it, ticked in the 容缺受理 form.
    task = session.scalars(select(FlowTask).join(
        FlowInstance, FlowInstance.id == FlowTask.instance_id).where(
        FlowInstance.application_id == application.id, FlowTask.kind == "intake")).one()
    claimed = client.post(f"/review/tasks/{task.id}", data={"csrf_token": token, "op": "claim"})
    assert claimed.status_code == 302, claimed.get_data(as_text=True)
    page = client.get(f"/review/tasks/{task.id}").get_data(as_text=True)
    assert 'id="outstanding-materials"' in page
    assert re.search(r'name="materials" value="id-card" checked', page)

    # Online, the applicant's own draft still must give the ID card.
    own = Journey(personas.as_("citizen"), "residence-points")
    refused = own.post("materials", {
        "materials.residence_permit": (io.BytesIO(PDF), "居住证.pdf")},
        content_type="multipart/form-data")
    assert refused.status_code == 422
    assert "请上传居民身份证正反面" in errors_in(refused.get_data(as_text=True))


def _answer_for_lisi(client, token: str, draft_token: str):  # type: ignore[no-untyped-def]
    """The clerk's draft of 居住证积分 for 李四 (working in 徐汇, so the intake comes to this
    counter), every page but the materials answered; the journey, to go on with."""
    from .journey import RESIDENCE_PAGES, Journey

    journey = Journey.__new__(Journey)
    journey.client, journey.service, journey.token = client, "residence-points", draft_token
    journey.token_value = token
    for page_id, data in RESIDENCE_PAGES:
        if page_id == "applicant":
            data = {**data, "applicant.name": "李四", "applicant.id_number": LISI,
                    "applicant.work_district": "310104"}
        response = journey.post(page_id, data)
        assert response.status_code == 302, (page_id, errors_in(response.get_data(as_text=True)))
    return journey


def _main(html: str) -> str:
    return html[html.index("<main"):html.index("</main>")]


def test_the_check_page_of_a_clerks_application_speaks_of_the_applicant(
        personas, session) -> None:  # type: ignore[no-untyped-def]
    """The check-answers page of a draft a clerk fills in says 申请人 and no 您: its heading,
    the note that questions still need an answer, the declaration (the applicant's, ticked by
    the clerk on their behalf) and its error. An applicant's own check page still speaks to
    them."""
    from .journey import Journey

    client, token = _clerk(personas)
    public_id = _create(client, token).rsplit("/", 1)[1]
    client.post(f"/counter/people/{public_id}/services/residence-points/start",
                data={"csrf_token": token})
    session.rollback()
    draft = session.scalars(select(Draft)).one()
    unfinished = _main(client.get(f"/apply/{draft.token}/check").get_data(as_text=True))
    assert "提交申请前请核对申请人的信息" in unfinished
    assert "还有问题需要回答，完成后才能提交申请人的申请。" in unfinished
    assert "您" not in unfinished

    journey = _answer_for_lisi(client, token, draft.token)
    response = journey.post("materials", {
        "materials.id_card": (io.BytesIO(PDF), "身份证.pdf"),
        "materials.residence_permit": (io.BytesIO(PDF), "居住证.pdf"),
        "materials.diploma": (io.BytesIO(PDF), "学位证书.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302, errors_in(response.get_data(as_text=True))
    ready = _main(client.get(f"/apply/{draft.token}/check").get_data(as_text=True))
    assert "申请人确认所填信息真实、完整" in ready and "由窗口工作人员代为勾选" in ready
    assert "本人承诺" not in ready and "您" not in ready
    unticked = journey.submit(declaration=False)
    assert unticked.status_code == 422
    page = unticked.get_data(as_text=True)
    assert errors_in(page) == ["请确认申请人已确认所填信息真实"]
    assert "您" not in _main(page)
    session.rollback()
    assert _count(session, Application) == 0

    own = Journey(personas.as_("citizen"), "residence-points")
    mine = _main(own.client.get(f"/apply/{own.token}/check").get_data(as_text=True))
    assert "提交申请前请核对您的信息" in mine
    assert "还有问题需要回答，完成后才能提交申请。" in mine and "申请人的申请" not in mine
