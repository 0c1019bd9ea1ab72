"""Issue 17's "done when", the clerk's journey end to end in headless Chromium, with JavaScript
on and off: clerk_xuhui signs in, looks the demo person (张三, verified by the population
register) up by ID number at /counter, starts the residence-points application on their
behalf and fills it in, sees on the materials check that the diploma is missing, takes the
intake task and accepts it with the diploma to follow (容缺受理) and a due day, prints the
receipt (its QR code is the public progress page's address, which opens with the reference
filled in; the PDF is a PDF). The reviewers approve (in-process, as the other browser tests
take later steps): the approving end waits for the diploma. 张三, signed in to their own
account (whose verified ID number is the person's), uploads it on their application page: the
hold lifts and the application is approved. axe on the counter pages; the person's page at
360 px without sideways scrolling."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import segno
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select
from tests.connectors.conftest import registers_url  # noqa: F401  (a fixture: the demo registers)
from tests.spine.flow_world import open_tasks

from tongban import db
from tongban.connectors import registry
from tongban.demo import DEMO_ACCOUNTS
from tongban.models import Application, IntakeHold, User, saved_id
from tongban.policy import Actor
from tongban.workflow import runtime
from tongban.workflow.errors import NotYours
from tongban.worktime import TZ

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from ..web.journey import PDF
    from . import flows, helpers
    from .axe import assert_clean
    from .test_narrow_screens import OVERFLOW
except ImportError:
    import helpers  # type: ignore[no-redef]
    from axe import assert_clean  # type: ignore[no-redef]
    from test_narrow_screens import OVERFLOW  # type: ignore[no-redef]
    from tests.web.journey import PDF  # type: ignore[no-redef]

    import flows  # type: ignore[no-redef]

NUMBER = flows.VALID_ID           # 张三, in the demo population register
KEY_DELAY_MS = 40                 # a person's typing, where it matters
ROLES = {username: roles for username, _name, roles in DEMO_ACCOUNTS}
REVIEWERS = ("rsj_xuhui", "rsj_city", "reviewer")   # the district's, then the bureau's
APPROVE = {"initial_review": "approve", "municipal_review": "approve", "publicity": "approve"}


@pytest.fixture
def app_config(app_config: dict[str, object], registers_url: str) -> dict[str, object]:  # noqa: F811
    """The demo registers (population, social insurance) on MariaDB, as in the connector
    tests: the counter's look-up confirms 张三 and the form starts prefilled."""
    return {**app_config, "CONNECTOR_SETTINGS": {"demo_registers_url": registers_url}}


@pytest.fixture
def app(app: Flask) -> Iterator[Flask]:
    yield app
    registry(app).close()


