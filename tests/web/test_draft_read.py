"""The draft read every page view makes and the save every page post makes run on the driver's
cursor (db.DriverStatement): they must read and write a row exactly as SQLAlchemy's own
execution does, on SQLite and on PostgreSQL."""

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


def test_the_driver_level_save_writes_what_sqlalchemy_writes(demo, app) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    import pytest
    from sqlalchemy import text

    from tongban.applications import _SAVE_ANSWERS
    from tongban.models import utcnow

    tokens = [Journey(app.test_client(), "urban-event-report").token for _ in range(2)]
    now = utcnow().replace(microsecond=123456)
    values = {"new_answers": {"location": {"address": "漕溪北路 “100” 号", "n": [1, 2.5, None]}},
              "new_visited_pages": ["event", "location"], "new_updated_at": now,
              "new_expires_at": now + timedelta(days=7)}
    with app.app_context():
        with db.engine().connect() as conn:
            ids = [_SELECT_DRAFT.first(conn, draft_token=t)["id"] for t in tokens]
        app_ctx_conn = db.connection()
        with db.writing() as conn:
            assert _SAVE_ANSWERS.run(conn, draft_id=ids[0], **values) == 1
            conn.execute(_SAVE_ANSWERS.statement, {"draft_id": ids[1], **values})
        with pytest.raises(RuntimeError):  # a write outside a unit of work is refused
            _SAVE_ANSWERS.run(app_ctx_conn, draft_id=ids[0], **values)
        with db.engine().connect() as conn:
            stored = [conn.execute(text("SELECT answers, visited_pages, updated_at, expires_at "
                                        "FROM draft WHERE id = :id"), {"id": i}).one()
                      for i in ids]
            rows = [_SELECT_DRAFT.first(conn, draft_token=t) for t in tokens]
    assert stored[0] == stored[1]  # the same text and values in the database
    for row in rows:
        assert row["answers"] == values["new_answers"]
        assert row["visited_pages"] == ["event", "location"]
        assert row["updated_at"] == now


def test_the_held_read_is_sqlalchemys_read_and_sees_every_commit(demo, app) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    journey = Journey(app.test_client(), "urban-event-report")
    with app.app_context():
        engine = db.engine()
        with engine.connect() as conn:
            slow = conn.execute(_SELECT_DRAFT.statement,
                                {"draft_token": journey.token}).one()._asdict()
        assert _SELECT_DRAFT.read(engine, draft_token=journey.token) == slow
        assert _SELECT_DRAFT.read(engine, draft_token="no-such-draft") is None
        # Each read is a statement of its own: no snapshot stays open between reads.
        for status in ("submitted", "open"):
            with engine.begin() as conn:
                conn.execute(text("UPDATE draft SET status = :s WHERE token = :t"),
                             {"s": status, "t": journey.token})
            assert _SELECT_DRAFT.read(engine, draft_token=journey.token)["status"] == status
        held = db._held_connection(engine)  # noqa: SLF001
        assert db._held_connection(engine) is held  # noqa: SLF001
        # No transaction is left open on it, for a writer or a VACUUM to wait on.
        if engine.dialect.name != "sqlite":
            from psycopg.pq import TransactionStatus

            assert held.autocommit
            assert held.info.transaction_status == TransactionStatus.IDLE
        else:
            assert not held.in_transaction


def test_held_reads_close_with_the_engine_and_a_dropped_one_is_replaced(demo, app) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(app.test_client(), "urban-event-report")
    with app.app_context():
        engine = db.engine()
        first = db._held_connection(engine)  # noqa: SLF001
        first.close()  # as if the server had dropped it
        assert _SELECT_DRAFT.read(engine, draft_token=journey.token)["token"] == journey.token
        second = db._held_connection(engine)  # noqa: SLF001
        assert second is not first
        engine.dispose()
        third = db._held_connection(engine)  # noqa: SLF001
        assert third is not second
        import pytest

        with pytest.raises(engine.dialect.loaded_dbapi.Error):  # closed by the disposal
            second.cursor().execute("SELECT 1")
        assert _SELECT_DRAFT.read(engine, draft_token=journey.token)["token"] == journey.token


def _checkouts(engine):  # type: ignore[no-untyped-def]
    """A list that gets one entry per connection taken from the engine's pool."""
    from sqlalchemy import event

    taken: list[int] = []
    event.listen(engine, "checkout", lambda *_: taken.append(1))
    return taken


