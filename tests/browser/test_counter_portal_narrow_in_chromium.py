"""Issue 17 item 11: every portal and counter page added for issue 17 works at 360 px without
sideways scrolling and in 长辈版, with screenshots at both widths.

The state the pages need is written in-process first (the platform's own functions and the
test client, as the web tests build it; the journeys themselves have their own browser tests).
Then one Chromium page at 360x740 opens each page as its user in zh standard, zh 长辈版 and
en 长辈版: none may scroll sideways. In zh standard axe finds nothing on it, and a full-page
screenshot is taken at 360 px and at 1280 px; in zh 长辈版 one at 360 px
(test-output/screenshots/, named after the page)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlmodel import col

from tongban import counter_queue, db
from tongban.counter import people
from tongban.models import ServiceRating, User, saved_id

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from ..conftest import Personas
    from ..web import review_world
    from ..web.journey import csrf, id_number
    from ..web.test_bundles import apply_for_newborn, fill_newborn
    from ..web.test_intake_decisions import _post, _start, _today
    from ..web.test_ratings import _finished, _rate
    from . import flows, helpers
    from .axe import run_axe, summarize
    from .test_narrow_screens import NARROW, OVERFLOW, _choose
except ImportError:
    import helpers  # type: ignore[no-redef]
    from axe import run_axe, summarize  # type: ignore[no-redef]
    from test_narrow_screens import NARROW, OVERFLOW, _choose  # type: ignore[no-redef]
    from tests.conftest import Personas  # type: ignore[no-redef]
    from tests.web import review_world  # type: ignore[no-redef]
    from tests.web.journey import csrf, id_number  # type: ignore[no-redef]
    from tests.web.test_bundles import apply_for_newborn, fill_newborn  # type: ignore[no-redef]
    from tests.web.test_intake_decisions import _post, _start, _today  # type: ignore[no-redef]
    from tests.web.test_ratings import _finished, _rate  # type: ignore[no-redef]

    import flows  # type: ignore[no-redef]

# zh standard first: axe and the screenshots are taken in it.
VARIANTS = [("zh_CN", False), ("zh_CN", True), ("en", True)]
DESKTOP_WIDTH = helpers.DESKTOP["viewport"]["width"]
CITIZEN_ID = flows.VALID_ID          # 张三: the demo citizen's verified ID number
SECOND_MOTHER = id_number("31010419910408002")
PRECHECK_FAMILY = ("/services/household-transfer/precheck?transfer.reason=family"
                   "&registered_here=no&has_approval=yes&transfer.with_family=yes")

Opener = Callable[[Page, str], None]


@dataclass(frozen=True)
class Shown:
    """One page: its name in the messages and screenshots, and its address or how to open it."""

    name: str
    path: str = ""
    open: Opener | None = None
    shows: str = ""       # text the page's main column has in zh (that the state is there)


@pytest.fixture
def narrow_page(chromium: Browser, browser_errors: helpers.BrowserErrors) -> Iterator[Page]:
    yield from helpers.new_page(chromium, browser_errors, **NARROW)


def _as(app: Flask, username: str) -> Any:
    return Personas(app.test_client()).as_(username)


def _claim(client: Any, task_id: int) -> None:
    page = client.get(f"/review/tasks/{task_id}").get_data(as_text=True)
    response = client.post(f"/review/tasks/{task_id}", data={"csrf_token": csrf(page),
                                                              "op": "claim"})
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]


def _user_id(app: Flask, username: str) -> int:
    with db.new_session(app.extensions["tongban.engine"]) as session:
        return saved_id(session.scalars(select(User).where(
            col(User.username) == username)).one())


@dataclass
class World:
    receipt: str = ""          # accepted with a material to follow
    refused: str = ""          # refused at intake
    intake_task: int = 0       # an intake task the clerk has claimed
    person: str = ""           # the counter's person (张三)
    ticket: int = 0
    day: str = ""              # the counter's day the decisions were taken on (Shanghai)
    to_rate: str = ""          # finished, not rated yet
    rating: int = 0            # a 差评 with its follow-up, appealed
    bundle_token: str = ""     # a bundle at its check page
    bundle: str = ""           # a sent bundle's reference


def _build(app: Flask) -> World:
    """Everything the pages show, made in-process as the web tests make it."""
    engine = app.extensions["tongban.engine"]
    now = datetime.now(UTC)
    world = World(day=counter_queue.today(now).isoformat())
    review_world.forget_compiled_flows()
    clerk = _as(app, "clerk")

    # The intake decisions (applications of 张三, so the counter's person page lists them).
    accepted = _start(app, id_number=CITIZEN_ID, reference="2612-NARW-AAAA")
    due = (_today() + timedelta(days=5)).isoformat()
    response = _post(clerk, review_world.open_task(accepted, "intake").id,
                     op="accept_deficient", materials="id-card", other="劳动合同（原件）",
                     due=due, comment="身份证原件后补")
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    world.receipt = accepted.reference
    committed = _start(app, id_number=CITIZEN_ID, reference="2612-NARW-BBBB")
    response = _post(clerk, review_world.open_task(committed, "intake").id,
                     op="accept_commitment", confirmed="yes")
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    refused = _start(app, id_number=CITIZEN_ID, reference="2612-NARW-CCCC")
    task = review_world.open_task(refused, "intake").id
    page = clerk.get(f"/review/tasks/{task}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version is not None
    response = clerk.post(f"/review/tasks/{task}", data={
        "csrf_token": csrf(page), "op": "refuse_intake", "version": version.group(1),
        "comment": "不属于本机关职权范围，请向户籍所在地派出所申请"})
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    world.refused = refused.reference
    waiting = _start(app, id_number=CITIZEN_ID, reference="2612-NARW-DDDD")
    world.intake_task = review_world.open_task(waiting, "intake").id
    _claim(clerk, world.intake_task)

    # The counter's person and a queue ticket for window A, called by the clerk.
    with db.new_session(engine) as session, db.unit_of_work(session):
        person = people.create(session, kind="person", number=CITIZEN_ID, name="张三",
                               clerk_id=_user_id(app, "clerk"), clerk_name="clerk",
                               verified_by="人口库")
        world.person = person.public_id
        world.ticket = saved_id(counter_queue.take(session, "A", reference=waiting.reference,
                                                   now=now))
        counter_queue.take(session, "A", reference="", now=now)  # one still waiting
        called = counter_queue.call_next(session, "A", _user_id(app, "clerk"),
                                         clerk_name="clerk", now=now)
        assert called is not None and called.id == world.ticket
    # Ratings: one application to rate, one rated 非常不满意 with its follow-up, appealed.
    world.to_rate = _finished(app, reference="2612-NARW-EEEE").reference
    rated = _finished(app, reference="2612-NARW-FFFF").reference
    response = _rate(_as(app, "citizen"), rated, level="1", reasons=["slow", "attitude"],
                     comment="跑了三次才办好，窗口说法前后不一致")
    assert response.status_code == 302
    with db.new_session(engine) as session:
        world.rating = saved_id(session.scalars(select(ServiceRating)).one())
    deptadmin = _as(app, "deptadmin")
    page = deptadmin.get(f"/review/ratings/{world.rating}").get_data(as_text=True)
    response = deptadmin.post(f"/review/ratings/{world.rating}/appeal", data={
        "csrf_token": csrf(page), "appeal_reason": "评价人与办件无关，系误评"})
    assert response.status_code == 302

    # 新生儿出生一件事: one sent, one at its check page.
    citizen = _as(app, "citizen")
    world.bundle = apply_for_newborn(citizen)
    world.bundle_token, _token = fill_newborn(citizen, mother_id=SECOND_MOTHER)
    return world


def _precheck_outcome(page: Page, base: str) -> None:
    """The household-transfer pre-check, answered (by its link), judged: you can apply."""
    page.goto(base + PRECHECK_FAMILY)
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.locator("#tb-precheck form button").first.click()
    expect(page.locator("#tb-precheck-result h2")).to_be_visible()


def _sign_in(page: Page, base: str, username: str) -> None:
    """Sign in (over whoever was signed in) in any language: the session keeps the language
    and the mode chosen before. The clerk sits at window A, where they called the ticket (the
    desk keeps the window in the session)."""
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", flows.DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("main form button")
    expect(page.locator(".tb-header__user")).to_be_visible()
    if username == "clerk":
        token = page.locator("input[name=csrf_token]").first.input_value()
        assert page.request.post(base + "/queue/desk/window",
                                 form={"csrf_token": token, "window": "A"}).ok


def _pages(world: World) -> dict[str, list[Shown]]:
    """The pages by who opens them (no one signed in, then each account)."""
    return {
        "": [
            Shown("finder", "/"),
            Shown("search", "/?q=落户", shows="户口迁入"),
            Shown("life-event", "/?event=birth", shows="新生儿出生一件事"),
            Shown("department", "/?department=sh-gaj", shows="户口迁入"),
            Shown("guide", "/services/household-transfer", shows="行政救济途径"),
            Shown("precheck", "/services/residence-points/precheck"),
            Shown("precheck-outcome", open=_precheck_outcome, shows="您符合申请条件"),
            Shown("progress", "/progress"),
            Shown("progress-result", f"/progress/find?reference={world.receipt}&name=张三",
                  shows="容缺受理"),
            Shown("queue", "/queue"),
            Shown("ticket", f"/queue/tickets/{world.ticket}", shows="A001"),
        ],
        "citizen": [
            Shown("my", "/my"),
            Shown("mandates", "/my/mandates"),
            Shown("rating-form", f"/my/applications/{world.to_rate}/rating",
                  shows="您对本次服务满意吗"),
            Shown("bundle-guide", "/bundles/newborn"),
            Shown("bundle-shared", f"/bundle/{world.bundle_token}/shared/child"),
            Shown("bundle-check", f"/bundle/{world.bundle_token}/check", shows="张小宝"),
            Shown("bundle-progress", f"/my/bundles/{world.bundle}", shows="等待出生医学证明申领"),
            Shown("bundle-receipt", f"/my/bundles/{world.bundle}/receipt", shows=world.bundle),
        ],
        "clerk": [
            Shown("counter", "/counter"),
            Shown("counter-person", f"/counter/people/{world.person}", shows="已核验"),
            Shown("materials-check",
                  f"/counter/people/{world.person}/services/household-transfer/materials",
                  shows="材料核验"),
            Shown("intake-panel", f"/review/tasks/{world.intake_task}", shows="受理申请"),
            Shown("receipt", f"/review/applications/{world.receipt}/receipt", shows="劳动合同（原件）"),
            Shown("refusal-notice", f"/review/applications/{world.refused}/refusal-notice",
                  shows="不属于本机关职权范围"),
            Shown("queue-desk", "/queue/desk", shows="A001"),
            Shown("queue-day", f"/queue/day?day={world.day}", shows="2612-NARW-CCCC"),
        ],
        "reviewer": [
            Shown("commitments", "/review/commitments", shows="2612-NARW-BBBB"),
            Shown("ratings", "/review/ratings", shows="2612-NARW-FFFF"),
            Shown("rating-detail", f"/review/ratings/{world.rating}", shows="跑了三次才办好"),
        ],
        "admin": [
            Shown("rating-appeals", "/admin/ratings/appeals", shows="系误评"),
            Shown("dashboards", "/admin/dashboards", shows="按事项统计的评价"),
        ],
    }


def _open(page: Page, base: str, shown: Shown) -> None:
    if shown.open is not None:
        shown.open(page, base)
        return
    url = base + shown.path
    response = page.goto(url)
    assert response is not None and response.ok, (shown.name, response and response.status)
    assert unquote(page.url) == url, f"{shown.name}: {url} sent the browser to {page.url}"


def test_every_new_portal_and_counter_page_fits_360_px_in_every_version(
        demo, live_server, narrow_page, screenshot) -> None:  # type: ignore[no-untyped-def]
    world = _build(demo)
    page, base = narrow_page, live_server.url
    wide: list[str] = []
    dirty: list[str] = []
    seen = 0
    for locale, elder in VARIANTS:
        page.context.clear_cookies()
        _choose(page, base, locale, elder)
        variant = f"{locale} {'长辈版' if elder else 'standard'}"
        for username, pages in _pages(world).items():  # no one first, then each account
            if username:
                _sign_in(page, base, username)
            for shown in pages:
                _open(page, base, shown)
                assert page.evaluate("document.body.classList.contains('tb-elder')") is elder
                found: dict[str, Any] = page.evaluate(OVERFLOW)
                if found["extra"] > 0:
                    wide.append(f"{shown.name} ({variant}): {found['extra']} px too wide at "
                                f"360 px: {', '.join(found['culprits'])}")
                if locale != "zh_CN":
                    continue
                if shown.shows:
                    expect(page.locator("main")).to_contain_text(shown.shows)
                seen += not elder
                screenshot(page, f"{shown.name}-360{'-elder' if elder else ''}")
                if elder:
                    continue
                violations = run_axe(page)
                if violations:
                    dirty.append(f"{shown.name}:\n{summarize(violations)}")
                page.set_viewport_size(helpers.DESKTOP["viewport"])
                screenshot(page, f"{shown.name}-{DESKTOP_WIDTH}")
                page.set_viewport_size(NARROW["viewport"])
    assert seen == sum(map(len, _pages(world).values()))
    assert wide == [], "pages that scroll sideways:\n" + "\n".join(wide)
    assert dirty == [], "axe at 360 px:\n" + "\n".join(dirty)
