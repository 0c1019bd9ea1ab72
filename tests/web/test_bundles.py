"""Issue 17 item 8: 一件事 bundles. The citizen applies once for the newborn bundle (shared
answers once, then each service's own questions), gets one receipt and one progress page;
a service opens only when what it needs is approved; a correction in one never reopens the
others; a bundle's bad input is refused with its exact message."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from tongban.models import (
    Application,
    AuditEvent,
    BundleApplication,
    BundlePart,
    Draft,
    FlowInstance,
    FlowTask,
    Role,
    User,
)
from tongban.policy import Actor
from tongban.workflow import runtime

from .journey import csrf, id_number

MOTHER_ID = id_number("31010419900307002")  # issued in Shanghai: the pre-check passes
OUTSIDE_ID = id_number("11010519900307002")  # issued in Beijing: it does not


def apply_for_newborn(client: FlaskClient, mother_id: str = MOTHER_ID,
                      birth_date: str = "2026-11-20") -> str:
    """Start the bundle, give the shared details and each service's own answers, and send
    it; the receipt's reference."""
    token, token_value = fill_newborn(client, mother_id, birth_date)
    sent = client.post(f"/bundle/{token}/submit",
                       data={"csrf_token": token_value, "declaration": "agree"})
    assert sent.status_code == 302, sent.get_data(as_text=True)[-1500:]
    return sent.headers["Location"].split("/")[3]


def fill_newborn(client: FlaskClient, mother_id: str = MOTHER_ID,
                 birth_date: str = "2026-11-20") -> tuple[str, str]:
    """Start the bundle and give the shared details and each service's own answers, up to
    its check page; the bundle's token and the session's CSRF token."""
    guide = client.get("/bundles/newborn").get_data(as_text=True)
    token_value = csrf(guide)
    started = client.post("/bundles/newborn/start", data={"csrf_token": token_value})
    assert started.status_code == 302, started.get_data(as_text=True)[-800:]
    tasks_url = started.headers["Location"]
    token = tasks_url.rsplit("/", 1)[1]
    tasks = client.get(tasks_url).get_data(as_text=True)
    assert f"/bundle/{token}/shared/child" in tasks
    year, month, day = birth_date.split("-")
    child = client.post(f"/bundle/{token}/shared/child", data={
        "csrf_token": token_value, "child.name": "张小宝", "child.sex": "female",
        "child.birth_date:year": year, "child.birth_date:month": month,
        "child.birth_date:day": day})
    assert child.headers["Location"] == f"/bundle/{token}/shared/mother", \
        child.get_data(as_text=True)[-1500:]
    mother = client.post(f"/bundle/{token}/shared/mother", data={
        "csrf_token": token_value, "mother.name": "李丽", "mother.id_number": mother_id,
        "mother.mobile": "13812345678"})
    assert mother.headers["Location"] == f"/bundle/{token}"
    own: dict[str, tuple[str, dict[str, str]]] = {
        "birth-certificate": ("birth", {"birth.hospital": "上海市第一妇婴保健院"}),
        "newborn-household": ("household", {"household.district": "310104",
                                            "household.address": "徐汇区漕溪北路 1 号"}),
        "social-security-card": ("card", {"card.pickup": "post"}),
    }
    tasks = client.get(f"/bundle/{token}").get_data(as_text=True)
    for code, (page_id, answers) in own.items():
        link = re.search(r'href="/apply/([^"/]+)"[^>]*aria-describedby="tb-task-' + code, tasks)
        assert link, code
        # The service asks only its own questions: the shared pages are already answered.
        resumed = client.get(f"/apply/{link.group(1)}")
        assert resumed.headers["Location"].endswith(f"/pages/{page_id}")
        done = client.post(f"/apply/{link.group(1)}/pages/{page_id}",
                           data={"csrf_token": token_value, **answers})
        assert done.status_code == 302, done.get_data(as_text=True)[-1500:]
        back = client.get(done.headers["Location"])
        assert back.headers["Location"].startswith(f"/bundle/{token}")
    check = client.get(f"/bundle/{token}/check").get_data(as_text=True)
    assert check.count("张小宝") == 1  # the shared answers shown once
    return token, token_value


def parts_of(session: Session, reference: str) -> dict[str, BundlePart]:
    bundle = session.exec(select(BundleApplication)
                          .where(col(BundleApplication.reference) == reference)).one()
    return {part.service_code: part for part in session.exec(
        select(BundlePart).where(col(BundlePart.bundle_id) == bundle.id))}


def approve(demo: Flask, application_id: int, username: str) -> None:
    """The reviewer approves the application's open review task."""
    with Session(_engine(demo)) as session:
        user = session.exec(select(User).where(col(User.username) == username)).one()
        instance = session.exec(select(FlowInstance)
                                .where(col(FlowInstance.application_id) == application_id)).one()
        task = session.exec(select(FlowTask).where(col(FlowTask.instance_id) == instance.id,
                                                   col(FlowTask.state) == "open")).one()
        actor = Actor.of(user.id, [(Role.REVIEWER, dept) for dept in
                                   ("sh-wjw", "sh-gaj", "sh-rsj")])
        runtime.act(session, actor, task.id, "approve", version=None)
        session.commit()


