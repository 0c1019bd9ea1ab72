"""/admin/services/<code>/bench in Chromium: a case's run (checks, steps, trace) and the new-run
form filled from it; axe finds nothing."""

from __future__ import annotations

from axe import run_axe, summarize
from playwright.sync_api import Page, expect

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows
except ImportError:
    import flows  # type: ignore[no-redef]


def test_the_bench_page_with_a_case_run_is_accessible(demo, live_server, page: Page) -> None:  # type: ignore[no-untyped-def]
    flows.sign_in(page, live_server.url, "admin")
    page.goto(live_server.url + "/admin/services/household-transfer/bench?case=talent-approved")
    expect(page.locator("h1")).to_have_text("household-transfer 的测试台")
    expect(page.locator("main")).to_contain_text("14 项预期全部满足。")
    violations = run_axe(page, needs_review=True)
    assert violations == [], summarize(violations)
