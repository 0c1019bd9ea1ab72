"""Notifications by email through an SMTP server (settings SMTP_HOST, SMTP_PORT, MAIL_FROM).

The delivery key becomes the Message-ID, so a message the worker sent twice after a crash is
one message to mail clients that de-duplicate, and traceable in the server's log. Refused
recipients and 5xx answers are permanent; a refused connection, a timeout and 4xx answers are
transient (the worker tries again with backoff)."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from tongban.plugin_api import ConnectorError, Notification, NotificationChannel, hookimpl

PLUGIN_NAME = "email_channel"
TIMEOUT_SECONDS = 10.0


def build_message(notification: Notification, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = notification.recipient
    message["Subject"] = notification.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<{notification.key.replace(':', '.')}@tongban>"
    message.set_content(notification.body)  # before Content-Language: it resets Content-*
    message["Content-Language"] = "zh-CN" if notification.language == "zh" else "en"
    return message


def sender(settings: dict[str, Any]) -> Callable[[Notification], None]:
    host = str(settings.get("SMTP_HOST") or "127.0.0.1")
    port = int(settings.get("SMTP_PORT") or 25)
    mail_from = str(settings.get("MAIL_FROM") or "noreply@tongban.localhost")

    def send(notification: Notification) -> None:
        if "@" not in notification.recipient:
            raise ConnectorError(f"not an email address: {notification.recipient!r}",
                                 transient=False)
        message = build_message(notification, mail_from)
        try:
            with smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS) as smtp:
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise ConnectorError(f"the mail server refused {notification.recipient}: "
                                 f"{exc.recipients}", transient=False) from exc
        except smtplib.SMTPResponseException as exc:
            raise ConnectorError(f"the mail server answered {exc.smtp_code} {exc.smtp_error!r}",
                                 transient=exc.smtp_code < 500) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise ConnectorError(f"mail server {host}:{port}: {type(exc).__name__}: {exc}",
                                 transient=True) from exc

    return send


@hookimpl
def tongban_notification_channels(settings: dict[str, Any]) -> list[NotificationChannel]:
    return [NotificationChannel("email", {"zh": "电子邮件", "en": "Email"}, sender(settings))]
