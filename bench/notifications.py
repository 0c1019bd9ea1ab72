"""Notifications delivered per second by the worker, against a baseline of writing the rows.

N notifications to one person (site and SMS twin channels) are first written, one
transaction each, as a transition writes them; then the worker delivers them all, one claim
and one record transaction each (the delivery once guarantee costs those two). Prints both
rates and their ratio.

    .venv/bin/python bench/notifications.py [N] [DATABASE_URL]

N defaults to 1000; DATABASE_URL to a temporary SQLite file. Give PostgreSQL a scratch database
(createdb first): the script migrates it. The plugin folders must be importable (installed, or
plugins/site_messages and plugins/sms_twin on PYTHONPATH).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import tongban_site_messages
import tongban_sms_twin

from tongban import create_app, db
from tongban.extend.manager import channels_of
from tongban.migrate import upgrade
from tongban.models import Notification, User
from tongban.notify import delivery


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as folder:
        database = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{Path(folder) / 'b.sqlite3'}"
        upgrade(database)
        app = create_app({"DATABASE_URL": database, "SECRET_KEY": "bench",
                          "PLUGIN_ENTRY_POINTS": False, "SMS_TWIN_LOG": f"{folder}/sms.jsonl",
                          "PLUGINS": [tongban_site_messages, tongban_sms_twin]},
                         instance_path=folder)
        engine = app.extensions["tongban.engine"]
        with db.new_session(engine) as session, db.unit_of_work(session):
            user = User(username=f"bench-{time.time_ns()}", display_name="bench", password_hash="x")
            session.add(user)
            session.flush()
            user_id = user.id
        started = time.perf_counter()
        with db.new_session(engine) as session:
            for i in range(n):
                with db.unit_of_work(session):
                    channel = "site" if i % 2 else "sms"
                    session.add(Notification(
                        key=f"bench:{user_id}:{i}:{channel}", kind="submitted",
                        reference=f"BENCH-{i}", user_id=user_id, channel=channel,
                        recipient=str(user_id) if channel == "site" else "13800138000",
                        language="zh", subject=f"您的申请已提交（BENCH-{i}）",
                        body="您的申请已提交。查看进度：{link}", link=f"/my/applications/BENCH-{i}"))
        written = time.perf_counter() - started
        started = time.perf_counter()
        outcomes = delivery.deliver_due(engine, channels_of(app), delivery.policy_from(app.config),
                                        limit=n + 1)
        delivered = time.perf_counter() - started
        assert len(outcomes) == n and all(o.state == "sent" for o in outcomes)
        engine.dispose()
    print(f"{engine.dialect.name}, {n} notifications")
    print(f"baseline, rows written:  {n / written:8.0f} /s")
    print(f"worker, delivered:       {n / delivered:8.0f} /s")
    print(f"ratio delivered/written: {written / delivered:8.2f}")


if __name__ == "__main__":
    main()
