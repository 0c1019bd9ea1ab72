"""Site messages: the in-app inbox (/my/messages). The platform keeps every notification in
its outbox table, so a site message is delivered once the outbox row is marked sent: this
channel only checks that the recipient is an account. It ships as a plugin like any other
channel, so a deployment may replace it (a unified government message centre)."""

from __future__ import annotations

from typing import Any

from tongban.plugin_api import ConnectorError, Notification, NotificationChannel, hookimpl

PLUGIN_NAME = "site_messages"


def send(notification: Notification) -> None:
    if not notification.recipient.isdigit():
        raise ConnectorError(f"a site message goes to an account id, not {notification.recipient!r}",
                             transient=False)


@hookimpl
def tongban_notification_channels(settings: dict[str, Any]) -> list[NotificationChannel]:
    return [NotificationChannel("site", {"zh": "站内消息", "en": "Site messages"}, send)]
