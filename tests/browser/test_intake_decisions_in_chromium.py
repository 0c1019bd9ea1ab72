"""Issue 17 items 3 and 4 in headless Chromium, with JavaScript on and off: a person takes a queue
number at the kiosk giving their reference; the clerk sits at window A, calls the number, opens
the intake task from it, accepts with a material to follow (容缺受理) and a due day, and prints
the receipt (its QR code and PDF); the applicant uploads the material on their page and the
hold lifts. axe on the main pages; the applicant's page at 360 px without sideways scrolling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from tongban.worktime import TZ

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from ..web import review_world
    from ..web.test_intake_decisions import PDF_1, _start
    from . import flows
    from .axe import assert_clean
    from .test_narrow_screens import OVERFLOW
except ImportError:
    from axe import assert_clean  # type: ignore[no-redef]
    from test_narrow_screens import OVERFLOW  # type: ignore[no-redef]
    from tests.web import review_world  # type: ignore[no-redef]
    from tests.web.test_intake_decisions import PDF_1, _start  # type: ignore[no-redef]

    import flows  # type: ignore[no-redef]


def test_a_clerk_calls_a_number_accepts_with_a_material_to_follow_and_the_applicant_brings_it(
        demo, live_server, browser_page, screenshot) -> None:  # type: ignore[no-untyped-def]
    review_world.forget_compiled_flows()
    page, js = browser_page
    run = _start(demo)
    base = live_server.url
    due = (datetime.now(UTC).astimezone(TZ).date() + timedelta(days=5)).isoformat()

    # The kiosk: a number for window A, with the reference of the application made online.
    page.goto(f"{base}/queue")
    page.check("#window")
    page.fill("#reference", run.reference)
    with page.expect_navigation():
        page.get_by_role("button", name="取号").click()
    expect(page.locator("#ticket-number")).to_have_text("A001")
    if js:
        assert_clean(page)

    # The clerk sits at window A and calls it.
    flows.sign_in(page, base, "clerk")
    with page.expect_navigation():
        page.get_by_role("link", name="窗口叫号").click()
    page.select_option("#window", "A")
    with page.expect_navigation():
        page.get_by_role("button", name="在此窗口办公").click()
    with page.expect_navigation():
        page.get_by_role("button", name="呼叫下一号").click()
    expect(page.locator("#now-serving")).to_have_text("A001")
    if js:
        assert_clean(page)
    with page.expect_navigation():
        page.click("#serve-task")

    # 容缺受理: the identity card follows within five days.
    page.click("#op-accept_deficient summary")
    page.check("#op-accept_deficient input[value='id-card']")
    page.fill("#due", due)
    page.fill("#accept_deficient-comment", "身份证原件后补")
    if js:
        assert_clean(page)
    with page.expect_navigation():
        page.click("#op-accept_deficient button[value=accept_deficient]")
    expect(page.locator("#intake-hold")).to_contain_text(due)
    with page.expect_navigation():
        page.get_by_role("link", name="打印受理回执").click()
    main = page.locator("main")
    expect(main.locator("h1")).to_have_text("受理回执")
    expect(main).to_contain_text("容缺受理")
    expect(main).to_contain_text("居民身份证")
    expect(page.locator("img.tb-document__qr")).to_be_visible()
    assert page.request.get(f"{base}/review/applications/{run.reference}/receipt.pdf").body() \
        .startswith(b"%PDF")
    if js:
        assert_clean(page)
    screenshot(page, "receipt-js" if js else "receipt-nojs")

    # The applicant brings the material on their page: the hold lifts.
    page.context.clear_cookies()
    flows.sign_in(page, base, "citizen")
    page.goto(f"{base}/my/applications/{run.reference}")
    expect(page.locator("#materials-to-bring")).to_contain_text("居民身份证")
    if js:
        assert_clean(page)
    page.set_input_files("#material-1", files=[{
        "name": "身份证.pdf", "mimeType": "application/pdf", "buffer": PDF_1}])
    with page.expect_navigation():
        page.get_by_role("button", name="上传居民身份证").click()
    expect(page.locator("main [role=status]")).to_contain_text("材料已收到")
    expect(page.locator("#materials-to-bring")).to_contain_text("已全部收到")
    expect(page.locator("main")).to_contain_text("承诺补交的材料已收到")

    page.set_viewport_size({"width": 360, "height": 800})
    page.reload()
    found = page.evaluate(OVERFLOW)
    assert found["extra"] <= 0, f"the applicant's page scrolls sideways at 360 px: {found}"
    screenshot(page, "applicant-360-js" if js else "applicant-360-nojs")
