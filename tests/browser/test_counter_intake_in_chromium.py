"""Issue 13 QA: the counter clerk of the applicant's work district takes in a residence-points
application in a real browser. The intake reaches 徐汇's clerk (not the bureau's administrator),
and once the clerk has claimed it the 受理 button is on screen: the page comes back at the
actions with the main one open, instead of at the top with every action folded away."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.web.test_points_in_applications import _apply, _open_task

from tongban import db
from tongban.models import saved_id

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows, helpers
    from .test_narrow_screens import NARROW, OVERFLOW, _choose
except ImportError:
    import helpers  # type: ignore[no-redef]  # the same module, imported by its bare name
    from test_narrow_screens import NARROW, OVERFLOW, _choose  # type: ignore[no-redef]  # same

    import flows  # type: ignore[no-redef]  # the same module, imported by its bare name

XUHUI = {"applicant": {"applicant.work_district": "310104"}}


def test_the_xuhui_clerk_claims_the_intake_and_sees_the_accept_button(demo, live_server,
                                                                     browser_page):
    page, js = browser_page
    with db.new_session(demo.extensions["tongban.engine"]) as session:
        application = _apply(demo, session, XUHUI)
        reference, app_id = application.reference, saved_id(application)
        intake = _open_task(session, app_id, "intake")
        assert intake is not None
        assert (intake.candidate_role, intake.candidate_department) == ("counter_clerk",
                                                                        "sh-rsj-xuhui")
    base = live_server.url
    flows.sign_in(page, base, "clerk_xuhui")
    page.goto(f"{base}/review?tab=group")
    with page.expect_event("load"):
        page.click(f"main a:text-is('{reference}')")
    with page.expect_event("load"):
        page.click("button[value=claim]")
    accept = page.locator("#op-accept button[value=accept]")
    expect(accept).to_be_visible()
    expect(accept).to_be_in_viewport()
    page.locator("#accept-comment").type("材料齐全", delay=20)
    with page.expect_event("load"):
        accept.click()
    expect(page.locator("main [role=status]")).to_contain_text("已完成")
    with db.new_session(demo.extensions["tongban.engine"]) as session:
        assert _open_task(session, app_id, "intake") is None
        assert _open_task(session, app_id, "initial_review") is not None, js


@pytest.fixture
def narrow_page(chromium: Browser, browser_errors: helpers.BrowserErrors) -> Iterator[Page]:
    yield from helpers.new_page(chromium, browser_errors, **NARROW)


def test_the_review_inbox_filters_fit_a_phone_in_english(demo, live_server, narrow_page):
    """The status list's longest English option ("Returned, please change ...") made the
    filter form 20 px wider than a 360 px screen."""
    page, base = narrow_page, live_server.url
    flows.sign_in(page, base, "clerk_xuhui")
    wide = []
    for locale in ("zh_CN", "en"):
        _choose(page, base, locale, False)
        for tab in ("mine", "group"):
            page.goto(f"{base}/review?tab={tab}")
            found: dict[str, Any] = page.evaluate(OVERFLOW)
            if found["extra"] > 0:
                wide.append((locale, tab, found["extra"], found["culprits"]))
    assert wide == [], "\n".join(map(str, wide))
