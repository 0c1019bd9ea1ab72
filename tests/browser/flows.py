"""Steps of the demo journeys as a person takes them in the browser: sign in, start a service,
answer a page, send it. Shared by the journey, accessibility and elder-mode tests.

Answers are given as ``{field name: value}``, the same shape as the test-client journeys in
``tests/web/journey.py``, so both suites fill the forms with the same data.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect
from tests.web.journey import PDF, PNG, RESIDENCE_PAGES, VALID_ID, id_number

__all__ = ["PDF", "PNG", "RESIDENCE_PAGES", "VALID_ID", "id_number"]

DEMO_PASSWORD = "tongban-demo-2026"
PAGE_URL = re.compile(r"/apply/(?P<token>[^/]+)/pages/(?P<page>[^/?#]+)")
DRAFT_URL = re.compile(r"/apply/(?P<token>[^/]+)/(pages/[^/?#]+|tasks)")

URBAN_PAGES: list[tuple[str, dict[str, str]]] = [
    ("event", {"event.category": "facilities", "event.facility_kind": "manhole",
               "event.description": "人行道上的窨井盖缺失，有人险些踩空。"}),
    ("location", {"location.region": "310104", "location.address": "漕溪北路 100 号门口"}),
    ("photos", {}),
    ("reporter", {"reporter.anonymous": "false", "reporter.name": "王五",
                  "reporter.mobile": "13900001111"}),
]

HOUSEHOLD_PAGES: list[tuple[str, dict[str, str]]] = [
    ("applicant", {"applicant.name": "李四", "applicant.id_number": id_number("31011519850101002"),
                   "applicant.mobile": "13900001111"}),
    ("transfer", {"transfer.reason": "family", "transfer.from_region": "320102",
                  "transfer.from_address": "玄武区中山路 1 号",
                  "transfer.to_address": "浦东新区世纪大道 100 号",
                  "transfer.to_postal_code": "200120", "transfer.with_family": "true"}),
]


MEMBER = {"members.0.name": "李小四", "members.0.relation": "child",
          "members.0.id_number": id_number("31011520100101003")}


def add_another(page: Page) -> None:
    """Press "再添加一个…" and wait for the new item: htmx swaps the group in with
    JavaScript, the page comes back without it."""
    items = page.locator(".tb-repeatable__item")
    before = items.count()
    page.click("button:has-text('再添加一个')")
    expect(items).to_have_count(before + 1)


def type_like_a_person(page: Page, selector: str, text: str, delay_ms: int = 20) -> None:
    """Empty the field and type ``text`` a key at a time, each key its own event."""
    field = page.locator(selector)
    field.fill("")
    field.press_sequentially(text, delay=delay_ms)


def sign_in(page: Page, base: str, username: str = "citizen") -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("main button:has-text('登录')")
    expect(page.locator(".tb-header__user")).to_be_visible()


def start(page: Page, base: str, code: str) -> str:
    """Open the service guide, press 开始办理, and return the draft's token. A long
    application opens on its task list, a short one on its first question page."""
    page.goto(f"{base}/services/{code}")
    page.click("main button:has-text('开始办理')")
    page.wait_for_url(DRAFT_URL)
    match = DRAFT_URL.search(page.url)
    assert match, page.url
    return match["token"]


def open_task(page: Page, title: str) -> None:
    """On the task list, follow the named task's link."""
    assert page.url.endswith("/tasks"), page.url
    with page.expect_event("load"):
        page.click(f".tb-task-list a:text-is('{title}')")


def current_page_id(page: Page) -> str | None:
    match = PAGE_URL.search(page.url)
    return match["page"] if match else None


def fill(page: Page, answers: dict[str, Any]) -> None:
    """Answer the questions named in ``answers``: radios are chosen by value, selects by
    value, regions through their lists, everything else is typed."""
    for name, value in answers.items():
        if page.locator(f'select[name="{name}:province"]').count():
            choose_region(page, name, str(value))
            continue
        field = page.locator(f'[name="{name}"]')
        kind = field.first.evaluate("el => el.type || el.tagName.toLowerCase()")
        if kind == "radio" or kind == "checkbox":
            page.check(f'[name="{name}"][value="{value}"]')
        elif kind.startswith("select"):
            field.select_option(str(value))
        else:
            field.fill(str(value))


