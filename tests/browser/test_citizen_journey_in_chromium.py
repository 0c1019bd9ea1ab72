"""Issue 17's "done when", the citizen's whole journey in headless Chromium, with JavaScript on
and off: the demo citizen finds household transfer by search on the portal (typing the words at
a person's pace), opens its guide, is told by the pre-check that they qualify, starts and fills
the application and sends it; the counter asks for a correction (in-process: the review pages
have their own browser tests); the citizen answers it in the browser; the steps up to and
including the decision approve it (in-process); the citizen rates the finished case 满意 on
its page and sees the rating recorded. axe on every portal page visited (with JavaScript on:
it runs in the page); the rating form is photographed at 360 px."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select
from tests.spine.flow_world import open_tasks

from tongban import db
from tongban.demo import DEMO_ACCOUNTS
from tongban.models import Application, ServiceRating, User, saved_id
from tongban.policy import Actor
from tongban.workflow import runtime
from tongban.workflow.errors import NotYours

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows, helpers
    from .axe import assert_clean
    from .test_narrow_screens import OVERFLOW
    from .test_sealed_decision_in_chromium import STAFF, _take_steps_before_the_decision
except ImportError:
    import helpers  # type: ignore[no-redef]
    from axe import assert_clean  # type: ignore[no-redef]
    from test_narrow_screens import OVERFLOW  # type: ignore[no-redef]
    from test_sealed_decision_in_chromium import (  # type: ignore[no-redef]
        STAFF,
        _take_steps_before_the_decision,
    )

    import flows  # type: ignore[no-redef]

KEY_DELAY_MS = 40  # a person typing: every key its own event
ROLES = {username: roles for username, _name, roles in DEMO_ACCOUNTS}
NEW_MOBILE = "13900002222"


def _type(page: Page, selector: str, text: str) -> None:
    flows.type_like_a_person(page, selector, text, delay_ms=KEY_DELAY_MS)


def _load(page: Page, selector: str) -> None:
    """Press a link or a plain form's button and wait for the new document."""
    with page.expect_event("load"):
        page.locator(selector).first.click()


def _act(app: Flask, reference: str, node: str, operation: str, staff: tuple[str, ...],
         **args: object) -> str:
    """Do ``operation`` on the open task at ``node`` as the first of ``staff`` the step's rules
    let act, as the review page's button would; return who did."""
    engine = app.extensions["tongban.engine"]
    with db.new_session(engine) as session:
        users = {u.username: saved_id(u) for u in session.scalars(select(User))}
        application = session.scalars(select(Application).where(
            Application.reference == reference)).one()
        [task] = [t for t in open_tasks(session, saved_id(application)) if t.node == node]
        task_id = saved_id(task)
    refusals = []
    for username in staff:
        try:
            with db.new_session(engine) as session, db.unit_of_work(session):
                runtime.act(session, Actor.of(users[username], ROLES[username]), task_id,
                            operation, version=None, **args)
        except NotYours as refused:
            refusals.append(f"{username}: {refused}")
            continue
        return username
    raise AssertionError(f"nobody could {operation} {node}:\n" + "\n".join(refusals))


