"""A notification worker in a process of its own, for the kill test: the channel plugins with
the SMS twin slowed once, after it took a message and before the worker could record it (the
moment a crash costs a duplicate unless the key prevents it). Arguments: database URL,
instance folder, SMS log, marker file, lease seconds."""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

from tongban import PROJECT_ROOT
from tongban.extend.manager import channels_of
from tongban.notify import delivery
from tongban.plugin_api import Notification, NotificationChannel
from tongban.testkit import start_app

for folder in sorted((PROJECT_ROOT / "plugins").iterdir()):
    if (folder / "pyproject.toml").exists() and str(folder) not in sys.path:
        sys.path.append(str(folder))

from .world import channel_plugins  # noqa: E402 - after the plugin folders are on the path


def main(database_url: str, instance: str, sms_log: str, marker: str, lease: str) -> None:
    app = start_app(channel_plugins(), database_url, Path(instance), {"SMS_TWIN_LOG": sms_log})
    channels = dict(channels_of(app))
    sms = channels["sms"]

    def slow_once(notification: Notification) -> None:
        sms.send(notification)
        if marker != "-" and not Path(marker).exists():
            Path(marker).write_text(notification.key)
            time.sleep(120)  # the test kills the process here

    channels["sms"] = NotificationChannel("sms", sms.title, slow_once)
    policy = delivery.Policy(lease=timedelta(seconds=float(lease)))
    engine = app.extensions["tongban.engine"]
    while True:
        delivery.deliver_due(engine, channels, policy)
        time.sleep(0.2)


if __name__ == "__main__":
    main(*sys.argv[1:6])
