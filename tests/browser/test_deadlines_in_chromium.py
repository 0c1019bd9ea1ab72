"""Issue 12 item 5 in headless Chromium: a reviewer sees overdue and due-soon marks in the
inbox's order, stops an application's clock for a hearing (typed at a person's speed), and the
applicant sees the pause, its reason and the §45 notice. With JavaScript off, a pause without
the days it will take is refused beside the field and then goes through. Pages scanned with axe.

"Now" for the pages is fixed (tests/web/deadline_world.py): Wednesday 2026-11-18 10:00."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlmodel import col
from tests.web import deadline_world, review_world

from tongban import db
from tongban.models import FlowDeadline
from tongban.web import deadline_views

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows
    from .axe import run_axe, summarize
except ImportError:
    from axe import run_axe, summarize  # type: ignore[no-redef]

    import flows  # type: ignore[no-redef]

TYPING_DELAY_MS = 20  # a brisk typist: every key is its own event


@pytest.fixture(autouse=True)
def _fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    review_world.forget_compiled_flows()
    monkeypatch.setattr(deadline_views, "now", lambda: deadline_world.NOW)


def _clean(page: Page) -> None:
    violations = run_axe(page)
    assert violations == [], summarize(violations)


def _type(page: Page, selector: str, text: str) -> None:
    field = page.locator(selector)
    field.fill("")
    field.press_sequentially(text, delay=TYPING_DELAY_MS)


def _application_clock(run: review_world.Run) -> FlowDeadline:
    with run.session() as session:
        return session.scalars(select(FlowDeadline).where(
            col(FlowDeadline.instance_id) == run.instance_id,
            col(FlowDeadline.scope) == "application")).one()


def test_marks_in_the_inbox_a_pause_typed_by_the_reviewer_and_seen_by_the_applicant(
        demo, live_server, page) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    deadline_world.world(demo, ("2611-RSJ2-LATE", {"due": date(2026, 11, 27)}),
                         ("2611-RSJ2-OVER", {"due": date(2026, 11, 13)}))
    run = deadline_world.start_timed(demo)  # its step is due Monday 23rd
    deadline_world.world(demo, ("2611-RSJ2-SOON", {"due": date(2026, 11, 19)}))
    flows.sign_in(page, base, "reviewer")
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(4)
    references = [rows.nth(i).locator("td").nth(1).locator("a").inner_text() for i in range(4)]
    assert references == ["2611-RSJ2-OVER", "2611-RSJ2-SOON", run.reference, "2611-RSJ2-LATE"]
    expect(rows.nth(0)).to_contain_text("已超期 3 个工作日")
    expect(rows.nth(1)).to_contain_text("即将到期")
    expect(rows.nth(2).locator(".tb-tag")).to_have_count(0)
    # The due-date filter shows a whole date, not only its picker icon (a percentage width
    # of a shrink-to-fit box collapsed it to 40 px).
    box = page.locator("#filter-due").bounding_box()
    assert box is not None and box["width"] >= 140, box
    _clean(page)
    with page.expect_event("load"):
        page.click(f"main a:text-is('{run.reference}')")
    seq = _application_clock(run).seq
    section = page.locator(f"#op-pause_clock-{seq}")
    section.locator("summary").click()
    section.get_by_label("听证").check()
    _type(page, f"#note-{seq}", "申请人要求听证")
    _type(page, f"#expected_days-{seq}", "15")
    with page.expect_event("load"):
        section.locator("button[name=op][value=pause_clock]").click()
    panel = page.locator("#time-limit")
    expect(panel).to_contain_text("已暂停计时")
    expect(panel).to_contain_text("听证 · 申请人要求听证 · 预计需要 15 个工作日")
    _clean(page)
    page.click("header button:has-text('退出登录')")
    flows.sign_in(page, base, "citizen")
    page.goto(f"{base}/my/applications/{run.reference}")
    expect(page.locator("#time-limit")).to_contain_text("已暂停计时 自 2026-11-18 起 · 听证")
    expect(page.locator("main")).to_contain_text(
        "您的申请自 2026-11-18 起因“听证”暂停计时，预计需要 15 个工作日。")
    expect(page.locator("#pause-heading")).to_have_text("告知：以下时间不计入办理时限")
    _clean(page)


def test_a_pause_without_the_days_it_takes_is_refused_beside_the_field_without_javascript(
        demo, live_server, page_nojs) -> None:  # type: ignore[no-untyped-def]
    page, base = page_nojs, live_server.url
    run = deadline_world.start_timed(demo)
    seq = _application_clock(run).seq
    flows.sign_in(page, base, "reviewer")
    page.goto(f"{base}/review/tasks/{run.tasks['review']}")
    section = page.locator(f"#op-pause_clock-{seq}")
    section.locator("summary").click()  # a <details>: opens without JavaScript
    section.get_by_label("专家评审").check()
    with page.expect_event("load"):
        section.locator("button[name=op][value=pause_clock]").click()
    expect(page.locator(".tb-error-summary")).to_contain_text(
        "请填写预计需要的工作日数：将书面告知申请人")
    expect(page.locator(f"#expected_days-{seq}-error")).to_contain_text("请填写预计需要的工作日数")
    assert _application_clock(run).state == "running"
    section = page.locator(f"#op-pause_clock-{seq}")
    expect(section.get_by_label("专家评审")).to_be_checked()  # the answer is kept
    page.fill(f"#expected_days-{seq}", "10")
    with page.expect_event("load"):
        section.locator("button[name=op][value=pause_clock]").click()
    expect(page.locator("#time-limit")).to_contain_text("专家评审 · 预计需要 10 个工作日")
    assert _application_clock(run).state == "paused"
    with db.new_session(demo.extensions["tongban.engine"]) as session:
        row = session.get(FlowDeadline, _application_clock(run).id)
        assert row is not None and row.data.get("expected_days") == 10