def test_a_citizen_finds_applies_corrects_and_rates(
        demo: Flask, live_server: helpers.LiveServer, browser_page: tuple[Page, bool],
        screenshot) -> None:  # type: ignore[no-untyped-def]
    page, js = browser_page
    page.set_default_timeout(15000)
    base = live_server.url

    def clean() -> None:
        if js:
            assert_clean(page)

    flows.sign_in(page, base, "citizen")

    # Find the service by search on the portal.
    page.goto(base + "/")
    search = page.get_by_label("搜索服务")
    search.press_sequentially("落户", delay=KEY_DELAY_MS)
    if js:  # the results follow the typing
        expect(page.get_by_role("status")).to_have_text("找到 2 项服务。")
    else:
        with page.expect_navigation():
            search.press("Enter")
    results = page.locator("#tb-search-results")
    expect(results.get_by_role("link", name="户口迁入")).to_be_visible()
    clean()
    with page.expect_navigation():
        results.get_by_role("link", name="户口迁入").click()

    # The guide, then the pre-check: they qualify.
    expect(page.locator("main h1")).to_have_text("户口迁入")
    clean()
    _load(page, "#tb-precheck-link")
    expect(page.locator("main h1")).to_have_text("检查是否符合申请条件")
    clean()
    page.get_by_role("radio", name="夫妻、父母子女投靠").check()
    page.get_by_role("group", name="您的户口现在已经在上海市吗？").get_by_role("radio", name="否").check()
    page.get_by_role("group", name="是否有家庭成员随您一起迁入？").get_by_role("radio", name="是").check()
    page.get_by_role("group", name="您是否已取得准予迁入证明？").get_by_role("radio", name="是").check()
    check = page.locator("#tb-precheck form button", has_text="检查").first
    if js:  # htmx swaps the answer in place
        with page.expect_response(lambda r: r.request.method == "POST"):
            check.click()
    else:
        with page.expect_navigation():
            check.click()
    result = page.locator("#tb-precheck-result")
    expect(result.locator("h2")).to_have_text("您符合申请条件")
    clean()

    # Start, fill (the name and mobile typed, the rest filled), send.
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="开始办理").click()
    assert flows.current_page_id(page) == "applicant", page.url
    applicant = dict(flows.HOUSEHOLD_PAGES[0][1])
    _type(page, '[name="applicant.name"]', applicant.pop("applicant.name"))
    _type(page, '[name="applicant.mobile"]', applicant.pop("applicant.mobile"))
    flows.answer(page, applicant)
    assert flows.current_page_id(page) == "transfer", page.url
    flows.answer(page, flows.HOUSEHOLD_PAGES[1][1])
    flows.send_to_check(page, flows.MEMBER)
    page.check("#declaration")
    _load(page, "button:has-text('确认并提交')")
    assert page.url.endswith("/confirmation"), page.url
    reference = page.locator(".tb-reference").inner_text().strip()

    # The counter asks to correct the mobile number; the citizen answers in the browser.
    _act(demo, reference, "intake", "request_correction", STAFF, questions=["applicant.mobile"],
         comment="手机号无法接通")
    page.goto(f"{base}/my/applications/{reference}")
    expect(page.locator("#fix-heading")).to_have_text("您需要补正的内容")
    expect(page.locator("main")).to_contain_text("手机号无法接通")
    clean()
    _load(page, "main a:has-text('补正您的申请')")
    assert page.locator("main input[name='applicant.name']").count() == 0  # only what to fix
    _type(page, "main input[name='applicant.mobile']", NEW_MOBILE)
    _load(page, "main button:has-text('提交补正')")
    expect(page.locator("[role=status]")).to_contain_text("您的修改已提交")
    expect(page.locator("main")).to_contain_text("已提交补正")

    # Accepted, checked, jointly reviewed, the other city's reply, and the decision: approved.
    _take_steps_before_the_decision(demo, reference, "decision")
    _act(demo, reference, "decision", "approve", ("reviewer",), comment="同意")

    # The finished case on its page: rate it 满意, and the rating is there.
    page.goto(f"{base}/my/applications/{reference}")
    status = page.locator(".tb-summary-list__row", has_text="状态").first.locator("dd")
    expect(status).to_have_text("已批准")
    rating = page.locator("#rating")
    expect(rating).to_contain_text("您的办件已办结")
    clean()
    _load(page, "#rating a:has-text('评价本次服务')")
    expect(page.locator("main h1")).to_have_text("评价本次服务")
    clean()
    page.set_viewport_size({"width": 360, "height": 800})
    if js:
        extra = page.evaluate(OVERFLOW)["extra"]
        assert extra <= 0, f"the rating form scrolls sideways by {extra} px at 360 px"
    screenshot(page, "rating-form-360-js" if js else "rating-form-360-nojs")
    page.get_by_label("满意", exact=True).check()
    _type(page, "#comment", "网上办理很方便")
    with page.expect_navigation():
        page.get_by_role("button", name="提交评价").click()
    rating = page.locator("#rating")
    expect(rating).to_contain_text("感谢您的评价。")
    expect(rating).to_contain_text("满意")
    expect(rating).to_contain_text("网上办理很方便")
    clean()
    screenshot(page, "rated-js" if js else "rated-nojs")

    with db.new_session(demo.extensions["tongban.engine"]) as session:
        application = session.scalars(select(Application).where(
            Application.reference == reference)).one()
        recorded = session.scalars(select(ServiceRating).where(
            ServiceRating.application_id == saved_id(application))).one()
        assert application.answers["applicant"]["mobile"] == NEW_MOBILE
    assert recorded.level == 4, recorded.level
