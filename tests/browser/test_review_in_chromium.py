"""Issue 11 in headless Chromium, with JavaScript and without: an approval, a 会签 with one
reject, a return to the applicant that comes straight back, and a correction request answered
by the citizen. Every page on the way is scanned with axe (WCAG 2.1 A/AA): 0 violations."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from tests.web import review_world

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows
    from .axe import run_axe, summarize
except ImportError:
    import flows  # type: ignore[no-redef]
    from axe import run_axe, summarize  # type: ignore[no-redef]


@pytest.fixture(autouse=True)
def _fresh_flow_cache() -> None:
    review_world.forget_compiled_flows()


def _clean(page: Page) -> None:
    """axe runs in the page: with JavaScript on (the same HTML is served either way)."""
    if not page.context.pages or not _JS.get(id(page), True):
        return
    violations = run_axe(page)
    assert violations == [], summarize(violations)


_JS: dict[int, bool] = {}


@pytest.fixture
def review_page(browser_page):  # type: ignore[no-untyped-def]
    page, js = browser_page
    page.set_default_timeout(15000)
    _JS[id(page)] = js
    return page, js


def _switch_to(page: Page, base: str, username: str) -> None:
    if page.locator(".tb-header__user").count():
        page.click("header button:has-text('退出登录')")
        page.wait_for_url(f"{base}/")
    flows.sign_in(page, base, username)


def _open_task_from_inbox(page: Page, base: str, reference: str, tab: str = "mine") -> None:
    page.goto(f"{base}/review?tab={tab}")
    expect(page.locator("h1")).to_have_text("审核待办")
    _clean(page)
    with page.expect_event("load"):
        page.click(f"main a:text-is('{reference}')")


def _do(page: Page, op: str, comment: str | None = None) -> None:
    """Open the operation's section (a <details>, no JavaScript needed) and press its button."""
    section = page.locator(f"#op-{op}")
    if section.get_attribute("open") is None:
        section.locator("summary").click()
    if comment is not None:
        section.locator("textarea[name=comment]").fill(comment)
    with page.expect_event("load"):
        section.locator(f"button[name=op][value={op}]").click()


def _status(page: Page) -> str:
    row = page.locator(".tb-summary-list__row", has_text="状态").first
    return row.locator("dd").inner_text().strip()


def test_an_approval(demo, live_server, review_page) -> None:  # type: ignore[no-untyped-def]
    page, _js = review_page
    base = live_server.url
    run = review_world.start(demo.extensions["tongban.engine"], "web-approve")
    flows.sign_in(page, base, "reviewer")
    assert page.url == f"{base}/review"  # staff land on their inbox
    expect(page.locator(".tb-header__count")).to_have_text("1")
    _open_task_from_inbox(page, base, run.reference)
    expect(page.locator("main h1")).to_contain_text("初审")
    _clean(page)
    _do(page, "approve", "符合条件")
    expect(page.locator("[role=status]")).to_be_visible()
    assert _status(page) == "已批准"
    _clean(page)
    _switch_to(page, base, "citizen")
    assert page.url == f"{base}/my"
    with page.expect_event("load"):
        page.click(f"main a:text-is('{run.reference}')")
    expect(page.locator("main")).to_contain_text("符合条件")
    assert _status(page) == "已批准"
    _clean(page)


def test_a_countersign_with_one_reject(demo, live_server, review_page) -> None:  # type: ignore[no-untyped-def]
    page, _js = review_page
    base = live_server.url
    run = review_world.start(demo.extensions["tongban.engine"], "web-countersign")
    flows.sign_in(page, base, "reviewer")
    _open_task_from_inbox(page, base, run.reference)
    _do(page, "approve")
    assert _status(page) == "审核中"
    _switch_to(page, base, "deptadmin")
    _open_task_from_inbox(page, base, run.reference)
    _do(page, "reject", "")  # no reason: refused beside the field, nothing changes
    expect(page.locator("#op-reject .tb-error-message")).to_contain_text("请填写驳回理由")
    expect(page.locator(".tb-error-summary")).to_be_visible()
    assert _status(page) == "审核中"
    _clean(page)
    _do(page, "reject", "材料不符")
    assert _status(page) == "未批准"
    expect(page.locator("main")).to_contain_text("材料不符")
    _clean(page)


def test_a_return_with_straight_back_resubmission(demo, live_server, review_page) -> None:  # type: ignore[no-untyped-def]
    page, _js = review_page
    base = live_server.url
    run = review_world.start(demo.extensions["tongban.engine"], "web-straight-back")
    flows.sign_in(page, base, "deptadmin")
    _open_task_from_inbox(page, base, run.reference)
    _do(page, "approve")
    _switch_to(page, base, "reviewer")
    _open_task_from_inbox(page, base, run.reference)
    expect(page.locator("main h1")).to_contain_text("复审")
    section = page.locator("#op-return")
    section.locator("summary").click()
    section.locator("select[name=target]").select_option("applicant")
    _do(page, "return", "请核对手机号")
    assert _status(page) == "已退回，请修改后重新提交"
    _switch_to(page, base, "citizen")
    page.goto(f"{base}/my/applications/{run.reference}")
    expect(page.locator("#fix-heading")).to_have_text("您的申请已被退回")
    expect(page.locator("main")).to_contain_text("请核对手机号")
    _clean(page)
    with page.expect_event("load"):
        page.click("main button:has-text('不作修改，直接重新提交')")
    assert _status(page) == "审核中"
    expect(page.locator("main")).to_contain_text("复审")  # straight back to the second review
    _clean(page)
    _switch_to(page, base, "reviewer")
    page.goto(f"{base}/review")
    expect(page.locator("main")).to_contain_text(run.reference)


def test_a_correction_request_answered_by_the_citizen(demo, live_server, review_page) -> None:  # type: ignore[no-untyped-def]
    page, _js = review_page
    base = live_server.url
    run = review_world.start(demo.extensions["tongban.engine"], "web-intake")
    flows.sign_in(page, base, "clerk")
    _open_task_from_inbox(page, base, run.reference)
    section = page.locator("#op-correction")
    section.locator("summary").click()
    section.locator("input[name=questions][value='applicant.mobile']").check()
    _do(page, "correction", "手机号无法接通")
    assert _status(page) == "需要补正"
    _switch_to(page, base, "citizen")
    page.goto(f"{base}/my/applications/{run.reference}")
    expect(page.locator("#fix-heading")).to_have_text("您需要补正的内容")
    _clean(page)
    with page.expect_event("load"):
        page.click("main a:has-text('补正您的申请')")
    expect(page.locator("main input[name='applicant.mobile']")).to_have_value("13812345678")
    assert page.locator("main input[name='applicant.name']").count() == 0  # only what to fix
    _clean(page)
    page.fill("main input[name='applicant.mobile']", "13900001111")
    with page.expect_event("load"):
        page.click("main button:has-text('提交补正')")
    expect(page.locator("[role=status]")).to_contain_text("您的修改已提交")
    assert _status(page) == "已提交"  # back at intake, as before the request
    expect(page.locator("main")).to_contain_text("已提交补正")
    _clean(page)
