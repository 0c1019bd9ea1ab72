"""长辈版 (elderly-friendly mode) and the sizes every page keeps, measured in the rendered page.

The yardstick is the MIIT 适老化 specification (reference/cn-gov-service-rules.md §8): in 长辈版
body text at least 18 px, line height at least 1.3 times the font size, targets at least
60x60 px and text contrast at least 4.5:1; in the standard version targets at least 44x44 px.
Also: nothing scrolls sideways at 200% zoom, the keyboard alone completes a page, and no pop-up
or dialog ever appears.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows
except ImportError:
    import flows  # type: ignore[no-redef]

Measure = Callable[[Page, str], list[dict[str, Any]]]

ELDER_TARGET, STANDARD_TARGET = 60, 44
MIN_ELDER_TEXT, MIN_LINE_HEIGHT, MIN_CONTRAST = 18, 1.3, 4.5
# Whatever a person presses, chooses or types in: buttons, fields, radio and checkbox inputs
# and their labels (the label is part of the target), links in the page body and the header.
TARGETS = ", ".join([
    "header a", "header button", "main a", "main button", "main select", "main textarea",
    "main input:not([type=hidden])", "main .tb-radios__label", "main .tb-checkboxes__label"])
TEXT = ", ".join(f"main {tag}" for tag in (
    "p", "li", "label", "legend", "dt", "dd", "td", "th", ".tb-hint", ".tb-error-message",
    ".tb-caption", ".tb-caption-l"))
SUB_PIXEL = 0.01  # 44 px computed as calc() may come back as 43.995


def _shown(measured: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Leave out what is not drawn (hidden questions, visually hidden text)."""
    return [m for m in measured if m["width"] > 1 and m["height"] > 1]


class SizeAudit:
    """Measures each page visited and keeps every shortfall, with the smallest values seen."""

    def __init__(self, page: Page, measure: Measure, elder: bool):
        self.page, self.measure, self.elder = page, measure, elder
        self.target = ELDER_TARGET if elder else STANDARD_TARGET
        self.problems: list[str] = []
        self.pages: list[str] = []
        self.smallest: dict[str, float] = {}

    def _low(self, what: str, value: float) -> None:
        self.smallest[what] = round(min(self.smallest.get(what, value), value), 2)

    def check(self, name: str) -> None:
        page = self.page
        self.pages.append(name)
        if self.elder:
            assert page.locator("body.tb-elder").count() == 1, f"{name}: 长辈版 was lost"
        for m in _shown(self.measure(page, TARGETS)):
            label = f"{name}: <{m['tag']}> {m['text'][:24]!r}"
            self._low("target width", m["width"])
            self._low("target height", m["height"])
            if min(m["width"], m["height"]) < self.target - SUB_PIXEL:
                self.problems.append(f"{label} is {m['width']:.0f}x{m['height']:.0f} px, "
                                     f"under {self.target}x{self.target}")
            if m["text"] and not m["background_image"]:
                self._contrast(label, m)
        [body] = self.measure(page, "body")
        if self.elder and body["font_size"] < MIN_ELDER_TEXT:
            self.problems.append(f"{name}: body text is {body['font_size']} px")
        for m in _shown(self.measure(page, TEXT)):
            label = f"{name}: <{m['tag']}> {m['text'][:24]!r}"
            self._low("text size", m["font_size"])
            self._low("line height / size", m["line_height"] / m["font_size"])
            if self.elder and m["font_size"] < MIN_ELDER_TEXT:
                self.problems.append(f"{label} text is {m['font_size']} px")
            if self.elder and m["line_height"] < MIN_LINE_HEIGHT * m["font_size"] - SUB_PIXEL:
                self.problems.append(f"{label} line height {m['line_height']} px for "
                                     f"{m['font_size']} px text")
            self._contrast(label, m)

    def _contrast(self, label: str, m: dict[str, Any]) -> None:
        self._low("contrast", m["contrast"])
        if m["contrast"] < MIN_CONTRAST:
            self.problems.append(f"{label} contrast {m['contrast']} ({m['color']} on "
                                 f"{m['background']})")

    def assert_ok(self) -> None:
        mode = "长辈版" if self.elder else "标准版"
        print(f"\n{mode}: {len(self.pages)} pages measured; smallest: {self.smallest}")
        assert not self.problems, "\n".join(self.problems)