def _engine(demo: Flask) -> Any:
    return demo.extensions["tongban.engine"]


def status_on(html: str, code: str) -> str:
    found = re.search(r'data-part-status="' + code + r'">(.*?)</strong>', html)
    assert found, code
    return found.group(1)


def test_a_citizen_applies_once_and_each_service_opens_when_what_it_needs_is_approved(
        demo: Flask, personas: Any, session: Session) -> None:
    client = personas.as_("citizen")
    reference = apply_for_newborn(client)
    receipt = client.get(f"/my/bundles/{reference}/receipt").get_data(as_text=True)
    assert reference in receipt
    assert "出生医学证明申领" in receipt and "上海市卫生健康委员会" in receipt
    parts = parts_of(session, reference)
    assert {code: part.status for code, part in parts.items()} == {
        "birth-certificate": "started", "newborn-household": "waiting",
        "social-security-card": "waiting"}
    birth = session.get(Application, parts["birth-certificate"].application_id)
    assert birth is not None and birth.department_code == "sh-wjw"
    # The pre-check passed and the bundle accepts automatically: no clerk's intake, the
    # review is next.
    assert birth.status == "in_progress"
    intake = session.exec(select(FlowTask).join(FlowInstance).where(
        col(FlowInstance.application_id) == birth.id, col(FlowTask.kind) == "intake")).one()
    assert (intake.state, intake.outcome, intake.data.get("auto")) == (
        "done", "accepted", "deemed_accepted")
    assert birth.answers["child"]["name"] == "张小宝"
    progress = client.get(f"/my/bundles/{reference}").get_data(as_text=True)
    assert status_on(progress, "newborn-household") == "等待出生医学证明申领"
    assert status_on(progress, "social-security-card") == "等待出生医学证明申领、新生儿出生登记"

    approve(demo, birth.id, "wjw")
    session.rollback()  # a fresh read of what the other session committed
    parts = parts_of(session, reference)
    assert parts["newborn-household"].status == "started"
    assert parts["social-security-card"].status == "waiting"
    household = session.get(Application, parts["newborn-household"].application_id)
    assert household is not None and household.department_code == "sh-gaj"
    assert household.answers["mother"]["id_number"] == MOTHER_ID
    progress = client.get(f"/my/bundles/{reference}").get_data(as_text=True)
    assert status_on(progress, "social-security-card") == "等待新生儿出生登记"

    approve(demo, household.id, "gaj_city")
    session.rollback()  # a fresh read of what the other session committed
    assert parts_of(session, reference)["social-security-card"].status == "started"


def test_without_a_passed_pre_check_a_clerk_takes_each_service_in(
        demo: Flask, personas: Any, session: Session) -> None:
    client = personas.as_("citizen")
    reference = apply_for_newborn(client, mother_id=OUTSIDE_ID)
    bundle = session.exec(select(BundleApplication)
                          .where(col(BundleApplication.reference) == reference)).one()
    assert (bundle.precheck_passed, bundle.auto_accepted) == (False, False)
    birth = session.get(Application, parts_of(session, reference)["birth-certificate"].application_id)
    assert birth is not None and birth.status == "submitted"


def test_starting_a_service_whose_dependency_is_not_met_is_refused_and_changes_nothing(
        demo: Flask, personas: Any, session: Session) -> None:
    client = personas.as_("citizen")
    reference = apply_for_newborn(client)
    page = client.get(f"/my/bundles/{reference}").get_data(as_text=True)
    before = session.exec(select(Application)).all()
    audit_before = len(session.exec(select(AuditEvent)).all())
    response = client.post(f"/my/bundles/{reference}/parts/newborn-household/start",
                           data={"csrf_token": csrf(page)})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<a href="#part-newborn-household">新生儿出生登记还不能开始办理：需要先办结出生医学证明申领</a>' \
        in html
    session.rollback()  # a fresh read of what the other session committed
    assert len(session.exec(select(Application)).all()) == len(before)
    assert len(session.exec(select(AuditEvent)).all()) == audit_before
    assert parts_of(session, reference)["newborn-household"].status == "waiting"


