"""The citizen's points statement and redemption at /my/points (no JavaScript needed; a double
click redeems once), and the administrators' ledger totals."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from html import unescape

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlmodel import Session, col

from tongban import db
from tongban.ledger_demo import CITIZEN_ID_NUMBER, DEMO_LEDGER
from tongban.models import LedgerEntry, LedgerLot, LedgerReward, utcnow
from tongban.points import ledger
from tongban.worktime.calendars import TZ

from ..conftest import Personas

STATEMENT = "/my/points"
REDEEM = f"/my/points/{DEMO_LEDGER}/redeem"


def text_of(html: str) -> str:
    """The page's words, tags and extra spaces removed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _form(html: str) -> dict[str, str]:
    return {name: re.search(rf'name="{name}" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]  # the page has the field
            for name in ("csrf_token", "key")}


def _earn(app: Flask, tens: int, prefix: str = "p") -> None:
    engine = app.extensions["tongban.engine"]
    now = utcnow()
    with db.new_session(engine) as session, db.unit_of_work(session) as tx:
        book = ledger.latest_ledger(tx, DEMO_LEDGER)
        for n in range(tens):
            ledger.post_event(tx, book, ledger.Event(
                f"{prefix}-{n}", "sorting_drop_off", CITIZEN_ID_NUMBER, 1,
                now - timedelta(days=n + 40), "sorting-station"), now=now, actor_name="test")


def test_the_statement_shows_balance_expiry_and_postings(personas: Personas) -> None:
    client = personas.as_("citizen")
    response = client.get(STATEMENT)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = text_of(html)
    # The demo: a drop-off (10), 12.5 kg of recyclables (62), 3 hours of volunteering (60).
    assert re.search(r'id="balance">132<', html)
    assert "上海绿色账户积分（示例）" in page and "示例政策：并非实际规则" in page
    assert "垃圾分类正确投放" in page and "可回收物交投" in page and "志愿服务" in page
    assert "可回收物交投 12.5 千克 +62" in page
    assert "兑换礼品" in page and "环保购物袋：100 分 剩余 500" in page


def test_the_statement_needs_sign_in(demo: Flask, client: FlaskClient) -> None:
    response = client.get(STATEMENT)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_user_with_no_linked_account_is_told_how_to_link_one(personas: Personas) -> None:
    client = personas.as_("enterprise")
    page = text_of(client.get(STATEMENT).get_data(as_text=True))
    assert "您的用户账号尚未关联积分账户" in page


def test_redeeming_from_the_catalogue_works_and_a_double_click_redeems_once(
        personas: Personas, session: Session) -> None:
    client = personas.as_("citizen")
    fields = {**_form(client.get(STATEMENT).get_data(as_text=True)), "reward": "reusable-bag",
              "count": "1"}
    first = client.post(REDEEM, data=fields)
    second = client.post(REDEEM, data=fields)  # the same form sent again
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    done = client.get(first.headers["Location"]).get_data(as_text=True)
    assert re.search(r'id="balance">32<', done)
    assert "已用 100 分兑换 环保购物袋 × 1" in text_of(done)
    assert session.scalar(select(func.count()).select_from(LedgerEntry)
                          .where(col(LedgerEntry.kind) == "redeem")) == 1


def test_redeeming_beyond_the_balance_is_refused_on_the_page(personas: Personas,
                                                              session: Session) -> None:
    client = personas.as_("citizen")
    fields = {**_form(client.get(STATEMENT).get_data(as_text=True)),
              "reward": "transit-topup-10", "count": "1"}
    response = client.post(REDEEM, data=fields)
    assert response.status_code == 422
    page = text_of(response.get_data(as_text=True))
    assert "积分不足：需要 1000 分，余额为 132 分" in page
    assert "出现了问题" in page  # the error summary
    assert session.scalar(select(func.count()).select_from(LedgerEntry)
                          .where(col(LedgerEntry.kind) == "redeem")) == 0


def test_redeeming_with_no_stock_left_is_refused_on_the_page(personas: Personas,
                                                              session: Session) -> None:
    session.add(LedgerReward(ledger=DEMO_LEDGER, code="reusable-bag", initial=500, stock=0))
    session.commit()
    client = personas.as_("citizen")
    client.post("/settings/language", data={"locale": "en", "next": STATEMENT,
                                            "csrf_token": _form(client.get(STATEMENT)
                                                                .get_data(as_text=True))
                                            ["csrf_token"]})
    html = client.get(STATEMENT).get_data(as_text=True)
    assert "None left" in text_of(html)
    fields = {**_form(html), "reward": "reusable-bag", "count": "1"}
    response = client.post(REDEEM, data=fields)
    assert response.status_code == 422
    assert ('Not enough "Reusable shopping bag" left: 1 asked, 0 in stock'
            in text_of(response.get_data(as_text=True)))


def test_a_redemption_form_without_a_reward_or_count_says_so(personas: Personas) -> None:
    client = personas.as_("citizen")
    fields = {**_form(client.get(STATEMENT).get_data(as_text=True)), "count": "x"}
    response = client.post(REDEEM, data=fields)
    assert response.status_code == 422
    page = text_of(response.get_data(as_text=True))
    assert "请选择兑换物品" in page
    assert "请输入兑换数量，须为 1 至 20 的整数" in page


def test_points_expiring_soon_are_listed_with_their_last_day(personas: Personas,
                                                             session: Session) -> None:
    client = personas.as_("citizen")
    assert "未来 90 天内没有积分过期" in text_of(client.get(STATEMENT).get_data(as_text=True))
    _earn(personas.client.application, 2, prefix="soon")
    lapse_day = (utcnow() + timedelta(days=30)).astimezone(TZ).date()
    session.execute(update(LedgerLot).where(col(LedgerLot.entry_id).in_(
        select(col(LedgerEntry.id)).where(col(LedgerEntry.event_id).startswith("soon-"))))
        .values(expires_at=datetime.combine(lapse_day, time(0), TZ)))
    session.commit()
    html = client.get(STATEMENT).get_data(as_text=True)
    last_day = (lapse_day - timedelta(days=1)).isoformat()
    assert re.search(rf'id="expiring">.*<td>{last_day}</td><td>20</td>', html, re.S)


def test_admins_see_the_ledger_totals(personas: Personas) -> None:
    app = personas.client.application
    _earn(app, 3, prefix="adm")
    client = personas.as_("admin")
    response = client.get("/admin/points/ledgers")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'data-total="issued">162<', html)
    assert re.search(r'data-total="outstanding">162<', html)
    assert re.search(r'data-total="redeemed">0<', html)
    assert re.search(r'data-total="people">1<', html)
    assert re.search(r'data-type="sorting_drop_off"><td>[^<]+</td><td>4</td><td>40</td>', html)
    assert re.search(r'data-reward="reusable-bag"><td>[^<]+</td><td>100</td><td>0</td><td>500<',
                     html)


def test_the_totals_page_is_refused_to_citizens(personas: Personas) -> None:
    client = personas.as_("citizen")
    assert client.get("/admin/points/ledgers").status_code == 403


def test_the_command_line_links_an_id_number_to_an_account(personas: Personas, cli) -> None:  # type: ignore[no-untyped-def]
    refused = cli("users", "link-id", "enterprise", "310115198506124562")
    assert refused.exit_code == 2
    assert "The ID number's check character is wrong" in refused.output
    result = cli("users", "link-id", "enterprise", "310115198506124561")
    assert result.exit_code == 0, result.output
    assert result.output == "Linked enterprise to ID number 310115198506124561.\n"
    client = personas.as_("enterprise")
    html = client.get(STATEMENT).get_data(as_text=True)
    assert re.search(r'id="balance">0<', html)
    assert "暂无积分记录" in text_of(html)
