"""/admin/calendars in Chromium: axe finds nothing on the list or on the problems shown, a bad
paste lists its problems by line, and a good one publishes and says so."""

from __future__ import annotations

from axe import run_axe, summarize
from playwright.sync_api import Page, expect

from tongban import PROJECT_ROOT

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows, helpers
except ImportError:
    import helpers  # type: ignore[no-redef]

    import flows  # type: ignore[no-redef]

CN = (PROJECT_ROOT / "workflow_definitions/calendars/cn.yaml").read_text("utf-8")


def clean(page: Page) -> None:
    violations = run_axe(page, needs_review=True)
    assert not violations, summarize(violations)


def test_an_administrator_adds_2027(demo, live_server, page: Page) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    flows.sign_in(page, base, "admin")
    page.goto(base + "/admin/calendars")
    expect(page.locator("h1")).to_have_text("工作日日历")
    expect(page.locator("table")).to_contain_text("2025-01-01 – 2026-12-31")
    clean(page)

    page.fill("#text", CN.replace("workdays: [2026-01-04,", "workdays: [2026-01-02,"))
    page.click("button:has-text('检查并发布')")
    expect(page.locator(".tb-error-summary")).to_contain_text(
        "第 35 行第 16 列：2026-01-02 既是节假日（元旦）又是调休上班日；只能是其中之一")
    clean(page)
    page.screenshot(path=str(helpers.screenshot_path("calendar_admin", "problems")), full_page=True)

    page.fill("#text", CN + "  2027:\n    source: 测试用（虚构）\n    holidays: []\n")
    page.fill("#comment", "2027 年安排")
    page.click("button:has-text('检查并发布')")
    expect(page.locator("[role=status]")).to_contain_text("已发布 cn@2")
    expect(page.locator("table")).to_contain_text("2025-01-01 – 2027-12-31")
    expect(page.locator("table")).to_contain_text("2027 年安排")
    clean(page)
    page.screenshot(path=str(helpers.screenshot_path("calendar_admin", "published")), full_page=True)