def _press(page: Page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


def _follow(page: Page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("link", name=name).click()


def _type(page: Page, selector: str, text: str) -> None:
    flows.type_like_a_person(page, selector, text, delay_ms=KEY_DELAY_MS)


def _fill_the_application(page: Page) -> None:
    """The residence-points pages as the journey tests answer them, except: working in 徐汇
    (so the intake comes to this counter), no degree and a senior professional title (the
    form asks for the diploma only with a degree: it is the one listed material an application
    can be sent without, hence the one a clerk can take in with it to follow)."""
    changed = {"education": {"education.level": "none"},
               "qualification": {"qualification.kind": "title",
                                 "qualification.title_level": "senior"}}
    for page_id, answers in flows.RESIDENCE_PAGES:
        assert flows.current_page_id(page) == page_id, page.url
        answers = changed.get(page_id, answers)
        if page_id == "applicant":
            # Number and name come from the counter (the register's name).
            expect(page.locator("[name='applicant.id_number']")).to_have_value(NUMBER)
            expect(page.locator("[name='applicant.name']")).to_have_value("张三")
            answers = {k: v for k, v in answers.items()
                       if k not in ("applicant.id_number", "applicant.name", "applicant.mobile")}
            answers["applicant.work_district"] = "310104"
            _type(page, "[name='applicant.mobile']", "13812345678")
        flows.answer(page, answers)
    assert flows.current_page_id(page) == "materials", page.url
    flows.upload(page, "materials.id_card", "身份证.pdf", PDF, "application/pdf")
    flows.upload(page, "materials.residence_permit", "居住证.pdf", PDF, "application/pdf")
    flows.upload(page, "materials.qualification_certificate", "职称证书.pdf", PDF,
                 "application/pdf")
    flows.send(page)
    assert page.url.endswith("/check"), (page.url, flows.error_summary_items(page))
    page.check("#declaration")
    _press(page, "确认并提交")
    assert page.url.endswith("/confirmation"), page.url


def _user_ids(app: Flask) -> dict[str, int]:
    with db.new_session(app.extensions["tongban.engine"]) as session:
        return {u.username: saved_id(u) for u in session.scalars(select(User))}


def _approve_the_reviews(app: Flask, reference: str) -> None:
    """The reviewers' steps, in-process (their pages have their own browser tests): each by
    the first reviewer the step's rules let act (四眼: never the same person twice)."""
    engine = app.extensions["tongban.engine"]
    users = _user_ids(app)
    for _ in range(len(APPROVE) + 1):
        with db.new_session(engine) as session:
            application = session.scalars(select(Application).where(
                Application.reference == reference)).one()
            tasks = open_tasks(session, saved_id(application))
        if not tasks:
            return
        task = tasks[0]
        for username in REVIEWERS:
            actor = Actor.of(users[username], ROLES[username])
            try:
                with db.new_session(engine) as session, db.unit_of_work(session):
                    runtime.act(session, actor, saved_id(task), APPROVE[task.node], version=None)
            except NotYours:   # not their step: the next reviewer may be allowed
                continue
            break
        else:
            raise AssertionError(f"no reviewer could approve {task.node} of {reference}")
    raise AssertionError(f"the reviews of {reference} never ended")


def _status(app: Flask, reference: str) -> tuple[str, str]:
    with db.new_session(app.extensions["tongban.engine"]) as session:
        application = session.scalars(select(Application).where(
            Application.reference == reference)).one()
        hold = session.scalars(select(IntakeHold).where(
            IntakeHold.application_id == saved_id(application))).one()
        return application.status, hold.state


def test_a_clerk_takes_an_application_in_with_a_material_to_follow_until_its_result(
        demo, live_server, browser_page, screenshot) -> None:  # type: ignore[no-untyped-def]
    page, js = browser_page
    base = live_server.url
    due = (datetime.now(UTC).astimezone(TZ).date() + timedelta(days=5)).isoformat()

    # The counter: the person by their ID number, confirmed by the register.
    flows.sign_in(page, base, "clerk_xuhui")
    page.goto(base + "/counter")
    expect(page.locator("main h1")).to_have_text("综合窗口")
    if js:
        assert_clean(page)
    _type(page, "#number", NUMBER)
    _press(page, "查询")
    expect(page.locator("main h1")).to_have_text("张三")
    expect(page.locator("#person")).to_contain_text("已核验")
    person = page.url
    if js:
        assert_clean(page)
    page.set_viewport_size({"width": 360, "height": 740})
    found = page.evaluate(OVERFLOW)
    assert found["extra"] <= 0, f"the person's page scrolls sideways at 360 px: {found}"
    screenshot(page, "person-360-js" if js else "person-360-nojs")
    page.set_viewport_size(helpers.DESKTOP["viewport"])

    # On their behalf: the residence-points application, filled in and sent.
    _press(page, "代为申请：上海市居住证积分申请")
    expect(page.locator("#on-behalf")).to_contain_text(f"窗口代申请人 张三（{NUMBER}）填写")
    expect(page.locator("#tasks-intro")).to_contain_text("请逐项为申请人填写")  # not 您
    page.goto(page.url.split("/tasks")[0] + "/pages/applicant")
    _fill_the_application(page)
    reference = page.locator(".tb-reference").inner_text().strip()
    expect(page.locator("#confirmation-keep")).to_contain_text("请将申请编号交给申请人")

    # The materials check: the two uploads are in the person's library, the diploma is not.
    page.goto(f"{person}/services/residence-points/materials")
    expect(page.locator("main h1")).to_have_text("材料核验")
    checklist = page.locator("#checklist li")
    expect(checklist).to_have_count(3)
    for present in (checklist.nth(0), checklist.nth(1)):   # uploaded in the application
        expect(present).to_contain_text("已具备")
        expect(present).to_contain_text("C 级")
    expect(checklist.nth(2)).to_contain_text("学历（学位）证书")
    expect(checklist.nth(2)).to_contain_text("缺少")
    if js:
        assert_clean(page)

    # The intake task: 容缺受理, the diploma to follow within five days.
    page.goto(f"{base}/review?tab=group")
    with page.expect_navigation():
        page.click(f"main a:text-is('{reference}')")
    with page.expect_navigation():
        page.click("button[value=claim]")
    page.click("#op-accept_deficient summary")
    page.get_by_label("学历（学位）证书").check()
    page.fill("#due", due)
    _type(page, "#accept_deficient-comment", "学位证书原件后补")
    if js:
        assert_clean(page)
    with page.expect_navigation():
        page.click("#op-accept_deficient button[value=accept_deficient]")
    expect(page.locator("#intake-hold")).to_contain_text(due)
    expect(page.locator("#intake-hold")).to_contain_text("学历（学位）证书")

    # The receipt: printable, as a PDF, and its QR code is the public progress page's address.
    _follow(page, "打印受理回执")
    main = page.locator("main")
    expect(main.locator("h1")).to_have_text("受理回执")
    expect(main).to_contain_text("容缺受理")
    expect(main).to_contain_text(due)
    progress = f"{base}/progress?reference={reference}"
    expect(main).to_contain_text(progress)
    qr = segno.make(progress, error="m").svg_data_uri(scale=4, border=2)
    expect(page.locator("img.tb-document__qr")).to_have_attribute("src", qr)
    if js:
        assert_clean(page)
    pdf = page.request.get(f"{base}/review/applications/{reference}/receipt.pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    page.goto(progress)   # as the phone that scanned the code opens it
    expect(page.locator("#reference")).to_have_value(reference)
    _type(page, "#name", "张三")
    with page.expect_navigation():
        page.locator("form", has=page.locator("#reference")).get_by_role(
            "button", name="查询进度").click()
    expect(page.locator("main")).to_contain_text("容缺受理")

    # The reviewers approve: the result waits for the diploma.
    _approve_the_reviews(demo, reference)
    status, hold = _status(demo, reference)
    assert status != "approved" and hold == "pending", (status, hold)

    # 张三's own account (its verified ID number is the person's) uploads the diploma.
    page.context.clear_cookies()
    flows.sign_in(page, base, "citizen")
    page.goto(f"{base}/my/applications/{reference}")
    expect(page.locator("#materials-to-bring")).to_contain_text("学历（学位）证书")
    if js:
        assert_clean(page)
    page.set_input_files("#material-1", files=[{
        "name": "学位证书.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    _press(page, "上传学历（学位）证书")
    expect(page.locator("main [role=status]")).to_contain_text("材料已收到")
    expect(page.locator("#materials-to-bring")).to_contain_text("已全部收到")
    main = page.locator("main")
    expect(main.locator("dl").first).to_contain_text("已批准")
    expect(main).to_contain_text("办理结果待承诺材料补齐后出具")
    expect(main).to_contain_text("已办结")
    assert _status(demo, reference) == ("approved", "received")
    screenshot(page, "result-js" if js else "result-nojs")