def test_a_correction_in_one_service_never_reopens_the_others(
        demo: Flask, personas: Any, session: Session) -> None:
    client = personas.as_("citizen")
    reference = apply_for_newborn(client)
    parts = parts_of(session, reference)
    birth_id = parts["birth-certificate"].application_id
    assert birth_id is not None
    approve(demo, birth_id, "wjw")
    session.rollback()  # a fresh read of what the other session committed
    household_id = parts_of(session, reference)["newborn-household"].application_id
    assert household_id is not None
    with Session(_engine(demo)) as other:
        clerk = other.exec(select(User).where(col(User.username) == "gaj_city")).one()
        instance = other.exec(select(FlowInstance)
                              .where(col(FlowInstance.application_id) == household_id)).one()
        task = other.exec(select(FlowTask).where(col(FlowTask.instance_id) == instance.id,
                                                 col(FlowTask.state) == "open")).one()
        runtime.act(other, Actor.of(clerk.id, [(Role.REVIEWER, "sh-gaj")]), task.id,
                    "return_to", version=None, target="applicant", comment="户籍地址请写到门牌号")
        other.commit()
    session.rollback()  # a fresh read of what the other session committed
    household = session.get(Application, household_id)
    assert household is not None and household.status == "returned"
    birth = session.get(Application, birth_id)
    assert birth is not None and birth.status == "approved"
    parts = parts_of(session, reference)
    assert parts["social-security-card"].status == "waiting"
    assert len(session.exec(select(Application)
                            .where(col(Application.service_code) == "birth-certificate")).all()) == 1


def test_a_bundle_draft_is_not_sent_on_its_own(demo: Flask, personas: Any,
                                               session: Session) -> None:
    client = personas.as_("citizen")
    guide = client.get("/bundles/newborn").get_data(as_text=True)
    started = client.post("/bundles/newborn/start", data={"csrf_token": csrf(guide)})
    token = started.headers["Location"].rsplit("/", 1)[1]
    bundle = session.exec(select(BundleApplication)
                          .where(col(BundleApplication.token) == token)).one()
    part = session.exec(select(BundlePart).where(col(BundlePart.bundle_id) == bundle.id)).first()
    assert part is not None
    draft = session.get(Draft, part.draft_id)
    assert draft is not None
    response = client.post(f"/apply/{draft.token}/submit",
                           data={"csrf_token": csrf(guide), "declaration": "agree"})
    assert response.headers["Location"] == f"/bundle/{token}"
    assert session.exec(select(Application)).all() == []


def test_another_persons_bundle_is_not_found(demo: Flask, personas: Any) -> None:
    client = personas.as_("citizen")
    reference = apply_for_newborn(client)
    client.post("/logout", data={"csrf_token": csrf(client.get("/").get_data(as_text=True))})
    other = personas.as_("enterprise")
    assert other.get(f"/my/bundles/{reference}").status_code == 404


@pytest.mark.parametrize("path", ["/bundles/newborn", "/"])
def test_the_portal_offers_the_bundle(demo: Flask, client: FlaskClient, path: str) -> None:
    html = client.get(path).get_data(as_text=True)
    assert "新生儿出生一件事" in html


def start_bundle(client: FlaskClient) -> tuple[str, str]:
    guide = client.get("/bundles/newborn").get_data(as_text=True)
    started = client.post("/bundles/newborn/start", data={"csrf_token": csrf(guide)})
    return started.headers["Location"].rsplit("/", 1)[1], csrf(guide)


def test_a_wrong_shared_answer_is_refused_on_the_shared_page_and_not_copied(
        demo: Flask, personas: Any, session: Session) -> None:
    client = personas.as_("citizen")
    token, value = start_bundle(client)
    response = client.post(f"/bundle/{token}/shared/mother", data={
        "csrf_token": value, "mother.name": "李丽", "mother.id_number": "310104199003070021",
        "mother.mobile": "13812345678"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<a href="#f-mother-id_number">身份证号码校验位不正确，请核对最后一位。</a>' in html
    bundle = session.exec(select(BundleApplication)
                          .where(col(BundleApplication.token) == token)).one()
    drafts = [session.get(Draft, part.draft_id) for part in session.exec(
        select(BundlePart).where(col(BundlePart.bundle_id) == bundle.id))]
    assert all("id_number" not in (d.answers.get("mother") or {}) for d in drafts if d)


def test_sending_without_the_declaration_or_with_questions_left_changes_nothing(
        demo: Flask, personas: Any, session: Session) -> None:
    client = personas.as_("citizen")
    token, value = start_bundle(client)
    unfinished = client.post(f"/bundle/{token}/submit",
                             data={"csrf_token": value, "declaration": "agree"})
    assert unfinished.headers["Location"] == f"/bundle/{token}"
    missing = client.post(f"/bundle/{token}/submit", data={"csrf_token": value})
    assert missing.status_code == 422
    assert '<a href="#declaration">请确认您所填写的信息真实</a>' in missing.get_data(as_text=True)
    assert session.exec(select(Application)).all() == []
    bundle = session.exec(select(BundleApplication)
                          .where(col(BundleApplication.token) == token)).one()
    assert (bundle.status, bundle.reference) == ("open", None)


def test_the_applicants_list_shows_the_bundle_not_its_drafts(
        demo: Flask, personas: Any) -> None:
    client = personas.as_("citizen")
    token, _value = start_bundle(client)
    html = client.get("/my").get_data(as_text=True)
    assert f'<a href="/bundle/{token}">新生儿出生一件事</a>' in html
    assert "/apply/" not in html  # its three drafts are reached through the bundle
    reference = apply_for_newborn(client)
    html = client.get("/my").get_data(as_text=True)
    assert f'<a href="/my/bundles/{reference}">新生儿出生一件事 {reference}</a>' in html
