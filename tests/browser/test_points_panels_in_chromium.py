"""Issue 13: the score panels in a real browser. The applicant's application page and the
reviewer's task page, with a score that replaced an earlier one, have no axe violations and do
not scroll sideways on a 360 px phone, in Chinese and in English."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from tests.conftest import Personas
from tests.web.journey import csrf
from tests.web.test_points_in_applications import LOW_PAGES, _apply, _open_task, _post

from tongban import db
from tongban.models import saved_id

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows, helpers
    from .test_accessibility import Scanner
    from .test_narrow_screens import NARROW, OVERFLOW, _choose
except ImportError:
    import helpers  # type: ignore[no-redef]
    from test_accessibility import Scanner  # type: ignore[no-redef]
    from test_narrow_screens import NARROW, OVERFLOW, _choose  # type: ignore[no-redef]

    import flows  # type: ignore[no-redef]


@pytest.fixture
def narrow_page(chromium: Browser, browser_errors: helpers.BrowserErrors) -> Iterator[Page]:
    yield from helpers.new_page(chromium, browser_errors, **NARROW)


def _scored_twice(demo: Any) -> tuple[str, int]:
    """A residence-points application below the standard, corrected at intake to a master's
    degree: its reference and its intake task's id (the task page shows both scores)."""
    with db.new_session(demo.extensions["tongban.engine"]) as session:
        application = _apply(demo, session, LOW_PAGES)
        reference, app_id = application.reference, saved_id(application)
        intake = _open_task(session, app_id, "intake")
        assert intake is not None
        admin = Personas(demo.test_client()).as_("deptadmin")
        assert _post(admin, intake.id, "correction", questions="education.level",
                     comment="请核对学历").status_code == 302
        citizen = Personas(demo.test_client()).as_("citizen")
        form = citizen.get(f"/my/applications/{reference}/correct").get_data(as_text=True)
        assert citizen.post(f"/my/applications/{reference}/correct", data={
            "csrf_token": csrf(form), "education.level": "master"}).status_code == 302
        return reference, intake.id


def test_the_score_panels_have_no_axe_violations(demo, live_server, page):
    reference, task_id = _scored_twice(demo)
    base, scanner = live_server.url, Scanner(page)
    flows.sign_in(page, base)
    page.goto(f"{base}/my/applications/{reference}")
    assert page.locator("#points table caption").count() == 1
    scanner.scan("applicant's application page with the score")
    page.context.clear_cookies()
    flows.sign_in(page, base, "deptadmin")
    page.goto(f"{base}/review/tasks/{task_id}")
    assert page.locator("#points-history tbody tr").count() == 1
    scanner.scan("reviewer's task page with the score and its history")
    scanner.assert_clean()


def test_the_score_panels_fit_a_phone_in_both_languages(demo, live_server, narrow_page):
    reference, task_id = _scored_twice(demo)
    page, base = narrow_page, live_server.url
    wide = []
    for username, url in (("citizen", f"{base}/my/applications/{reference}"),
                          ("deptadmin", f"{base}/review/tasks/{task_id}")):
        page.context.clear_cookies()
        flows.sign_in(page, base, username)
        for locale in ("zh_CN", "en"):
            _choose(page, base, locale, False)
            page.goto(url)
            assert page.locator("#points").count() == 1
            found: dict[str, Any] = page.evaluate(OVERFLOW)
            if found["extra"] > 0:
                wide.append((username, locale, found["extra"], found["culprits"]))
    assert wide == [], "\n".join(map(str, wide))


def test_the_simulation_chart_fits_a_phone(demo, live_server, narrow_page):
    """The histogram is drawn 640 px wide; on a 360 px screen it shrinks instead of making the
    page scroll sideways (the administrator's simulation page, both languages)."""
    page, base = narrow_page, live_server.url
    flows.sign_in(page, base, "admin")
    wide = []
    for locale in ("zh_CN", "en"):
        _choose(page, base, locale, False)
        page.goto(f"{base}/admin/points/simulate")
        page.fill("#count", "200")
        page.locator("form[action$='/simulate'] button.tb-button").click()
        chart = page.locator(".tb-chart svg")
        chart.wait_for()
        assert chart.bounding_box()["width"] <= 360  # type: ignore[index]  # shown, so a box
        found: dict[str, Any] = page.evaluate(OVERFLOW)
        if found["extra"] > 0:
            wide.append((locale, found["extra"], found["culprits"]))
    assert wide == [], "\n".join(map(str, wide))
