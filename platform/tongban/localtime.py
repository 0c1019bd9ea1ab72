"""Times shown to people: stored instants are UTC; pages show them in the TIME_ZONE setting.

Templates use one filter, ``local_time``, for every date and time they show. Formatting and the
zone conversion are Babel's (through Flask-Babel, which reads ``BABEL_DEFAULT_TIMEZONE``, set
from TIME_ZONE in config.py).
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import format_date, format_datetime

from .forms import date_limits

MINUTE = "yyyy-MM-dd HH:mm"
DAY = "yyyy-MM-dd"


def local_time(value: datetime | None, part: str = "minute") -> str:
    """``value`` in the configured zone: to the minute, or only its day with ``part="date"``.
    A naive value is taken as UTC, as the database columns hold it."""
    if value is None:
        return ""
    if part == "date":
        return format_date(value, DAY)
    return format_datetime(value, MINUTE)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["local_time"] = local_time
    date_limits.use_time_zone(app.config["TIME_ZONE"])
