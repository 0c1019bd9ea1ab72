"""Issue 17 item 10 in headless Chromium: a citizen opens their finished application, sends the
rating form without a level and is told so (the summary takes focus and links to the first
level), rates 不满意 with a reason and a comment; the department's reviewer finds the 回访 task
from the inbox, calls back and answers, and the answer is on the citizen's page. With
JavaScript on and off; axe on each page; the rating form at 360 px without sideways scroll."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from tongban import db
from tongban.models import FlowInstance, FlowTask, utcnow

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from ..web import review_world
    from .axe import assert_clean
    from .flows import sign_in
    from .test_narrow_screens import OVERFLOW
except ImportError:
    from axe import assert_clean  # type: ignore[no-redef]
    from test_narrow_screens import OVERFLOW  # type: ignore[no-redef]
    from tests.web import review_world  # type: ignore[no-redef]

    from flows import sign_in  # type: ignore[no-redef]

REFERENCE = "2612-RATE-WEB1"
KEY_DELAY_MS = 60


def _finished(engine) -> review_world.Run:  # type: ignore[no-untyped-def]
    run = review_world.build(engine, status="approved", reference=REFERENCE)
    with run.session() as session, db.unit_of_work(session):
        review = session.get(FlowTask, run.tasks["review"])
        instance = session.get(FlowInstance, run.instance_id)
        assert review is not None and instance is not None
        review.state, review.outcome = "done", "approved"
        review.done_by, review.done_at = run.users["rsj_city"], utcnow() - timedelta(hours=1)
        instance.ended_at, instance.outcome = utcnow() - timedelta(hours=1), "approved"
    return run


def _submit(page: Page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


def test_a_citizen_rates_dissatisfied_and_the_department_answers(
        demo, live_server, browser_page, screenshot) -> None:  # type: ignore[no-untyped-def]
    page, js = browser_page
    base = live_server.url
    _finished(demo.extensions["tongban.engine"])
    sign_in(page, base, "citizen")
    page.goto(f"{base}/my/applications/{REFERENCE}")
    rating = page.locator("#rating")
    expect(rating).to_contain_text("您的办件已办结")
    with page.expect_navigation():
        rating.get_by_role("link", name="评价本次服务").click()
    expect(page.locator("main h1")).to_have_text("评价本次服务")
    if js:
        assert_clean(page)
        page.set_viewport_size({"width": 360, "height": 800})
        extra = page.evaluate(OVERFLOW)["extra"]
        assert extra <= 0, f"the rating form scrolls sideways by {extra} px at 360 px"
        screenshot(page, "rating-form-360")
        page.set_viewport_size({"width": 1280, "height": 900})

    _submit(page, "提交评价")  # no level chosen
    summary = page.locator(".tb-error-summary")
    expect(summary.locator("a")).to_have_text(["请选择您的满意程度"])
    if js:
        expect(summary).to_be_focused()
        assert_clean(page)
    summary.locator("a").click()
    if js:
        expect(page.locator("#level")).to_be_focused()

    page.get_by_label("不满意", exact=True).check()
    page.get_by_label("办理时间太长").check()
    page.locator("#comment").press_sequentially("等了很久", delay=KEY_DELAY_MS)
    _submit(page, "提交评价")
    rating = page.locator("#rating")
    expect(rating).to_contain_text("感谢您的评价。")
    expect(rating).to_contain_text("不满意")
    expect(rating).to_contain_text("办理时间太长")
    expect(rating).to_contain_text("承办部门将于")
    if js:
        assert_clean(page)
    screenshot(page, "rated-js" if js else "rated-nojs")

    page.context.clear_cookies()
    sign_in(page, base, "rsj_city")
    page.goto(f"{base}/review")
    with page.expect_navigation():
        page.get_by_role("link", name="待回访的差评：1 件").click()
    expect(page.locator("main h1")).to_have_text("差评回访整改")
    if js:
        assert_clean(page)
    with page.expect_navigation():
        page.get_by_role("link", name=REFERENCE).click()
    main = page.locator("main")
    expect(main).to_contain_text("不满意")
    expect(main).to_contain_text("等了很久")
    expect(main).to_contain_text("张三")
    if js:
        assert_clean(page)
    page.locator("#visit_note").fill("12 月 3 日电话回访：申请人反映排队时间长")
    page.locator("#reply").fill("已增开窗口，感谢您的监督。")
    _submit(page, "发送答复并办结回访")
    expect(main).to_contain_text("回访已办结，答复已发送给评价人。")
    expect(main).to_contain_text("已增开窗口，感谢您的监督。")
    if js:
        assert_clean(page)

    page.context.clear_cookies()
    sign_in(page, base, "citizen")
    page.goto(f"{base}/my/applications/{REFERENCE}")
    expect(page.locator("#rating")).to_contain_text("已增开窗口，感谢您的监督。")