def test_a_page_post_of_answers_alone_is_one_update_committed_on_its_own(demo, app) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    client = app.test_client()
    journey = Journey(client, "urban-event-report")
    client.get(journey.url("location"))  # this thread's held connection exists from here on
    engine = app.extensions["tongban.engine"]
    taken = _checkouts(engine)
    assert journey.post("location", {"location.region": "310104",
                                     "location.address": "漕溪北路 100 号"}).status_code == 302
    assert taken == []  # no pooled connection, no SQLAlchemy unit of work
    with engine.connect() as conn:  # committed: another connection sees it at once
        answers = conn.execute(text("SELECT answers FROM draft WHERE token = :t"),
                               {"t": journey.token}).scalar_one()
    import json

    answers = json.loads(answers) if isinstance(answers, str) else answers
    assert answers["location"]["address"] == "漕溪北路 100 号"
    with app.app_context():
        held = db._held_connection(engine)  # noqa: SLF001
        if engine.dialect.name == "sqlite":
            assert not held.in_transaction
        else:
            from psycopg.pq import TransactionStatus

            assert held.info.transaction_status == TransactionStatus.IDLE


def test_a_page_post_with_an_upload_saves_its_rows_and_answers_in_one_unit_of_work(
        personas, app, session) -> None:  # type: ignore[no-untyped-def]
    import io

    from sqlalchemy import select

    from tongban.models import Draft, StoredUpload

    from .journey import PDF

    journey = Journey(personas.as_("citizen"), "residence-points")
    taken = _checkouts(app.extensions["tongban.engine"])
    response = journey.post("materials", {
        "materials.id_card": (io.BytesIO(PDF), "身份证.pdf"),
        "materials.residence_permit": (io.BytesIO(PDF), "居住证.pdf"),
        "materials.diploma": (io.BytesIO(PDF), "diploma.pdf"),
        "materials.qualification_certificate": (io.BytesIO(PDF), "证书.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    assert taken  # db.writing(): the request's pooled connection and its transaction
    uploads = {u.field_key: u.public_id for u in session.scalars(select(StoredUpload))}
    draft = session.scalars(select(Draft).where(Draft.token == journey.token)).one()
    assert draft.answers["materials"] == {key.split(".")[1]: public_id
                                          for key, public_id in uploads.items()}
    assert len(uploads) == 4


def test_a_write_on_a_dropped_held_connection_runs_again_on_a_new_one(demo, app) -> None:  # type: ignore[no-untyped-def]
    from tongban.applications import _SAVE_ANSWERS
    from tongban.models import utcnow

    journey = Journey(app.test_client(), "urban-event-report")
    with app.app_context():
        engine = db.engine()
        draft_id = _SELECT_DRAFT.read(engine, draft_token=journey.token)["id"]
        db._held_connection(engine).close()  # noqa: SLF001 - as if the server had dropped it
        now = utcnow()
        assert _SAVE_ANSWERS.write(engine, draft_id=draft_id, new_answers={"a": 1},
                                   new_visited_pages=["event"], new_updated_at=now,
                                   new_expires_at=now) == 1
        assert _SELECT_DRAFT.read(engine, draft_token=journey.token)["answers"] == {"a": 1}


def test_saves_on_held_connections_wait_for_each_other_and_for_units_of_work(demo, app) -> None:  # type: ignore[no-untyped-def]
    """Writers on many threads at once, some alone and some in units of work: on SQLite each
    waits for the write lock (none fails with 'database is locked'), and every save lands."""
    import threading

    from sqlalchemy import text

    from tongban.applications import _SAVE_ANSWERS
    from tongban.models import utcnow

    tokens = [Journey(app.test_client(), "urban-event-report").token for _ in range(6)]
    with app.app_context():
        ids = [_SELECT_DRAFT.read(db.engine(), draft_token=t)["id"] for t in tokens]
    failures: list[BaseException] = []

    def save(draft_id: int, in_unit: bool) -> None:
        try:
            with app.app_context():
                for n in range(25):
                    now = utcnow()
                    values = {"new_answers": {"n": n}, "new_visited_pages": [],
                              "new_updated_at": now, "new_expires_at": now}
                    if in_unit:
                        with db.writing() as conn:
                            _SAVE_ANSWERS.run(conn, draft_id=draft_id, **values)
                            conn.execute(text("SELECT count(*) FROM draft")).scalar_one()
                    else:
                        assert _SAVE_ANSWERS.write(db.engine(), draft_id=draft_id, **values) == 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=save, args=(draft_id, index % 2 == 0))
               for index, draft_id in enumerate(ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with app.app_context():
        assert [_SELECT_DRAFT.read(db.engine(), draft_token=t)["answers"] for t in tokens] \
            == [{"n": 24}] * len(tokens)
