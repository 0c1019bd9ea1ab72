"""Issue 17 item 4: queue numbers per window (take a number at the kiosk, the clerk's window,
call the next one), and the clerk's printable day list (taken in, accepted, refused, waiting
for material)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlmodel import Session

from tongban import counter_queue
from tongban.models import QueueTicket

from ..conftest import Personas
from . import test_intake_decisions as intake
from .journey import csrf
from .page_text import text as _text


def _take(client: FlaskClient, window: str, reference: str = ""):  # type: ignore[no-untyped-def]
    page = client.get("/queue").get_data(as_text=True)
    return client.post("/queue", data={"csrf_token": csrf(page), "window": window,
                                       "reference": reference})


def test_numbers_count_per_window_and_day(demo: Flask) -> None:
    kiosk = demo.test_client()
    first = _take(kiosk, "A")
    assert first.status_code == 302
    assert "A001" in _text(kiosk.get(first.headers["Location"]).get_data(as_text=True))
    second = _take(kiosk, "A")
    assert "前面还有 1 人" in _text(kiosk.get(second.headers["Location"]).get_data(as_text=True))
    third = _take(kiosk, "B")
    assert "B001" in _text(kiosk.get(third.headers["Location"]).get_data(as_text=True))
    engine = demo.extensions["tongban.engine"]
    with Session(engine) as session, session.begin():
        tomorrow = counter_queue.take(session, "A", now=datetime.now(UTC) + timedelta(days=1))
        assert counter_queue.shown(tomorrow) == "A001"


def test_taking_a_number_without_a_window_is_refused_and_nothing_is_taken(demo: Flask) -> None:
    kiosk = demo.test_client()
    response = _take(kiosk, "Z")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请选择窗口" in _text(html) and 'href="#window"' in html
    with Session(demo.extensions["tongban.engine"]) as session:
        assert session.scalar(select(func.count()).select_from(QueueTicket)) == 0


def test_the_clerk_calls_the_next_number_of_their_window_and_opens_its_intake(
        demo: Flask) -> None:
    run = intake._start(demo)
    kiosk = demo.test_client()
    _take(kiosk, "B")
    _take(kiosk, "A", reference=run.reference)
    clerk = Personas(demo.test_client()).as_("clerk")
    desk = clerk.get("/queue/desk").get_data(as_text=True)
    no_window = clerk.post("/queue/desk/next", data={"csrf_token": csrf(desk)})
    assert no_window.status_code == 422 and "请先选择您所在的窗口" in _text(
        no_window.get_data(as_text=True))
    clerk.post("/queue/desk/window", data={"csrf_token": csrf(desk), "window": "A"})
    called = clerk.post("/queue/desk/next", data={"csrf_token": csrf(desk)})
    assert called.status_code == 302
    page = clerk.get("/queue/desk").get_data(as_text=True)
    assert "A001" in _text(page) and run.reference in page
    task = intake.review_world.open_task(run, "intake")
    assert f'href="/review/tasks/{task.id}"' in page
    # Nobody else waits at A (B's number is not called here).
    clerk.post("/queue/desk/next", data={"csrf_token": csrf(page)})
    assert "您的窗口暂无人等候" in _text(clerk.get("/queue/desk?empty=1").get_data(as_text=True))
    with Session(demo.extensions["tongban.engine"]) as session:
        states = dict(session.execute(select(QueueTicket.window, QueueTicket.state)).all())
        assert states == {"A": "done", "B": "waiting"}


def test_the_day_list_counts_what_the_clerk_took_in_and_prints(demo: Flask) -> None:
    accepted = intake._start(demo, reference="2612-INTK-0002")
    refused = intake._start(demo, reference="2612-INTK-0003")
    clerk = Personas(demo.test_client()).as_("clerk")
    due = (intake._today() + timedelta(days=3)).isoformat()
    task = intake.review_world.open_task(accepted, "intake")
    assert intake._post(clerk, task.id, op="accept_deficient", materials="id-card",
                        due=due).status_code == 302
    task = intake.review_world.open_task(refused, "intake")
    page = clerk.get(f"/review/tasks/{task.id}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    clerk.post(f"/review/tasks/{task.id}", data={"csrf_token": csrf(page), "version": version,
                                                 "op": "refuse_intake", "comment": "材料不符"})
    _take(demo.test_client(), "C")
    desk = clerk.get("/queue/desk").get_data(as_text=True)
    clerk.post("/queue/desk/window", data={"csrf_token": csrf(desk), "window": "C"})
    clerk.post("/queue/desk/next", data={"csrf_token": csrf(desk)})

    html = clerk.get("/queue/day").get_data(as_text=True)
    text = _text(html)
    assert "@media print" in html
    assert "接件（已叫号） 1" in text and "已受理 1" in text and "不予受理 1" in text
    assert "待补材料 1" in text
    assert "2612-INTK-0002" in text and "容缺受理" in text and due in text
    assert "2612-INTK-0003" in text and "材料不符" in text
    assert Personas(demo.test_client()).as_("citizen").get("/queue/day").status_code == 403
