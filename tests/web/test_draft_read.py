"""Drafts are read and saved through SQLAlchemy's pool and the ORM session (issue 10, part 1):
page views leave no connection behind, every statement is seen by the engine's events, and
saves commit at once, uploads with their answers, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import os
import threading
import urllib.request
from collections import Counter

from sqlalchemy import event, select, text

from tests.browser.helpers import serve
from tongban import db
from tongban.models import Draft, StoredUpload

from .journey import PDF, Journey

VIEWS = 2_000
CLIENT_THREADS = 200
AT_ONCE = 40
"""Client threads alive at the same time: each makes VIEWS / CLIENT_THREADS views and ends."""


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


class _PoolWatch:
    """Counts the pool's events on an engine: DBAPI connections opened and closed (those
    detached from the pool too), checkouts and checkins, and the most open at once."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.counts: Counter[str] = Counter()
        self.most_open = 0
        self._lock = threading.Lock()
        for name in ("connect", "close", "close_detached", "detach", "checkout", "checkin"):
            event.listen(engine, name, self._counter(name))

    def _counter(self, name: str):  # type: ignore[no-untyped-def]
        def count(*_args: object) -> None:
            with self._lock:
                self.counts[name] += 1
                self.most_open = max(self.most_open, self.open)
        return count

    @property
    def open(self) -> int:
        return self.counts["connect"] - self.counts["close"] - self.counts["close_detached"]


def _statements(engine) -> list[str]:  # type: ignore[no-untyped-def]
    """A list that gets every statement the engine runs from now on."""
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_rest: seen.append(statement))
    return seen


def test_two_thousand_page_views_from_short_lived_threads_keep_connections_within_the_pool(
        demo, app, db_backend) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(app.test_client(), "urban-event-report")
    engine = app.extensions["tongban.engine"]
    limit = db.POOL_SIZE + db.POOL_MAX_OVERFLOW
    assert engine.pool.size() + engine.pool._max_overflow == limit  # noqa: SLF001
    watch = _PoolWatch(engine)
    failures: list[str] = []
    slots = threading.BoundedSemaphore(AT_ONCE)

    def view_pages(url: str) -> None:
        try:
            for _ in range(VIEWS // CLIENT_THREADS):
                with urllib.request.urlopen(url, timeout=60) as response:
                    body = response.read().decode()
                if response.status != 200 or journey.token not in body:
                    failures.append(f"{response.status}: {body[:200]}")
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(repr(exc))
        finally:
            slots.release()

    with serve(app) as server:  # a thread per request, as `make run` serves
        url = server.url + journey.url("location")
        with urllib.request.urlopen(url, timeout=60) as response:  # templates compiled, etc.
            assert response.status == 200
        before = _open_descriptors()
        threads = []
        for _ in range(CLIENT_THREADS):
            slots.acquire()
            thread = threading.Thread(target=view_pages, args=(url,))
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        after = _open_descriptors()
        opened_by_views = watch.open
        engine.dispose()
        after_dispose = _open_descriptors()

    print(f"descriptors: before {before}, after 2,000 views {after}, after dispose {after_dispose}; "
          f"most connections open at once {watch.most_open} (pool limit {limit})")
    assert failures == []
    assert watch.counts["checkout"] >= VIEWS  # every view went through the pool
    assert watch.counts["checkout"] == watch.counts["checkin"]  # and gave its connection back
    assert watch.counts["detach"] == 0
    assert watch.most_open <= limit
    assert opened_by_views <= limit
    # SQLite holds the database, its WAL and its shared memory open per connection.
    per_connection = 3 if db_backend == "sqlite" else 1
    assert after - before <= limit * per_connection, (before, after)
    assert after_dispose <= before, (before, after, after_dispose)


def test_a_page_view_reads_the_draft_with_one_query_and_a_post_saves_it_with_one_update(
        demo, app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    journey = Journey(client, "urban-event-report")
    seen = _statements(app.extensions["tongban.engine"])
    assert client.get(journey.url("location")).status_code == 200
    reads = [s for s in seen if s.lstrip().startswith("SELECT") and "FROM draft" in s]
    assert len(reads) == 1
    seen.clear()
    assert journey.post("location", {"location.region": "310104",
                                     "location.address": "漕溪北路 100 号"}).status_code == 302
    updates = [s for s in seen if s.lstrip().startswith("UPDATE draft")]
    assert len(updates) == 1, seen
    assert len([s for s in seen if "FROM draft" in s]) == 1


def test_a_post_of_answers_is_visible_to_another_connection_at_once(demo, app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    journey = Journey(client, "urban-event-report")
    for address in ("漕溪北路 100 号“门口”", "漕溪北路 200 号第二次"):
        assert journey.post("location", {"location.region": "310104",
                                         "location.address": address}).status_code == 302
        with app.extensions["tongban.engine"].connect() as conn:
            answers, visited = conn.execute(
                text("SELECT answers, visited_pages FROM draft WHERE token = :t"),
                {"t": journey.token}).one()
        answers = json.loads(answers) if isinstance(answers, str) else answers
        visited = json.loads(visited) if isinstance(visited, str) else visited
        assert answers["location"]["address"] == address
        assert visited == ["location"]
        html = client.get(journey.url("location")).get_data(as_text=True)
        assert address.replace("“", "&#8220;") in html or address in html


def test_a_post_with_uploads_stores_their_rows_and_the_answers_together(
        personas, app, session) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(personas.as_("citizen"), "residence-points")
    response = journey.post("materials", {
        "materials.id_card": (io.BytesIO(PDF), "身份证.pdf"),
        "materials.residence_permit": (io.BytesIO(PDF), "居住证.pdf"),
        "materials.diploma": (io.BytesIO(PDF), "diploma.pdf"),
        "materials.qualification_certificate": (io.BytesIO(PDF), "证书.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    uploads = {u.field_key: u.public_id for u in session.scalars(select(StoredUpload))}
    draft = session.scalars(select(Draft).where(Draft.token == journey.token)).one()
    assert len(uploads) == 4
    assert draft.answers["materials"] == {key.split(".")[1]: public_id
                                          for key, public_id in uploads.items()}
    assert all(u.draft_id == draft.id for u in session.scalars(select(StoredUpload)))


def test_saves_from_many_threads_at_once_all_land(demo, app, session) -> None:  # type: ignore[no-untyped-def]
    """Writers on many threads at once: on SQLite each waits for the write lock (none fails
    with 'database is locked'), and every save lands."""
    journeys = [Journey(app.test_client(), "urban-event-report") for _ in range(6)]
    failures: list[str] = []

    def save(journey: Journey) -> None:
        try:
            for n in range(10):
                response = journey.post("location", {"location.region": "310104",
                                                     "location.address": f"漕溪北路 {n} 号"})
                if response.status_code != 302:
                    failures.append(f"{response.status_code}")
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(repr(exc))

    threads = [threading.Thread(target=save, args=(journey,)) for journey in journeys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    for journey in journeys:
        draft = session.scalars(select(Draft).where(Draft.token == journey.token)).one()
        assert draft.answers["location"]["address"] == "漕溪北路 9 号"