def _switch_to_elder(page: Page, base: str) -> None:
    page.goto(base + "/")
    with page.expect_event("load"):
        page.click("header button:has-text('长辈版')")
    expect(page.locator("body")).to_have_class("tb-elder")


def _walk(page: Page, base: str, visit: Callable[[str], None]) -> None:
    """Every kind of page a citizen meets: lists and guides, sign-in, each widget (radios,
    conditional questions, dates, text areas, region lists, file uploads, repeatable groups),
    an error state, check answers, the declaration's error and the confirmation."""
    page.goto(base + "/")
    visit("service list")
    page.goto(base + "/services/urban-event-report")
    visit("service guide")
    flows.start(page, base, "urban-event-report")
    flows.send(page)
    visit("event, error state")
    flows.fill(page, {"event.category": "environment"})
    expect(page.locator("#f-event-environment_kind-group")).to_be_visible()
    visit("event, conditional question shown")
    flows.answer(page, {"event.environment_kind": "garbage",
                        "event.description": flows.URBAN_PAGES[0][1]["event.description"]})
    visit("location")
    flows.answer(page, flows.URBAN_PAGES[1][1])
    visit("photos")
    flows.send(page)
    visit("reporter")
    flows.answer(page, flows.URBAN_PAGES[3][1])
    visit("check answers")
    with page.expect_navigation():  # the page with the declaration's error
        page.click("button:has-text('确认并提交')")
    visit("check answers, declaration error")
    page.check("#declaration")
    page.click("button:has-text('确认并提交')")
    page.wait_for_url("**/confirmation")
    visit("confirmation")

    page.goto(base + "/login")
    visit("sign in")
    flows.sign_in(page, base)
    flows.start(page, base, "residence-points")
    visit("task list")
    flows.open_task(page, "申请人")
    visit("applicant")
    page.goto(page.url.replace("/applicant", "/qualification"))
    flows.fill(page, {"qualification.kind": "skill"})
    visit("qualification")
    page.goto(page.url.replace("/qualification", "/materials"))
    visit("materials")

    flows.start(page, base, "household-transfer")
    for _page_id, answers in flows.HOUSEHOLD_PAGES:
        flows.answer(page, answers)
    flows.fill(page, flows.MEMBER)
    flows.add_another(page)
    visit("members, add and remove buttons")
    page.goto(base + "/my")
    visit("your applications")


# --------------------------------------------------------------------------- the switch


def test_elder_mode_is_switched_on_in_the_header_and_kept_across_pages(demo, live_server, page):
    base = live_server.url
    _switch_to_elder(page, base)
    expect(page.locator("header button:has-text('标准版')")).to_be_visible()

    page.goto(base + "/services/residence-points")
    expect(page.locator("body")).to_have_class("tb-elder")
    flows.sign_in(page, base)  # a new session on sign-in keeps the visitor's choice
    expect(page.locator("body")).to_have_class("tb-elder")
    flows.start(page, base, "residence-points")
    expect(page.locator("body")).to_have_class("tb-elder")

    with page.expect_event("load"):
        page.click("header button:has-text('标准版')")
    assert "/apply/" in page.url, "switching back should stay on the same page"
    expect(page.locator("body")).not_to_have_class("tb-elder")
    expect(page.locator("header button:has-text('长辈版')")).to_be_visible()


# --------------------------------------------------------------------------- sizes, no pop-ups


@pytest.fixture
def interruptions(page: Page) -> Iterator[list[str]]:
    """Every alert, confirm, prompt, new window or tab the page opens."""
    seen: list[str] = []
    page.on("dialog", lambda dialog: (seen.append(f"{dialog.type}: {dialog.message}"),
                                      dialog.dismiss()))
    page.context.on("page", lambda new: seen.append(f"new window: {new.url}"))
    yield seen



