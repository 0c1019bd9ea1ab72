"""Points ledgers through their JSON API (issue 13 item 5): posting is idempotent by event id,
bad input is refused with a clear message and changes nothing, caps store a flagged entry,
redemption refuses beyond the balance or the stock, and a caller needs a token or staff role."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlmodel import Session, col

from tongban.models import AuditEvent, LedgerAccount, LedgerEntry, LedgerPosting, LedgerReward

from ..conftest import Personas, csrf_token

STATION = "s" * 40
KIOSK = "k" * 40
VOLUNTEERS = "v" * 40
LEDGER = "shanghai-green-points"
EVENTS = f"/api/ledgers/{LEDGER}/events"
REDEMPTIONS = f"/api/ledgers/{LEDGER}/redemptions"
PERSON = "310115198506124561"
OTHER = "310104200001017892"


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    return {**app_config, "LEDGER_TOKENS": {STATION: "sorting-station", KIOSK: "reward-kiosk",
                                            VOLUNTEERS: "volunteer-platform"}}


def post(client: FlaskClient, body: dict[str, Any], token: str | None = STATION,
         url: str = EVENTS):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(url, json=body, headers=headers)


def event(event_id: str, **changes: Any) -> dict[str, Any]:
    return {"event_id": event_id, "type": "sorting_drop_off", "person": PERSON,
            "occurred_at": "2026-12-01T09:00:00+08:00", "source": "sorting-station", **changes}


def entries(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(LedgerEntry)
                          .where(col(LedgerEntry.account_id).in_(
                              select(col(LedgerAccount.id)).where(
                                  col(LedgerAccount.holder).in_([PERSON, OTHER]))))) or 0


def balance(session: Session, holder: str = PERSON) -> int:
    session.commit()  # a new read: see what the other sessions committed
    found = session.scalars(select(col(LedgerAccount.balance)).where(
        col(LedgerAccount.ledger) == LEDGER, col(LedgerAccount.holder) == holder)).first()
    return found or 0


def test_an_event_posts_points_in_a_double_entry(demo: Flask, client: FlaskClient,
                                                 session: Session) -> None:
    response = post(client, event("station-7:0001"))
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["duplicate"] is False
    assert (body["entry"]["points"], body["entry"]["status"], body["balance"]) == (10, "posted", 10)
    postings = session.scalars(select(LedgerPosting).where(
        col(LedgerPosting.entry_id) == body["entry"]["id"])).all()
    assert sorted(p.amount for p in postings) == [-10, 10]
    assert balance(session) == 10
    audited = session.scalars(select(AuditEvent).where(col(AuditEvent.action) == "ledger.post")
                              .order_by(col(AuditEvent.seq).desc())).first()
    assert audited is not None and audited.after["event_id"] == "station-7:0001"


def test_the_same_event_id_twice_is_accepted_once_and_the_answer_names_the_first(
        demo: Flask, client: FlaskClient, session: Session) -> None:
    first = post(client, event("station-7:0002"))
    again = post(client, event("station-7:0002"))
    assert (first.status_code, again.status_code) == (201, 200)
    entry_id = first.get_json()["entry"]["id"]
    assert again.get_json()["duplicate"] is True
    assert again.get_json()["entry"]["id"] == entry_id
    assert again.get_json()["message"] == (f"Event station-7:0002 was already accepted as "
                                           f"entry {entry_id}; nothing was changed")
    assert again.get_json()["message_zh"] == (f"事件 station-7:0002 已作为第 {entry_id} 号记录"
                                              "受理，本次未作任何更改")
    assert balance(session) == 10
    assert entries(session) == 1


def test_a_per_unit_event_earns_per_unit_rounded_down(demo: Flask, client: FlaskClient,
                                                      session: Session) -> None:
    response = post(client, {"event_id": "vol-1", "type": "volunteering", "person": PERSON,
                             "quantity": 2.5, "occurred_at": "2026-12-01T09:00:00+08:00"},
                    token=VOLUNTEERS)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["entry"]["points"] == 50


@pytest.mark.parametrize(("changes", "token", "status", "message", "message_zh"), [
    ({"type": "littering"}, STATION, 422,
     'Unknown event type "littering": expected one of sorting_drop_off, recyclables, '
     'volunteering', "未知的事件类型“littering”：应为以下之一：sorting_drop_off, recyclables, "
     "volunteering"),
    ({"person": "310115198506124562"}, STATION, 422,
     "The ID number's check character is wrong. Check the last character.",
     "身份证号码校验位不正确，请核对最后一位。"),
    ({"person": "12345"}, STATION, 422, "Enter 18 characters.", None),
    ({"type": "volunteering"}, STATION, 403,
     'The source "sorting-station" may not post "volunteering" events',
     "来源“sorting-station”不能提交“volunteering”事件"),
    ({"quantity": 1.5}, STATION, 422, "The quantity must be a whole number from 1 to 10000",
     "数量须为 1 至 10000 的整数"),
    ({"source": "reward-kiosk"}, STATION, 403,
     'source "reward-kiosk" is not the source of your credentials ("sorting-station")', None),
    ({"occurred_at": "2026-12-01 09:00"}, STATION, 422,
     "occurred_at must be a date and time with its offset, such as 2026-12-02T09:30:00+08:00",
     None),
    ({"occurred_at": "2099-01-01T00:00:00+08:00"}, STATION, 422,
     "The event's time is in the future", "事件时间在将来"),
    ({"event_id": "has space"}, STATION, 422,
     "event_id must be 1 to 100 letters, digits or . _ : -", None),
    ({"colour": "green"}, STATION, 422, "Unknown field(s): colour", None),
])
def test_bad_events_are_refused_with_a_message_and_change_nothing(
        demo: Flask, client: FlaskClient, session: Session, changes: dict[str, Any],
        token: str, status: int, message: str, message_zh: str | None) -> None:
    response = post(client, {**event("bad-1"), **changes}, token=token)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["message"] == message
    if message_zh is not None:
        assert response.get_json()["message_zh"] == message_zh
    assert entries(session) == 0


def test_without_a_valid_token_the_api_refuses(demo: Flask, client: FlaskClient,
                                               session: Session) -> None:
    for token in (None, "x" * 40):
        response = post(client, event("no-token"), token=token)
        assert response.status_code == 401
        assert response.get_json()["message"] == "A valid bearer token is required"
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="tongban-ledgers"'
    response = client.get(f"/api/ledgers/{LEDGER}/accounts/{PERSON}")
    assert response.status_code == 401
    assert entries(session) == 0


def test_a_citizen_account_may_not_post_and_staff_need_the_csrf_token(
        personas: Personas, session: Session) -> None:
    client = personas.as_("citizen")
    response = post(client, event("by-citizen", source="counter"), token=None)
    assert response.status_code == 403
    assert response.get_json()["message"] == "Your account may not use the ledger API"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    clerk = personas.as_("clerk_xuhui")
    refused = post(clerk, event("by-clerk", source="counter"), token=None)
    assert refused.status_code == 400  # no X-CSRFToken header: a cross-site post is refused
    token = csrf_token(clerk, "/")
    accepted = clerk.post(EVENTS, json=event("by-clerk", source="counter"),
                          headers={"X-CSRFToken": token})
    assert accepted.status_code == 201, accepted.get_data(as_text=True)
    assert accepted.get_json()["entry"]["source"] == "counter"


def test_the_daily_cap_part_accepts_then_refuses_and_flags(demo: Flask, client: FlaskClient,
                                                          session: Session) -> None:
    # sorting_drop_off: 10 points, at most 20 a day. Recyclables: 5/kg, at most 100 a day.
    assert post(client, event("cap-1")).status_code == 201
    assert post(client, event("cap-2")).status_code == 201
    refused = post(client, event("cap-3"))
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["error"] == "over_cap"
    assert body["message"] == ("Over the daily cap of 20 points for this event type: 0 of 10 "
                               "points accepted")
    assert body["message_zh"] == "超出该类事件每日上限 20 分：受理 0 分（申报 10 分）"
    assert (body["entry"]["status"], body["entry"]["flagged"]) == ("refused", True)
    # the next day counts again
    assert post(client, event("cap-4", occurred_at="2026-12-02T09:00:00+08:00")).status_code == 201
    assert balance(session) == 30
    flagged = session.scalars(select(LedgerEntry).where(col(LedgerEntry.flagged))).all()
    assert [e.event_id for e in flagged] == ["cap-3"]
    # a refused event's id is taken: sending it again is a duplicate, not a second try
    assert post(client, event("cap-3")).status_code == 200


def test_a_partly_capped_event_posts_what_the_cap_leaves(demo: Flask, client: FlaskClient,
                                                        session: Session) -> None:
    recycler = "r" * 40
    demo.config["LEDGER_TOKENS"] = {**demo.config["LEDGER_TOKENS"], recycler: "recycling-station"}
    body = {"event_id": "kg-1", "type": "recyclables", "person": PERSON, "quantity": 15,
            "occurred_at": "2026-12-01T10:00:00+08:00"}
    assert post(client, body, token=recycler).status_code == 201  # 75 points
    second = post(client, {**body, "event_id": "kg-2", "quantity": 10}, token=recycler)
    assert second.status_code == 201
    answer = second.get_json()
    assert (answer["entry"]["points"], answer["entry"]["requested"]) == (25, 50)
    assert (answer["entry"]["status"], answer["entry"]["flagged"]) == ("capped", True)
    assert answer["message"] == ("Over the daily cap of 100 points for this event type: 25 of "
                                 "50 points accepted")
    assert balance(session) == 100


def give(client: FlaskClient, points_in_tens: int, person: str = PERSON) -> None:
    """Post ``points_in_tens`` x 10 points (one drop-off a day, within every cap)."""
    for day in range(points_in_tens):
        response = post(client, event(f"give-{person}-{day}", person=person,
                                      occurred_at=f"2026-11-{day + 1:02d}T09:00:00+08:00"))
        assert response.status_code == 201, response.get_data(as_text=True)


def redemption(key: str, reward: str = "reusable-bag", count: int = 1,
               person: str = PERSON) -> dict[str, Any]:
    return {"request_id": key, "person": person, "reward": reward, "count": count}


def test_a_redemption_spends_points_and_stock_once_per_request_id(
        demo: Flask, client: FlaskClient, session: Session) -> None:
    give(client, 12)
    first = post(client, redemption("kiosk-1"), token=KIOSK, url=REDEMPTIONS)
    assert first.status_code == 201, first.get_data(as_text=True)
    assert first.get_json()["balance"] == 20
    again = post(client, redemption("kiosk-1"), token=KIOSK, url=REDEMPTIONS)
    assert again.status_code == 200
    assert again.get_json()["duplicate"] is True
    assert again.get_json()["message"] == (f"Redemption kiosk-1 was already made as entry "
                                           f"{first.get_json()['entry']['id']}; nothing was "
                                           "changed")
    assert balance(session) == 20
    stock = session.scalars(select(LedgerReward).where(
        col(LedgerReward.code) == "reusable-bag")).one()
    assert (stock.initial, stock.stock) == (500, 499)
    account = client.get(f"/api/ledgers/{LEDGER}/accounts/{PERSON}",
                         headers={"Authorization": f"Bearer {KIOSK}"})
    assert account.status_code == 200
    assert (account.get_json()["balance"], account.get_json()["redeemed"]) == (20, 100)


@pytest.mark.parametrize(("body", "token", "status", "message"), [
    (redemption("r-1", count=2), KIOSK, 422, "Not enough points: 200 needed, the balance is 120"),
    (redemption("r-2", reward="pony"), KIOSK, 422,
     'Unknown reward "pony": expected one of reusable-bag, compost-kit, transit-topup-10'),
    (redemption("r-3", count=0), KIOSK, 422,
     "The number of rewards must be a whole number from 1 to 20"),
    (redemption("r-4", person="123"), KIOSK, 422, "Enter 18 characters."),
    (redemption("r-5"), STATION, 403, 'The source "sorting-station" may not redeem rewards'),
])
def test_bad_redemptions_are_refused_and_change_nothing(
        demo: Flask, client: FlaskClient, session: Session, body: dict[str, Any], token: str,
        status: int, message: str) -> None:
    give(client, 12)
    response = post(client, body, token=token, url=REDEMPTIONS)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["message"] == message
    assert balance(session) == 120
    assert session.scalar(select(func.count()).select_from(LedgerEntry)
                          .where(col(LedgerEntry.kind) == "redeem")) == 0


def test_a_redemption_beyond_the_stock_is_refused_and_keeps_the_points(
        demo: Flask, client: FlaskClient, session: Session) -> None:
    give(client, 30)
    session.add(LedgerReward(ledger=LEDGER, code="reusable-bag", initial=500, stock=1))
    session.commit()
    response = post(client, redemption("r-stock", count=2), token=KIOSK, url=REDEMPTIONS)
    assert response.status_code == 422
    assert response.get_json()["message"] == ('Not enough "Reusable shopping bag" left: 2 asked, '
                                              "1 in stock")
    assert response.get_json()["message_zh"] == "“环保购物袋”库存不足：需要 2 件，剩余 1 件"
    assert balance(session) == 300


def test_an_unknown_ledger_is_404(demo: Flask, client: FlaskClient) -> None:
    response = post(client, event("x"), url="/api/ledgers/nope/events")
    assert response.status_code == 404
    assert response.get_json()["message"] == 'There is no ledger "nope"'


def test_the_same_event_sent_at_once_by_several_connections_is_stored_once(
        demo: Flask, session: Session) -> None:
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def send() -> None:
        client = demo.test_client()
        barrier.wait(10)
        statuses.append(post(client, event("station-7:burst")).status_code)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [200] * 5 + [201]
    assert entries(session) == 1
    assert balance(session) == 10
