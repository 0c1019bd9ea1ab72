"""Issue 10, section 4: answers typed at a person's speed with JavaScript on are saved as typed.

The inline check that runs on leaving a box must never replace a box the person is in or has
typed into since the check was sent. Each test here types every date, region and ID-number
question of a demo form key by key, 50-200 ms apart (a fixed seed), and reads the answers back
on check answers.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows
except ImportError:
    import flows  # type: ignore[no-redef]
try:
    from . import helpers
except ImportError:
    import helpers  # type: ignore[no-redef]

# How late the server answers an inline check or a region list here: a busy server's time,
# long enough that the answer comes back while the next box is being typed into.
CHECK_DELAY_S = 0.3


class SlowChecks:
    """WSGI middleware: answers inline checks and region lists late, as a loaded server does."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.endswith("/field") or path.startswith("/regions"):
            time.sleep(CHECK_DELAY_S)
        return self.app(environ, start_response)


@pytest.fixture
def slow_server(app: Any) -> Iterator[helpers.LiveServer]:
    with helpers.serve(SlowChecks(app)) as server:
        yield server


class Typist:
    """Presses keys one at a time with a person's pauses between them (50-200 ms)."""

    def __init__(self, page: Page, seed: int) -> None:
        self.page = page
        self.random = random.Random(seed)

    def pause(self) -> None:
        self.page.wait_for_timeout(self.random.randint(50, 200))

    def press(self, key: str, times: int = 1) -> None:
        for _ in range(times):
            self.page.keyboard.press(key)
            self.pause()

    def type(self, text: str) -> None:
        """Type ``text``; a tab character presses Tab."""
        for char in text:
            if char == "\t":
                self.page.keyboard.press("Tab")
            else:
                self.page.keyboard.type(char)  # any character, as an input method sends it
            self.pause()

    def into(self, selector: str, text: str) -> None:
        """Click into a box and type."""
        self.page.click(selector)
        self.pause()
        self.type(text)

    def choose(self, select: str, value: str) -> None:
        """Move through a closed list with the arrow keys to ``value``, as a keyboard user does
        (each step changes the answer and, with htmx, asks for the lists below)."""
        locator = self.page.locator(select)
        expect(locator).to_be_enabled()
        expect(locator.locator(f'option[value="{value}"]')).to_have_count(1)
        locator.focus()
        values = locator.evaluate("s => [...s.options].map(o => o.value)")
        steps = values.index(value) - values.index(locator.input_value())
        self.press("ArrowDown" if steps > 0 else "ArrowUp", abs(steps))

    def region(self, name: str, code: str) -> None:
        """Province, Tab, city, Tab, district, each chosen with the arrow keys."""
        self.choose(f'select[name="{name}:province"]', code[:2] + "0000")
        self.press("Tab")
        self.choose(f'select[name="{name}:city"]', code[:4] + "00")
        self.press("Tab")
        self.choose(f'select[name="{name}:district"]', code)
        self.press("Tab")


def _check_answers(page: Page) -> list[tuple[str, str]]:
    """Check answers as (question, answer) rows, each question named "section: question"."""
    rows = page.locator(".tb-summary-list__row")
    return [(rows.nth(i).locator(".tb-summary-list__key").inner_text().strip(),
             rows.nth(i).locator(".tb-summary-list__value").inner_text().strip())
            for i in range(rows.count())]


def _answer(rows: list[tuple[str, str]], question: str) -> str:
    found = [value for key, value in rows if key.endswith(": " + question)]
    assert len(found) == 1, rows
    return found[0].splitlines()[0]  # the answer; a line under it may say where it came from


