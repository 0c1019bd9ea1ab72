"""A twin of an SMS gateway: it takes what a real gateway takes (a phone number, a template
id registered with the carrier, the template's parameters) and appends it as one JSON line to
the file the SMS_TWIN_LOG setting names (nothing is sent), so development and tests can read
what would have gone out. A key already in the file is not written again: the gateway twin,
like real gateways given a request id, delivers each message once."""

from __future__ import annotations

import fcntl
import json
import logging
import re
from pathlib import Path
from typing import Any

from tongban.plugin_api import ConnectorError, Notification, NotificationChannel, hookimpl

PLUGIN_NAME = "sms_twin"
PHONE = re.compile(r"\+?[0-9]{6,15}")
log = logging.getLogger(__name__)


def template_id(notification: Notification) -> str:
    """The carrier-registered template a real gateway would be given (one per kind and language)."""
    return f"TONGBAN_{str(notification.data.get('kind', 'message')).upper()}_{notification.language.upper()}"


def params(notification: Notification) -> dict[str, str]:
    return {"reference": str(notification.data.get("reference", "")),
            "link": str(notification.data.get("link", ""))}


def read_log(path: Path) -> list[dict[str, Any]]:
    """Every message the twin has taken, oldest first."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


class Gateway:
    def __init__(self, log_path: str | None) -> None:
        self.path = Path(log_path) if log_path else None

    def send(self, notification: Notification) -> None:
        if not PHONE.fullmatch(notification.recipient):
            raise ConnectorError(f"not a phone number: {notification.recipient!r}", transient=False)
        entry = {"key": notification.key, "phone": notification.recipient,
                 "template_id": template_id(notification), "params": params(notification),
                 "text": notification.body}
        log.info("SMS to %s: %s %s", entry["phone"], entry["template_id"], entry["params"])
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            if any(json.loads(line).get("key") == notification.key
                   for line in handle.read().splitlines() if line.strip()):
                return  # delivered already (the worker was stopped before it could record it)
            handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
            handle.flush()


@hookimpl
def tongban_notification_channels(settings: dict[str, Any]) -> list[NotificationChannel]:
    gateway = Gateway(settings.get("SMS_TWIN_LOG"))
    return [NotificationChannel("sms", {"zh": "短信", "en": "SMS"}, gateway.send)]