def send(page: Page) -> None:
    """Press 继续 and wait for whatever page the server answers with. (Waiting for a new
    document's load, not for "a navigation": that also counts same-document changes, as when
    htmx settles a field checked on leaving it.)"""
    with page.expect_event("load"):
        page.click("form[data-tb-form] button[value=continue]")


def answer(page: Page, answers: dict[str, Any]) -> None:
    fill(page, answers)
    send(page)


def upload(page: Page, name: str, filename: str, content: bytes, mime: str) -> None:
    page.set_input_files(f'input[type=file][name="{name}"]',
                         files=[{"name": filename, "mimeType": mime, "buffer": content}])


def upload_household_documents(page: Page) -> None:
    """The three documents the household-transfer guide requires, as uploads."""
    for name, filename in (("materials.id_card", "身份证.pdf"),
                           ("materials.hukou_booklet", "户口簿.pdf"),
                           ("materials.approval_letter", "准予迁入证明.pdf")):
        upload(page, name, filename, PDF, "application/pdf")


def send_to_check(page: Page, member: dict[str, str] | None = None) -> None:
    """Send the remaining pages of a household-transfer application until check answers,
    uploading its documents (and filling a family member when given) where they are asked.
    Bounded: a page that keeps refusing fails here rather than looping for ever."""
    for _ in range(10):
        if page.url.endswith("/check"):
            return
        if current_page_id(page) == "materials":
            upload_household_documents(page)
        elif current_page_id(page) == "members" and member is not None:
            fill(page, member)
        send(page)
    raise AssertionError(f"never reached check answers; stuck on {page.url}")


def choose_region(page: Page, name: str, code: str) -> None:
    """Answer a region question with a 6-digit code: province, city and district lists (with
    JavaScript each list fills the next; without it "选择下一级" sends the page), or a plain
    text box in older renderings."""
    text_box = page.locator(f'input[type=text][name="{name}"]')
    if text_box.count():
        text_box.fill(code)
        return
    wanted = {"province": code[:2] + "0000", "city": code[:4] + "00", "district": code}
    for level, value in wanted.items():
        select = page.locator(f'select[name="{name}:{level}"]')
        if value == code and level != "district":
            break
        if not select.count():
            continue  # a level without lists (the chosen region has nothing below it)
        expect(select).to_be_enabled()
        if select.input_value() != value:
            select.select_option(value)
        next_button = page.locator(f'button[value="region:{name}"]')
        if level != "district" and next_button.count() and next_button.is_visible():
            with page.expect_event("load"):
                next_button.click()


def fill_residence_up_to_materials(page: Page) -> None:
    """Every residence-points page before the uploads, with the test-client journey's answers."""
    for page_id, answers in RESIDENCE_PAGES:
        assert current_page_id(page) == page_id, page.url
        answer(page, answers)
    assert current_page_id(page) == "materials", page.url


def error_summary_items(page: Page) -> list[str]:
    return [t.strip() for t in page.locator(".tb-error-summary__list li").all_inner_texts()]


def inline_errors(page: Page) -> list[str]:
    """Inline messages without their visually hidden 错误： prefix."""
    return [re.sub(r"^(错误|Error)[:：]\s*", "", t.strip())
            for t in page.locator(".tb-error-message").all_inner_texts()]


def a_notification_for(app: Any, username: str, *, state: str) -> None:
    """A notification row for ``username`` (issue 15 item 5), as the worker leaves it."""
    from sqlalchemy import select

    from tongban import db
    from tongban.models import Notification, User

    with db.new_session(app.extensions["tongban.engine"]) as session, db.unit_of_work(session):
        user = session.scalars(select(User).where(User.username == username)).one()
        session.add(Notification(
            key=f"submitted:axe:{user.id}:{state}", kind="submitted", reference="AXE-1",
            user_id=user.id, channel="site" if state == "sent" else "sms",
            recipient=str(user.id) if state == "sent" else "123", language="zh",
            subject="您的申请已提交（AXE-1）", body="您的申请已提交。查看进度：{link}",
            link="/my/applications/AXE-1", state=state, attempts=1,
            last_error="" if state == "sent" else "not a phone number: '123'"))
