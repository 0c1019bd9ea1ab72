"""A ledger definition (``workflow_definitions/ledgers/*.yaml``, kind ``ledger``): its checks
beyond the meta-schema, and the compiled, immutable form the posting code reads."""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from ...definitions.problems import Problem
from ...definitions.yamlpos import Document
from ...models import DefinitionVersion
from ...worktime.calendars import TZ

Names = dict[str, str]
EXPIRY_RULES = ("end_of_next_calendar_year", "end_of_calendar_year", "after_days", "never")


class UnknownLedger(LookupError):
    """No ledger of that id is published."""


@dataclass(frozen=True)
class EventType:
    id: str
    name: Names
    points: int                  # per event, or per unit when ``unit`` is set
    unit: Names | None
    daily_cap: int | None
    monthly_cap: int | None
    sources: tuple[str, ...]

    def points_for(self, quantity: float) -> int:
        """Whole points for ``quantity`` events or units; part-points round down."""
        return int(self.points * quantity + 1e-9)


@dataclass(frozen=True)
class Reward:
    code: str
    name: Names
    cost: int
    stock: int


@dataclass(frozen=True)
class Source:
    id: str
    name: Names
    redeems: bool


@dataclass(frozen=True)
class Ledger:
    id: str
    version: int
    name: Names
    example: bool
    sources: dict[str, Source]
    event_types: dict[str, EventType]
    expiry_rule: str
    expiry_days: int | None
    rewards: dict[str, Reward]

    def expires_at(self, earned: datetime) -> datetime | None:
        """The instant points earned at ``earned`` lapse (Asia/Shanghai days), None for never.
        "End of next calendar year": earned on 2026-05-03, usable through 2027-12-31."""
        day = earned.astimezone(TZ).date()
        if self.expiry_rule == "never":
            return None
        if self.expiry_rule == "after_days":
            lapse = day + timedelta(days=(self.expiry_days or 0) + 1)
        elif self.expiry_rule == "end_of_calendar_year":
            lapse = date(day.year + 1, 1, 1)
        else:
            lapse = date(day.year + 2, 1, 1)
        return datetime.combine(lapse, time(0), TZ)


def compile_ledger(content: dict[str, Any], *, version: int = 0) -> Ledger:
    """A checked ledger document (see :func:`check_ledger`) in its compiled form."""
    types = {}
    for entry in content["event_types"]:
        caps = entry.get("caps") or {}
        types[entry["id"]] = EventType(entry["id"], dict(entry["name"]), entry["points"],
                                       dict(entry["unit"]) if entry.get("unit") else None,
                                       caps.get("daily"), caps.get("monthly"),
                                       tuple(entry["sources"]))
    expiry = content["expiry"]
    return Ledger(
        id=content["id"], version=version, name=dict(content["name"]),
        example=bool(content.get("example", False)),
        sources={s["id"]: Source(s["id"], dict(s["name"]), bool(s.get("redeems", False)))
                 for s in content["sources"]},
        event_types=types, expiry_rule=expiry["rule"], expiry_days=expiry.get("days"),
        rewards={r["code"]: Reward(r["code"], dict(r["name"]), r["cost"], r["stock"])
                 for r in content["rewards"]})


def check_ledger(document: Document, file: str, stem: str) -> list[Problem]:
    """What the meta-schema cannot say: the id is the file name, ids are unique, an event type
    names only the ledger's sources, a cap is not below one event's points."""
    data = document.data
    problems: list[Problem] = []

    def problem(path: list[str | int], message: str) -> None:
        line, column = document.position(path)
        pointer = "/" + "/".join(str(p) for p in path)
        problems.append(Problem(file, line, column, pointer, message))

    if data["id"] != stem:
        problem(["id"], f'the id "{data["id"]}" differs from the file name: expected "{stem}"')
    sources = [s["id"] for s in data["sources"]]
    for kind, key, items in (("source", "id", data["sources"]),
                             ("event type", "id", data["event_types"]),
                             ("reward", "code", data["rewards"])):
        seen: set[str] = set()
        section = {"source": "sources", "event type": "event_types", "reward": "rewards"}[kind]
        for index, item in enumerate(items):
            if item[key] in seen:
                problem([section, index, key], f'the {kind} "{item[key]}" is listed twice')
            seen.add(item[key])
    for index, entry in enumerate(data["event_types"]):
        for n, source in enumerate(entry["sources"]):
            if source not in sources:
                problem(["event_types", index, "sources", n],
                        f'unknown source "{source}": expected one of {", ".join(sources)}')
        for period in ("daily", "monthly"):
            cap = (entry.get("caps") or {}).get(period)
            if cap is not None and not entry.get("unit") and 0 < cap < entry["points"]:
                problem(["event_types", index, "caps", period],
                        f"the {period} cap {cap} is below the {entry['points']} points of one "
                        "event: no event could ever be accepted in full")
    return problems


def published_ledgers(session: Session) -> list[Ledger]:
    """The latest version of every published ledger, by id."""
    codes = session.scalars(select(col(DefinitionVersion.code)).distinct()
                            .where(col(DefinitionVersion.kind) == "ledger")).all()
    return [latest_ledger(session, code) for code in sorted(codes)]


def latest_ledger(session: Session, ledger_id: str) -> Ledger:
    """The latest published version of a ledger (raises :class:`UnknownLedger`)."""
    row = session.scalars(
        select(DefinitionVersion)
        .where(col(DefinitionVersion.kind) == "ledger", col(DefinitionVersion.code) == ledger_id)
        .order_by(col(DefinitionVersion.version).desc()).limit(1)).first()
    if row is None:
        raise UnknownLedger(ledger_id)
    return compile_ledger(row.content, version=row.version)


def month_bounds(moment: datetime) -> tuple[datetime, datetime]:
    """The Asia/Shanghai calendar month containing ``moment``, as instants [start, end)."""
    local = moment.astimezone(TZ)
    start = datetime(local.year, local.month, 1, tzinfo=TZ)
    days = _calendar.monthrange(local.year, local.month)[1]
    return start, start + timedelta(days=days)


def day_bounds(moment: datetime) -> tuple[datetime, datetime]:
    local = moment.astimezone(TZ)
    start = datetime(local.year, local.month, local.day, tzinfo=TZ)
    return start, start + timedelta(days=1)
