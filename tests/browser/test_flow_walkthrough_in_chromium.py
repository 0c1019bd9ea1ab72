"""Issue 11 as its users meet it, in headless Chromium with JavaScript and without, typing at a
person's speed: what the QA walk through the demo flows found broken, kept fixed.

- A residence-points application returned to the citizen by the municipal review: the citizen
  changes one answer on the change-and-send-again page (every question once, the files sent
  before kept) and it goes straight back to the municipal review; a stale second approval
  says who handled it and leads back to the task.
- A correction request naming a question and a material: the citizen replaces the file and
  the timeline names both by their labels.
"""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from tests.web import review_world
from tests.web.journey import PDF, RESIDENCE_PAGES, Journey, csrf

from tongban import db
from tongban.models import Application, FlowInstance, FlowTask

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows
except ImportError:
    import flows  # type: ignore[no-redef]

TYPING_DELAY_MS = 20  # a brisk typist: every key is its own event


@pytest.fixture(autouse=True)
def _fresh_flow_cache() -> None:
    review_world.forget_compiled_flows()


def _type(page: Page, selector: str, text: str) -> None:
    field = page.locator(selector)
    field.fill("")
    field.press_sequentially(text, delay=TYPING_DELAY_MS)


def _sign_in_as(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    _type(page, "#username", username)
    _type(page, "#password", flows.DEMO_PASSWORD)
    with page.expect_event("load"):
        page.click("main button:has-text('登录')")
    expect(page.locator(".tb-header__user")).to_be_visible()


def _open_from_inbox(page: Page, base: str, reference: str, tab: str) -> None:
    page.goto(f"{base}/review?tab={tab}")
    with page.expect_event("load"):
        page.click(f"main table a:text-is('{reference}')")
    claim = page.locator("button[name=op][value=claim]")
    if claim.count():
        with page.expect_event("load"):
            claim.click()


def _open_op(page: Page, op: str) -> None:
    section = page.locator(f"#op-{op}")
    if section.get_attribute("open") is None:
        section.locator("summary").click()


def _press(page: Page, op: str) -> None:
    with page.expect_event("load"):
        page.locator(f"#op-{op} button[name=op][value={op}]").click()


def _status(page: Page) -> str:
    return page.locator(".tb-summary-list__row", has_text="状态").first.locator(
        "dd").inner_text().strip()


def _task_on(engine: object, reference: str, node: str) -> FlowTask | None:
    with db.new_session(engine) as session:  # type: ignore[arg-type]
        instance = session.scalars(select(FlowInstance).join(
            Application, Application.id == FlowInstance.application_id).where(
            Application.reference == reference)).one()
        return session.scalars(select(FlowTask).where(
            FlowTask.instance_id == instance.id, FlowTask.node == node,
            FlowTask.state.in_(("open", "claimed")))).first()


def _submitted_residence(demo) -> str:  # type: ignore[no-untyped-def]
    """The citizen's residence-points application with its three files, taken in and first
    reviewed by the bureau's administrator (no district answered): at the municipal review."""
    from tests.conftest import Personas

    citizen = Personas(demo.test_client()).as_("citizen")
    journey = Journey(citizen, "residence-points")
    for page_id, data in RESIDENCE_PAGES:
        assert journey.post(page_id, data).status_code == 302
    assert journey.post("materials", {
        "materials.id_card": (io.BytesIO(PDF), "身份证.pdf"),
        "materials.residence_permit": (io.BytesIO(PDF), "居住证.pdf"),
        "materials.diploma": (io.BytesIO(PDF), "学位证书.pdf")},
        content_type="multipart/form-data").status_code == 302
    sent = journey.submit()
    assert sent.status_code == 302
    reference = re.search(r"/applications/([^/]+)/", sent.headers["Location"])
    assert reference is not None
    admin = Personas(demo.test_client()).as_("deptadmin")
    engine = demo.extensions["tongban.engine"]
    for node, op in (("intake", "accept"), ("initial_review", "approve")):
        task = _task_on(engine, reference.group(1), node)
        assert task is not None, node
        page = admin.get(f"/review/tasks/{task.id}").get_data(as_text=True)
        assert admin.post(f"/review/tasks/{task.id}", data={
            "csrf_token": csrf(page), "op": op, "version": str(task.version)}).status_code == 302
    return reference.group(1)


def test_returned_changed_and_sent_straight_back_then_a_stale_approval(
        demo, live_server, browser_page, screenshot) -> None:  # type: ignore[no-untyped-def]
    page, _js = browser_page
    page.set_default_timeout(15000)
    base = live_server.url
    reference = _submitted_residence(demo)

    _sign_in_as(page, base, "rsj_city")
    _open_from_inbox(page, base, reference, "group")
    _open_op(page, "return")
    page.select_option("#return-target", "applicant")
    _type(page, "#return-comment", "请核对手机号码")
    _press(page, "return")
    expect(page.locator("main")).to_contain_text("已退回，请修改后重新提交")

    _sign_in_as(page, base, "citizen")
    page.goto(f"{base}/my/applications/{reference}")
    expect(page.locator("main")).to_contain_text("申请人修改中")
    with page.expect_event("load"):
        page.click("main a.tb-button:has-text('修改后重新提交')")
    expect(page.locator('[name="applicant.name"]')).to_have_count(1)
    expect(page.locator("main")).to_contain_text("已上传：身份证.pdf")
    _type(page, '[name="applicant.mobile"]', "13900001111")
    screenshot(page, "change-and-send-again")
    with page.expect_event("load"):
        page.click("form.tb-form button.tb-button")
    assert page.url.endswith(f"/my/applications/{reference}?sent=1"), page.url
    assert _status(page) == "审核中"
    expect(page.locator(".tb-summary-list")).to_contain_text("市级复核")

    # Straight back to the municipal review; two tabs on it, approve in one, then the other.
    _sign_in_as(page, base, "rsj_city")
    _open_from_inbox(page, base, reference, "group")
    task_url = page.url
    second = page.context.new_page()
    second.goto(task_url)
    _open_op(page, "approve")
    _press(page, "approve")
    assert _status(page) == "公示中"
    _open_op(second, "approve")
    _press(second, "approve")
    expect(second.locator("main")).to_contain_text("此待办已由 钱复核 于")
    screenshot(second, "stale-approval")
    with second.expect_event("load"):
        second.click("main a:text-is('返回任务')")
    # The task page itself (a claim brings it back as ?claimed=1#actions; the link has no query).
    assert second.url.split("?")[0] == task_url.split("?")[0]
    second.close()


def test_a_correction_replaces_a_named_file(demo, live_server, browser_page) -> None:  # type: ignore[no-untyped-def]
    page, _js = browser_page
    page.set_default_timeout(15000)
    base = live_server.url
    run = review_world.start(demo.extensions["tongban.engine"], "web-intake")

    _sign_in_as(page, base, "clerk")
    _open_from_inbox(page, base, run.reference, "mine")
    _open_op(page, "correction")
    page.check("#op-correction input[name=questions][value='applicant.mobile']")
    page.check("#op-correction input[name=materials][value='materials.id_card']")
    _type(page, "#correction-comment", "手机号无法接通，身份证照片不清晰")
    _press(page, "correction")
    expect(page.locator("main")).to_contain_text("需要补正")

    _sign_in_as(page, base, "citizen")
    page.goto(f"{base}/my/applications/{run.reference}")
    timeline = page.locator("main").inner_text()
    assert "applicant.mobile" not in timeline and "materials.id_card" not in timeline
    with page.expect_event("load"):
        page.click("main a.tb-button:has-text('补正')")
    _type(page, '[name="applicant.mobile"]', "13900001111")
    page.set_input_files('input[type=file][name="materials.id_card"]', files=[
        {"name": "新身份证.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    with page.expect_event("load"):
        page.click("form.tb-form button.tb-button")
    assert page.url.endswith("?sent=1"), page.url
    assert _status(page) == "已提交"
    expect(page.locator("main")).to_contain_text("居民身份证正反面")