def test_a_date_and_a_region_typed_at_human_speed_are_saved_as_typed(demo, slow_server, page):
    base = slow_server.url
    flows.sign_in(page, base)
    flows.start(page, base, "urban-event-report")
    typist = Typist(page, seed=10)
    assert flows.current_page_id(page) == "event"
    page.check('[name="event.category"][value="facilities"]')
    page.check('[name="event.facility_kind"][value="manhole"]')
    # The issue's own keys: 2025 Tab 12 Tab 15 (the year box checked on leaving it while the
    # month is typed, the month while the day is).
    typist.into("#f-event-happened_on-year", "2025\t12\t15\t")
    typist.into("#f-event-description", "人行道上的窨井盖缺失，有人险些踩空。")
    for part, typed in {"year": "2025", "month": "12", "day": "15"}.items():
        expect(page.locator(f"#f-event-happened_on-{part}")).to_have_value(typed)
    flows.send(page)

    assert flows.current_page_id(page) == "location"
    typist.region("location.region", "310104")
    typist.into("#f-location-address", "漕溪北路 100 号门口")
    flows.send(page)
    assert flows.current_page_id(page) == "photos"
    flows.send(page)
    flows.answer(page, {"reporter.anonymous": "true"})
    assert page.url.endswith("/check"), page.url

    answers = _check_answers(page)
    assert _answer(answers, "发现日期") == "2025年12月15日"
    assert _answer(answers, "所在区域") == "上海市 徐汇区"


def test_id_numbers_and_a_region_typed_at_human_speed_are_saved_as_typed(demo, slow_server,
                                                                         page):
    base = slow_server.url
    flows.sign_in(page, base)
    flows.start(page, base, "household-transfer")
    typist = Typist(page, seed=11)
    if page.url.endswith("/tasks"):
        flows.open_task(page, "申请人")
    assert flows.current_page_id(page) == "applicant"
    applicant_id = flows.id_number("31011519850101002")
    typist.into("#f-applicant-name", "李四")
    typist.press("Tab")
    typist.type(applicant_id + "\t13900001111\t")
    expect(page.locator("#f-applicant-id_number")).to_have_value(applicant_id)
    flows.send(page)

    assert flows.current_page_id(page) == "transfer"
    page.check('[name="transfer.reason"][value="family"]')
    typist.region("transfer.from_region", "320102")
    flows.fill(page, {"transfer.from_address": "玄武区中山路 1 号",
                      "transfer.to_address": "浦东新区世纪大道 100 号",
                      "transfer.to_postal_code": "200120"})
    page.check('[name="transfer.with_family"][value="true"]')
    flows.send(page)

    assert flows.current_page_id(page) == "members"
    member_id = flows.id_number("31011520100101003")
    typist.into("#f-members-0-name", "李小四")
    page.check('[name="members.0.relation"][value="child"]')
    typist.into("#f-members-0-id_number", member_id + "\t")
    expect(page.locator("#f-members-0-id_number")).to_have_value(member_id)
    flows.send(page)
    flows.send_to_check(page)

    answers = _check_answers(page)
    assert _answer(answers, "迁出地") == "江苏省 南京市 玄武区"
    assert [v for _, v in answers].count(applicant_id) == 1
    assert [v for _, v in answers].count(member_id) == 1


def test_the_conditional_date_of_residence_points_typed_at_human_speed_is_saved_as_typed(
        demo, slow_server, page):
    base = slow_server.url
    flows.sign_in(page, base)
    flows.start(page, base, "residence-points")
    typist = Typist(page, seed=12)
    flows.open_task(page, "申请人")
    applicant = dict(flows.RESIDENCE_PAGES[0][1])
    del applicant["applicant.id_number"]
    flows.fill(page, applicant)
    typist.into("#f-applicant-id_number", flows.VALID_ID + "\t")
    expect(page.locator("#f-applicant-id_number")).to_have_value(flows.VALID_ID)
    flows.send(page)
    flows.answer(page, flows.RESIDENCE_PAGES[1][1])
    assert flows.current_page_id(page) == "qualification"
    page.check('[name="qualification.kind"][value="title"]')
    page.check('[name="qualification.title_level"][value="intermediate"]')
    typist.into("#f-qualification-certificate_date-year", "2019\t6\t30\t")
    for part, typed in {"year": "2019", "month": "6", "day": "30"}.items():
        expect(page.locator(f"#f-qualification-certificate_date-{part}")).to_have_value(typed)
    flows.send(page)
    assert flows.current_page_id(page) != "qualification", flows.inline_errors(page)
    page.goto(page.url.rsplit("/pages/", 1)[0] + "/check")
    assert _answer(_check_answers(page), "证书取得日期") == "2019年6月30日"
