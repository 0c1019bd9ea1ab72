"""axe-core finds no WCAG 2.1 A/AA violations on any page a citizen meets in the demo services:
every form page (with its conditional questions shown), an error state, check answers, the
confirmation, the service list and guide, sign-in and the error pages; in both display modes.

axe checks only part of WCAG; the elder-mode tests measure sizes, and the journey tests drive the
keyboard and the error summary.
"""

from __future__ import annotations

from typing import Any

import pytest
from axe import run_axe, summarize
from playwright.sync_api import Page, expect

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows
except ImportError:
    import flows  # type: ignore[no-redef]


class Scanner:
    """Runs axe on each page visited and keeps the violations by page, so one test reports
    every page at once instead of stopping at the first."""

    def __init__(self, page: Page):
        self.page = page
        self.found: dict[str, list[dict[str, Any]]] = {}
        self.scanned: list[str] = []

    def scan(self, name: str) -> None:
        self.page.wait_for_load_state("load")
        self.scanned.append(name)
        # What axe cannot decide alone fails too: on these plain pages each such item so far
        # was a real fault (aria-labelledby on a paragraph).
        violations = run_axe(self.page, needs_review=True)
        if violations:
            self.found[name] = violations

    def assert_clean(self) -> None:
        print(f"axe scanned {len(self.scanned)} pages: {', '.join(self.scanned)}")
        report = "\n".join(f"{name}:\n{summarize(v)}" for name, v in self.found.items())
        assert not self.found, f"axe violations on {len(self.found)} page(s):\n{report}"


def _submit(page: Page, scanner: Scanner, prefix: str) -> None:
    """Check answers (also with the declaration left unticked), then the confirmation."""
    assert page.url.endswith("/check"), page.url
    scanner.scan(f"{prefix} check answers")
    page.click("button:has-text('确认并提交')")
    scanner.scan(f"{prefix} check answers, declaration missing")
    page.check("#declaration")
    page.click("button:has-text('确认并提交')")
    page.wait_for_url("**/confirmation")
    scanner.scan(f"{prefix} confirmation")


@pytest.fixture(params=["standard", "elder"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _set_mode(page: Page, base: str, mode: str) -> None:
    if mode == "elder":
        page.goto(base + "/")
        page.click("header button:has-text('长辈版')")
        page.wait_for_selector("body.tb-elder")


def test_residence_points_pages_have_no_axe_violations(demo, live_server, page, mode):
    scanner = Scanner(page)
    _set_mode(page, live_server.url, mode)
    flows.sign_in(page, live_server.url)
    flows.start(page, live_server.url, "residence-points")
    scanner.scan("task list")
    flows.open_task(page, "申请人")

    applicant = dict(flows.RESIDENCE_PAGES[0][1])
    scanner.scan("applicant")
    flows.answer(page, {**applicant, "applicant.id_number": flows.VALID_ID[:-1] + "0"})
    scanner.scan("applicant, wrong ID number")
    flows.answer(page, applicant)
    for page_id, answers in flows.RESIDENCE_PAGES[1:]:
        scanner.scan(page_id)
        if page_id == "qualification":  # the conditional questions, shown
            flows.fill(page, {"qualification.kind": "skill"})
            scanner.scan("qualification, skill level shown")
        flows.answer(page, answers)
    scanner.scan("materials")
    flows.send(page)
    scanner.scan("materials, nothing uploaded")
    flows.upload(page, "materials.id_card", "身份证.pdf", flows.PDF, "application/pdf")
    flows.upload(page, "materials.residence_permit", "居住证.pdf", flows.PDF, "application/pdf")
    flows.upload(page, "materials.diploma", "毕业证书.pdf", flows.PDF, "application/pdf")
    flows.send(page)
    _submit(page, scanner, "residence")

    scanner.assert_clean()


def test_urban_event_report_pages_have_no_axe_violations(demo, live_server, page, mode):
    scanner = Scanner(page)
    _set_mode(page, live_server.url, mode)
    flows.start(page, live_server.url, "urban-event-report")

    scanner.scan("event")
    flows.send(page)
    scanner.scan("event, nothing answered")
    for page_id, answers in flows.URBAN_PAGES:
        assert flows.current_page_id(page) == page_id
        if page_id != "event":
            scanner.scan(page_id)
        if page_id == "photos":
            flows.upload(page, "photos.photo", "现场.png", flows.PNG, "image/png")
        flows.answer(page, answers)
    _submit(page, scanner, "urban")

    scanner.assert_clean()


def test_household_transfer_pages_have_no_axe_violations(demo, live_server, page, mode):
    scanner = Scanner(page)
    _set_mode(page, live_server.url, mode)
    flows.sign_in(page, live_server.url)
    flows.start(page, live_server.url, "household-transfer")

    for page_id, answers in flows.HOUSEHOLD_PAGES:
        assert flows.current_page_id(page) == page_id
        scanner.scan(page_id)
        flows.answer(page, answers)
    assert flows.current_page_id(page) == "members"
    scanner.scan("members")
    flows.send(page)
    scanner.scan("members, none given")
    flows.fill(page, flows.MEMBER)
    flows.add_another(page)
    scanner.scan("members, one added")
    page.locator("main button:has-text('删除')").last.click()
    expect(page.locator(".tb-repeatable__item")).to_have_count(1)
    flows.send(page)
    assert flows.current_page_id(page) == "materials"
    scanner.scan("household materials")
    flows.upload_household_documents(page)
    flows.send(page)
    _submit(page, scanner, "household")

    scanner.assert_clean()


def test_portal_sign_in_and_error_pages_have_no_axe_violations(
        demo, live_server, page, mode, browser_errors):
    scanner = Scanner(page)
    base = live_server.url
    _set_mode(page, base, mode)

    page.goto(base + "/")
    scanner.scan("service list")
    page.goto(base + "/services/residence-points")
    scanner.scan("service guide")
    page.goto(base + "/login")
    scanner.scan("sign in")
    page.click("main button:has-text('登录')")
    scanner.scan("sign in, nothing entered")
    page.goto(base + "/no-such-page")
    scanner.scan("404")
    flows.sign_in(page, base, "outsider")
    page.goto(base + "/review/applications")
    scanner.scan("403")
    expected = browser_errors.take()  # Chromium logs the 404 and 403 documents as errors
    assert len(expected) == 2 and all("Failed to load resource" in e for e in expected), expected
    page.goto(base + "/my")
    scanner.scan("your applications")
    flows.a_notification_for(demo, "outsider", state="sent")
    page.goto(base + "/my/messages")
    scanner.scan("messages")
    flows.start(page, base, "urban-event-report")
    with page.expect_event("load"):
        page.click("button:has-text('保存，稍后再填')")
    scanner.scan("answers saved")

    scanner.assert_clean()

