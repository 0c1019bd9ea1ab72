"""The service guide with its flow diagram: axe finds nothing, not even what it cannot decide
(the drawing is an image with its title as alt, the steps in a <details>), the steps open
without JavaScript, and the diagram fits a phone."""

from __future__ import annotations

from axe import run_axe, summarize
from playwright.sync_api import Page
from sqlmodel import Session

try:  # tests/ as a package, or rootdir-relative imports (pytest's default)
    from ..unit.flow_diagram_fixtures import POINTS
    from ..web.test_flow_diagram_page import publish_flow_for
except ImportError:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.unit.flow_diagram_fixtures import POINTS  # type: ignore[no-redef]
    from tests.web.test_flow_diagram_page import publish_flow_for  # type: ignore[no-redef]


def _scan(page: Page) -> None:
    violations = run_axe(page, needs_review=True)
    assert not violations, summarize(violations)


def _check_guide(page: Page, base: str, *, axe: bool) -> None:
    page.goto(base + "/services/residence-points")
    page.wait_for_load_state("load")
    figure = page.locator("figure.tb-flow-diagram__figure img")
    assert figure.is_visible()
    assert page.get_by_role("img", name="办理流程图：居住证积分审批").count() == 1
    steps = page.locator("details.tb-flow-diagram__steps")
    assert not steps.locator("ol").is_visible()
    if axe:
        _scan(page)
    steps.locator("summary").click()
    assert steps.locator("ol").is_visible()
    assert steps.locator("ol li").nth(1).inner_text() == "窗口受理"
    if axe:
        _scan(page)


def test_the_guide_with_its_flow_has_no_axe_violations(demo, session: Session, live_server,
                                                       page: Page, page_nojs: Page) -> None:
    publish_flow_for(session, "residence-points", POINTS)
    _check_guide(page, live_server.url, axe=True)
    # Without JavaScript the steps open all the same (axe itself needs JavaScript).
    _check_guide(page_nojs, live_server.url, axe=False)


def test_the_diagram_fits_a_phone(demo, session: Session, live_server, phone_page: Page) -> None:
    publish_flow_for(session, "residence-points", POINTS)
    phone_page.goto(live_server.url + "/services/residence-points")
    box = phone_page.locator("img.tb-flow-diagram__svg").bounding_box()
    width = phone_page.evaluate("document.documentElement.clientWidth")
    scroll = phone_page.evaluate("document.documentElement.scrollWidth")
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    assert scroll <= width
