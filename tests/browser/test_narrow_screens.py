"""Issue 10, section 4: pages fit a 360 px wide phone, 长辈版 text grows, the favicon is there.

Every page of the three demo journeys (guides, sign-in, task list, each question page, file
uploads before and after a file is attached, check answers, confirmation, your applications)
is opened at 360 px in standard and 长辈版, Chinese and English: none may scroll sideways.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows, helpers
except ImportError:
    import helpers  # type: ignore[no-redef]

    import flows  # type: ignore[no-redef]

NARROW = {"viewport": {"width": 360, "height": 740}}

VARIANTS = [("zh_CN", False), ("zh_CN", True), ("en", False), ("en", True)]

# What sticks out past the right edge, deepest elements first (for the failure message): an
# element wider than the screen, or one whose text spills past it (a long unbroken line).
OVERFLOW = """() => {
  const root = document.documentElement, width = root.clientWidth;
  const out = [...document.body.querySelectorAll('*')].filter(el => {
    const box = el.getBoundingClientRect();
    const spills = getComputedStyle(el).overflowX === 'visible' &&
      box.left + el.scrollWidth > width + 0.5;
    return box.width > 0 && (box.right > width + 0.5 || spills) &&
      !el.closest('.tb-visually-hidden');
  }).filter((el, _, all) => !all.some(other => other !== el && el.contains(other)));
  return {extra: root.scrollWidth - width,
          culprits: out.slice(0, 3).map(el => el.tagName.toLowerCase() + '.' +
            [...el.classList].join('.') + ' right=' + Math.round(Math.max(
            el.getBoundingClientRect().right, el.getBoundingClientRect().left + el.scrollWidth)))};
}"""


@pytest.fixture
def narrow_page(chromium: Browser, browser_errors: helpers.BrowserErrors) -> Iterator[Page]:
    """A 360x740 phone-sized window, JavaScript on, zh-CN."""
    yield from helpers.new_page(chromium, browser_errors, **NARROW)


def _every_journey_page(page: Page, base: str) -> tuple[list[str], list[str]]:
    """Take the three demo journeys to check answers; return every page's address, and the
    three check-answers pages."""
    urls = [base + "/", base + "/login"]
    urls += [f"{base}/services/{code}" for code in
             ("residence-points", "urban-event-report", "household-transfer")]
    flows.sign_in(page, base)

    flows.start(page, base, "residence-points")
    urls.append(page.url)  # the task list
    flows.open_task(page, "申请人")
    for _page_id, answers in flows.RESIDENCE_PAGES:
        urls.append(page.url)
        flows.answer(page, answers)
    assert flows.current_page_id(page) == "materials"
    materials = page.url
    flows.upload(page, "materials.id_card", "居民身份证正反面扫描件.pdf", flows.PDF,
                 "application/pdf")
    flows.upload(page, "materials.residence_permit", "居住证.pdf", flows.PDF, "application/pdf")
    flows.upload(page, "materials.diploma", "学位证书.png", flows.PNG, "image/png")
    flows.send(page)
    urls.append(materials)  # now with files attached
    checks = [page.url]

    flows.start(page, base, "urban-event-report")
    for _page_id, answers in flows.URBAN_PAGES:
        urls.append(page.url)
        if flows.current_page_id(page) == "photos":
            flows.upload(page, "photos.photo", "现场照片.png", flows.PNG, "image/png")
        flows.answer(page, answers)
    checks.append(page.url)

    flows.start(page, base, "household-transfer")
    if page.url.endswith("/tasks"):
        urls.append(page.url)
        flows.open_task(page, "申请人")
    for _page_id, answers in flows.HOUSEHOLD_PAGES:
        urls.append(page.url)
        flows.answer(page, answers)
    for _ in range(10):  # the pages after the applicant's: members, documents
        if page.url.endswith("/check"):
            break
        urls.append(page.url)
        if flows.current_page_id(page) == "members":
            flows.fill(page, flows.MEMBER)
        elif flows.current_page_id(page) == "materials":
            flows.upload_household_documents(page)
        flows.send(page)
    assert page.url.endswith("/check"), page.url
    checks.append(page.url)

    # The upload pages before any file is attached: a draft left there.
    flows.start(page, base, "residence-points")
    urls.append(page.url.replace("/tasks", "/pages/materials"))
    flows.start(page, base, "urban-event-report")
    urls.append(page.url.replace("/pages/event", "/pages/photos"))
    return urls + checks + [base + "/my"], checks


def _submit_all(page: Page, checks: list[str]) -> list[str]:
    """Send each application from its check-answers page; return the confirmations."""
    confirmations = []
    for check in checks:
        page.goto(check)
        page.check("#declaration")
        page.click("main button:has-text('确认并提交')")
        page.wait_for_url("**/confirmation")
        confirmations.append(page.url)
    return confirmations


def _choose(page: Page, base: str, locale: str, elder: bool) -> None:
    """Set the language and the mode as the header's switches do (on the home page). The
    session is a cookie: no request of the page may still be on its way (the favicon is
    fetched after the load event) when the choice changes it, or its answer would bring the
    old cookie back."""
    page.goto(base + "/", wait_until="networkidle")
    token = page.locator("header input[name=csrf_token]").first.input_value()
    page.request.post(base + "/settings/language",
                      form={"csrf_token": token, "locale": locale, "next": "/"})
    page.request.post(base + "/settings/elder",
                      form={"csrf_token": token, "on": "1" if elder else "0", "next": "/"})
    page.goto(base + "/", wait_until="networkidle")
    expect(page.locator("html")).to_have_attribute("lang", "en" if locale == "en" else "zh-CN")
    assert page.evaluate("document.body.classList.contains('tb-elder')") is elder


def _too_wide(page: Page, base: str, urls: list[str]) -> list[tuple[Any, ...]]:
    """Each page that scrolls sideways in any language and mode: (variant, page, px, what)."""
    wide = []
    for locale, elder in VARIANTS:
        _choose(page, base, locale, elder)
        for url in urls:
            response = page.goto(url)
            assert response is not None and response.ok, (url, response and response.status)
            assert page.url == url, f"{url} sent the browser to {page.url}"
            assert page.evaluate("document.body.classList.contains('tb-elder')") is elder
            found: dict[str, Any] = page.evaluate(OVERFLOW)
            if found["extra"] > 0:
                wide.append((locale, "长辈版" if elder else "standard", url.removeprefix(base),
                             found["extra"], found["culprits"]))
    return wide


def test_no_page_of_any_demo_journey_scrolls_sideways_at_360_px(demo, live_server,
                                                                narrow_page):
    page, base = narrow_page, live_server.url
    urls, checks = _every_journey_page(page, base)
    assert len(urls) > 20, urls
    wide = _too_wide(page, base, urls)
    _choose(page, base, "zh_CN", False)
    confirmations = _submit_all(page, checks)
    wide += _too_wide(page, base, confirmations)
    assert wide == [], "\n".join(map(str, wide))


def test_the_intro_paragraph_of_a_service_guide_grows_in_the_elderly_friendly_version(
        demo, live_server, page):
    base = live_server.url

    def sizes() -> tuple[float, float]:
        """The intro's and the body text's font sizes in px."""
        page.goto(base + "/services/residence-points")
        intro = page.locator("main .tb-body-l").first
        expect(intro).to_be_visible()
        return (float(intro.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")),
                float(page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")))

    standard_intro, standard_body = sizes()
    _choose(page, base, "zh_CN", True)
    elder_intro, elder_body = sizes()
    assert elder_intro > standard_intro, (standard_intro, elder_intro)
    # A lead paragraph stays larger than the text around it in both versions.
    assert standard_intro > standard_body and elder_intro > elder_body, (elder_intro, elder_body)


def test_every_page_names_a_favicon_that_is_served(demo, live_server, page):
    base = live_server.url
    page.goto(base + "/")
    icons = page.locator("head link[rel~=icon]")
    expect(icons).not_to_have_count(0)
    for href in icons.evaluate_all("links => links.map(l => l.href)"):
        response = page.request.get(href)
        assert response.status == 200, href
        assert response.headers["content-type"].startswith("image/"), href
    response = page.request.get(base + "/favicon.ico")
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/")
