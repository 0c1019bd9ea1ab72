"""Issue 17 item 8 in headless Chromium: a signed-in citizen finds 新生儿出生一件事 on the
portal, gives the shared details once, answers each service's own question, sends one
application and reads one receipt; the combined progress page shows the household
registration and the card waiting for what they need. JavaScript on and off, axe on each main
page; the progress page at 360 px does not scroll sideways."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from ..web.test_bundles import MOTHER_ID, apply_for_newborn
    from . import flows, helpers
    from .axe import assert_clean
    from .test_narrow_screens import NARROW, OVERFLOW
except ImportError:
    import helpers  # type: ignore[no-redef]
    from axe import assert_clean  # type: ignore[no-redef]
    from test_narrow_screens import NARROW, OVERFLOW  # type: ignore[no-redef]
    from tests.web.test_bundles import MOTHER_ID, apply_for_newborn  # type: ignore[no-redef]

    import flows  # type: ignore[no-redef]

OWN_ANSWERS = {
    "出生医学证明申领": {"birth.hospital": "上海市第一妇婴保健院"},
    "新生儿出生登记": {"household.district": "310104", "household.address": "徐汇区漕溪北路 1 号"},
    "社会保障卡申领": {"card.pickup": "post"},
}


@pytest.fixture
def narrow_page(chromium: Browser, browser_errors: helpers.BrowserErrors) -> Iterator[Page]:
    yield from helpers.new_page(chromium, browser_errors, **NARROW)


def _status(page: Page, code: str) -> str:
    return page.locator(f'[data-part-status="{code}"]').inner_text()


def test_a_citizen_applies_once_and_sees_the_dependent_services_waiting(
        demo, live_server, browser_page, screenshot) -> None:  # type: ignore[no-untyped-def]
    page, js = browser_page
    base = live_server.url
    flows.sign_in(page, base)
    page.goto(base + "/?event=birth")
    with page.expect_event("load"):
        page.get_by_role("link", name="新生儿出生一件事").click()
    expect(page.locator("main h1")).to_have_text("新生儿出生一件事")
    expect(page.locator("#bundle-services li")).to_have_count(3)
    if js:
        assert_clean(page)
    with page.expect_event("load"):
        page.click("main button:has-text('开始办理')")
    with page.expect_event("load"):
        page.get_by_role("link", name="共同信息（各事项只填一次）").click()
    expect(page.locator("main h1")).to_have_text("新生儿信息")
    flows.answer(page, {"child.name": "张小宝", "child.sex": "female",
                        "child.birth_date:year": "2026", "child.birth_date:month": "11",
                        "child.birth_date:day": "20"})
    expect(page.locator("main h1")).to_have_text("母亲信息")
    if js:
        assert_clean(page)
    flows.answer(page, {"mother.name": "李丽", "mother.id_number": MOTHER_ID,
                        "mother.mobile": "13812345678"})
    expect(page.locator("#tb-task-shared-status")).to_have_text("已完成")
    for service, answers in OWN_ANSWERS.items():
        with page.expect_event("load"):
            page.get_by_role("link", name=service).click()
        flows.answer(page, answers)  # only the service's own question: then back to the bundle
    expect(page.locator("main h1")).to_have_text("提交申请前请核对您的信息")
    expect(page.locator("main")).to_contain_text("张小宝")
    if js:
        assert_clean(page)
    page.check("#declaration")
    with page.expect_event("load"):
        page.click("main button:has-text('确认并提交')")
    expect(page.locator("#bundle-reference")).to_be_visible()
    with page.expect_event("load"):
        page.click("#follow-bundle")
    expect(page.locator("main h1")).to_have_text("新生儿出生一件事办理进度")
    assert _status(page, "birth-certificate") == "审核中"  # accepted at once: under review
    assert _status(page, "newborn-household") == "等待出生医学证明申领"
    assert _status(page, "social-security-card") == "等待出生医学证明申领、新生儿出生登记"
    expect(page.locator("#part-newborn-household + dl")).to_contain_text("上海市公安局")
    if js:
        assert_clean(page)
    screenshot(page, "bundle-progress-js" if js else "bundle-progress-nojs")


def test_the_progress_page_fits_360_px(demo, live_server, narrow_page,  # type: ignore[no-untyped-def]
                                       screenshot) -> None:
    client = demo.test_client()  # the application itself is made through the test client
    _client_sign_in(client)
    reference = apply_for_newborn(client)
    page = narrow_page
    flows.sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/my/bundles/{reference}")
    expect(page.locator("[data-part-status]")).to_have_count(3)
    found = page.evaluate(OVERFLOW)
    assert found["extra"] <= 0, f"the progress page scrolls sideways at 360 px: {found}"
    screenshot(page, "bundle-progress-360")


def _client_sign_in(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token
    response = client.post("/login", data={"username": "citizen", "password": flows.DEMO_PASSWORD,
                                           "csrf_token": token.group(1)})
    assert response.status_code == 302
