"""The draft read every page makes runs on the driver's cursor (db.RowQuery): it must read a
row exactly as SQLAlchemy's own execution does, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from tongban import db
from tongban.applications import _SELECT_DRAFT

from .journey import Journey


def test_the_driver_level_read_of_a_draft_is_sqlalchemys_read(demo, app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    journey = Journey(client, "urban-event-report")
    assert journey.post("location", {"location.region": "310104",
                                     "location.address": "漕溪北路 100 号“门口”"}).status_code == 302
    with app.app_context():
        with db.engine().connect() as conn:
            fast = _SELECT_DRAFT.first(conn, draft_token=journey.token)
            slow = conn.execute(_SELECT_DRAFT.statement,
                                {"draft_token": journey.token}).one()._asdict()
            assert _SELECT_DRAFT.first(conn, draft_token="no-such-draft") is None
    assert fast == slow
    assert fast["answers"]["location"]["address"] == "漕溪北路 100 号“门口”"
    assert fast["visited_pages"] == ["location"]
    assert isinstance(fast["expires_at"], datetime) and isinstance(fast["created_at"], datetime)


def test_a_page_post_after_the_read_is_saved_in_the_same_request(demo, app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    journey = Journey(client, "urban-event-report")
    for address in ("漕溪北路 100 号第一次", "漕溪北路 200 号第二次"):
        assert journey.post("location", {"location.region": "310104",
                                         "location.address": address}).status_code == 302
        html = client.get(journey.url("location")).get_data(as_text=True)
        assert f'value="{address}"' in html