@pytest.mark.parametrize("elder", [True, False], ids=["elder", "standard"])
def test_text_targets_and_contrast_are_big_enough_and_nothing_pops_up(
        demo, live_server, page, measure, interruptions, elder):
    audit = SizeAudit(page, measure, elder)
    overlays: list[str] = []

    def visit(name: str) -> None:
        audit.check(name)
        shown = page.locator("dialog[open], [role=dialog], [role=alertdialog], [aria-modal=true]")
        if shown.count():
            overlays.append(f"{name}: {shown.first.evaluate('el => el.outerHTML.slice(0, 80)')}")

    if elder:
        _switch_to_elder(page, live_server.url)
    _walk(page, live_server.url, visit)
    audit.assert_ok()
    # 适老化: no pop-up of any kind (alert, confirm, new window, modal dialog) on any page.
    assert interruptions == []
    assert overlays == []


# --------------------------------------------------------------------------- 200% zoom


@pytest.mark.parametrize("elder", [True, False], ids=["elder", "standard"])
def test_form_pages_do_not_scroll_sideways_at_200_percent_zoom(
        demo, live_server, zoomed_page, screenshot, elder):
    page = zoomed_page
    too_wide: list[str] = []

    def visit(name: str) -> None:
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if width[0] > width[1]:
            widest = page.evaluate("""() => [...document.querySelectorAll('body *')]
                .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
                .slice(-3).map((el) => el.tagName.toLowerCase() + '.' + el.className)""")
            too_wide.append(f"{name}: {width[0]} px wide in a {width[1]} px window; {widest}")
            screenshot(page, name.replace(" ", "-"))

    if elder:
        _switch_to_elder(page, live_server.url)
    _walk(page, live_server.url, visit)
    assert page.viewport_size == {"width": 640, "height": 450}
    assert not too_wide, "\n".join(too_wide)


# --------------------------------------------------------------------------- keyboard


def _tab_to(page: Page, selector: str, limit: int = 40) -> int:
    """Press Tab until the focus is on ``selector``; return how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return presses
    raise AssertionError(f"Tab never reached {selector}")


def _focus_is_visible(page: Page) -> bool:
    return bool(page.evaluate("""() => {
        const style = getComputedStyle(document.activeElement);
        return (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2)
            || style.boxShadow !== 'none';
    }"""))


def test_the_keyboard_alone_completes_a_page(demo, live_server, browser_page):
    page, js = browser_page
    base = live_server.url
    page.goto(base + "/services/urban-event-report")
    _tab_to(page, "main button")
    with page.expect_event("load"):
        page.keyboard.press("Enter")
    assert flows.current_page_id(page) == "event"

    _tab_to(page, 'input[name="event.category"]')
    assert _focus_is_visible(page)
    page.keyboard.press("Space")  # the first category, 市容环境
    expect(page.locator('[name="event.category"][value="environment"]')).to_be_checked()
    if js:
        # The inline check swaps the question's HTML; the focus must stay where it was.
        page.wait_for_load_state("networkidle")
        expect(page.locator('[name="event.category"][value="environment"]')).to_be_focused()
        assert _tab_to(page, 'input[name="event.environment_kind"]') == 1
        page.keyboard.press("Space")
        expect(page.locator('[name="event.environment_kind"][value="garbage"]')).to_be_checked()
    _tab_to(page, 'textarea[name="event.description"]')
    assert _focus_is_visible(page)
    page.keyboard.type(flows.URBAN_PAGES[0][1]["event.description"])
    _tab_to(page, "form[data-tb-form] button[value=continue]")
    assert _focus_is_visible(page)
    with page.expect_event("load"):
        page.keyboard.press("Enter")
    if not js:  # the question about the kind of problem comes after posting
        assert flows.current_page_id(page) == "event"
        _tab_to(page, 'input[name="event.environment_kind"]')
        page.keyboard.press("Space")
        _tab_to(page, "form[data-tb-form] button[value=continue]")
        with page.expect_event("load"):
            page.keyboard.press("Enter")
    assert flows.current_page_id(page) == "location"

    # Enter in a text box sends its form: signing in by keyboard.
    page.goto(base + "/login")
    _tab_to(page, "#username")
    page.keyboard.type("citizen")
    page.keyboard.press("Tab")
    page.keyboard.type(flows.DEMO_PASSWORD)
    with page.expect_event("load"):
        page.keyboard.press("Enter")
    expect(page.locator(".tb-header__user")).to_be_visible()

