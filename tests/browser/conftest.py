"""Fixtures for tests that drive Debian's headless Chromium through Playwright.

Every test in this folder gets the ``browser`` marker, so ``pytest -m "not browser"`` skips
them all. Chromium comes from apt (``scripts/ensure-test-deps.sh``), never from
``playwright install``. A missing browser is a failure, not a skip: a skipped accessibility
suite looks exactly like a passing one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

try:  # tests/ as a package, or rootdir-relative imports (pytest's default)
    from . import helpers
except ImportError:
    import helpers  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent



def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees the whole session's items, not only this folder's.
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail the test itself (not its teardown) when a page it drove raised a JS error."""
    result = yield
    collector = getattr(item, "funcargs", {}).get("browser_errors")
    if collector is not None and collector.errors:
        pytest.fail(
            "the browser reported errors:\n  " + "\n  ".join(collector.take()), pytrace=False
        )
    return result


@pytest.fixture
def live_server(app: Any) -> Iterator[helpers.LiveServer]:
    """The ``app`` fixture served over real HTTP on a free loopback port; ``.url`` has no
    trailing slash."""
    with helpers.serve(app) as server:
        app.config["BASE_URL"] = server.url  # absolute links point at this server
        yield server


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not helpers.CHROMIUM_PATH.exists():
        pytest.fail(
            f"{helpers.CHROMIUM_PATH} is missing: run scripts/ensure-test-deps.sh "
            "(Playwright's own browser download does not work here)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(helpers.CHROMIUM_PATH), headless=True, args=helpers.CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_errors() -> helpers.BrowserErrors:
    """Errors from every page of the current test; claim expected ones with ``take()``."""
    return helpers.BrowserErrors()


@pytest.fixture
def page(chromium: Browser, browser_errors: helpers.BrowserErrors) -> Iterator[Page]:
    """A desktop page (1280x900, zh-CN) with JavaScript on, in a fresh context."""
    yield from helpers.new_page(chromium, browser_errors, **helpers.DESKTOP)


@pytest.fixture
def page_nojs(chromium: Browser, browser_errors: helpers.BrowserErrors) -> Iterator[Page]:
    """The same desktop page with JavaScript off: every form must still work."""
    yield from helpers.new_page(chromium, browser_errors, java_script_enabled=False, **helpers.DESKTOP)


@pytest.fixture(params=["js", "nojs"])
def browser_page(request: pytest.FixtureRequest) -> tuple[Page, bool]:
    """``(page, javascript_on)``: the test runs with ``page``, then again with ``page_nojs``."""
    js = request.param == "js"
    return request.getfixturevalue("page" if js else "page_nojs"), js


@pytest.fixture
def zoomed_page(chromium: Browser, browser_errors: helpers.BrowserErrors) -> Iterator[Page]:
    """The desktop window at 200% zoom: 640x450 CSS px, JavaScript on."""
    yield from helpers.new_page(chromium, browser_errors, **helpers.ZOOMED)


@pytest.fixture
def phone_page(chromium: Browser, browser_errors: helpers.BrowserErrors) -> Iterator[Page]:
    """A touch phone (390x844 CSS px at 2x), JavaScript on."""
    yield from helpers.new_page(chromium, browser_errors, **helpers.PHONE)


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """``screenshot(page, name)`` saves a full-page PNG under test-output/screenshots/
    named after the test, for reviewers to look at, and returns its path."""

    def take(page: Page, name: str) -> Path:
        path = helpers.screenshot_path(request.node.name, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def measure() -> Callable[[Page, str], list[dict[str, Any]]]:
    """``measure(page, selector)``: box size, font size, line height and contrast of each
    matched element (see ``helpers.measure``)."""
    return helpers.measure
