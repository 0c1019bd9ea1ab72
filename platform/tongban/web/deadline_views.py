"""What the pages show of an application's clocks (``flow_deadline`` rows): the deadline that
governs an application, a task's own, and the inbox's marks (overdue, due soon, paused), counted
in working days of the deadline's calendar. Reads only; the engine
(:mod:`tongban.workflow.deadlines`) owns every change to these rows.

A mark is words first (已超期 3 个工作日, 即将到期, 已暂停计时) and a colour second, so nothing is
told by colour alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import String, cast, select
from sqlmodel import Session, col

from ..i18n import N_, current_lang
from ..localtime import local_time
from ..models import FlowDeadline, FlowInstance, FlowTask

LIVE_STATES = ("running", "paused")
DEFAULT_CALENDAR = "shanghai"
"""The calendar of a service that names none (and of a task whose clock has no row)."""

SHANGHAI = ZoneInfo("Asia/Shanghai")
"""Working days are days in Shanghai (the calendars' zone), whatever zone the pages show."""

# Why a clock stops (行政许可法 §45: time not counted), by the engine's codes
# (tongban.workflow.deadlines.PAUSE_REASONS, and "correction" while the applicant corrects).
PAUSE_REASONS = {
    "hearing": N_("Hearing"),
    "inspection": N_("On-site inspection"),
    "expert_review": N_("Expert review"),
    "testing": N_("Inspection or testing"),
    "quarantine": N_("Quarantine"),
    "other": N_("Other reason"),
}
CORRECTION = "correction"
TOLD_IN_WRITING = frozenset({"hearing", "inspection", "expert_review", "testing", "quarantine"})
"""Reasons §45 names: the applicant is told the time needed, in writing."""

DAY_UNITS = frozenset({"working_days", "natural_days"})


def now() -> datetime:
    """The instant the marks are computed for (tests fix it)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class DeadlineView:
    """One clock as the pages read it (the fields of the engine's read model, and the rest of
    the row a page needs)."""

    seq: int
    purpose: str
    unit: str
    amount: int
    extended: int
    due_at: datetime | None
    state: str
    overdue: bool
    paused_at: datetime | None
    pause_reason: str | None
    pause_note: str
    pending_extension: dict[str, Any] | None
    calendar_id: str
    instance_id: int | None = None
    scope: str = "task"
    task_seq: int | None = None
    node: str | None = None
    started_at: datetime | None = None
    extension_limit: int = 0
    elapsed: int = 0
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.amount + self.extended

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES

    @property
    def expected_days(self) -> int | None:
        value = self.data.get("expected_days")
        return value if isinstance(value, int) else None

    @property
    def basis(self) -> str:
        """The legal basis: the row's own, else its statutory preset's (行政许可法第四十二条)."""
        from ..workflow.presets import load_presets

        english = current_lang() == "en"
        if self.data.get("basis"):
            return str(english and self.data.get("basis_en") or self.data["basis"])
        preset = load_presets().get(self.purpose)
        if preset is None:
            return ""
        return (english and preset.spec.basis_en) or preset.spec.basis or ""

    @property
    def unknown(self) -> str:
        """Why the due day is not known (the engine's words name the year), in the page's."""
        words = self.data.get("unknown")
        if not isinstance(words, str) or not words:
            return ""
        year = re.search(r"\b(\d{4})\b", words)
        return missing_words(int(year.group(1))) if year else words


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def view_of(row: FlowDeadline) -> DeadlineView:
    pending = row.pending_extension if isinstance(row.pending_extension, dict) else None
    return DeadlineView(
        seq=row.seq, purpose=row.purpose, unit=row.unit, amount=row.amount,
        extended=row.extended, due_at=_aware(row.due_at), state=row.state,
        overdue=row.overdue, paused_at=_aware(row.paused_at), pause_reason=row.pause_reason,
        pause_note=row.pause_note or "", pending_extension=pending or None,
        calendar_id=row.calendar_id or DEFAULT_CALENDAR, instance_id=row.instance_id,
        scope=row.scope, task_seq=row.task_seq, node=row.node,
        started_at=_aware(row.started_at), extension_limit=row.extension_limit,
        elapsed=row.elapsed, data=dict(row.data or {}))


def live_deadlines(session: Session, instance_ids: Iterable[int]) -> list[DeadlineView]:
    """The running and paused clocks of these instances, in one query."""
    ids = sorted(set(instance_ids))
    if not ids:
        return []
    rows = session.scalars(select(FlowDeadline).where(
        col(FlowDeadline.instance_id).in_(ids), col(FlowDeadline.state).in_(LIVE_STATES))
        .order_by(col(FlowDeadline.instance_id), col(FlowDeadline.seq)))
    return [view_of(row) for row in rows]


def current(session: Session, application_id: int) -> DeadlineView | None:
    """The application's governing clock, chosen as the engine chooses it
    (:func:`tongban.workflow.deadlines.governing`: its statutory clock if one runs, else the
    earliest due task clock), with what the pages show of it."""
    from ..workflow.deadlines import governing

    instance_id = session.scalars(select(col(FlowInstance.id)).where(
        col(FlowInstance.application_id) == application_id)).first()
    if instance_id is None:
        return None
    found = governing(session.scalars(select(FlowDeadline).where(
        col(FlowDeadline.instance_id) == instance_id,
        col(FlowDeadline.state).in_(LIVE_STATES))).all())
    return view_of(found) if found is not None else None


def for_task(session: Session, task_id: int) -> DeadlineView | None:
    """The task's own clock (the newest, whatever its state)."""
    task = session.get(FlowTask, task_id)
    if task is None:
        return None
    row = session.scalars(select(FlowDeadline).where(
        col(FlowDeadline.instance_id) == task.instance_id, col(FlowDeadline.scope) == "task",
        col(FlowDeadline.task_seq) == task.seq).order_by(col(FlowDeadline.seq).desc())).first()
    return view_of(row) if row is not None else None


def application_deadlines(session: Session, instance_id: int | None) -> list[DeadlineView]:
    """The instance's statutory clocks, live or not, oldest first."""
    if instance_id is None:
        return []
    return [view_of(row) for row in session.scalars(select(FlowDeadline).where(
        col(FlowDeadline.instance_id) == instance_id, col(FlowDeadline.scope) == "application")
        .order_by(col(FlowDeadline.seq)))]


def extensions_for(session: Session, approver_id: int) -> list[DeadlineView]:
    """Live clocks with an extension waiting for ``approver_id``'s decision. Requests are few
    and short-lived: the rows holding one are read and the approver is matched here (a JSON
    field is not portably indexed across SQLite and PostgreSQL)."""
    pending = col(FlowDeadline.pending_extension)
    rows = session.scalars(select(FlowDeadline).where(
        col(FlowDeadline.state).in_(LIVE_STATES), pending.is_not(None),
        cast(pending, String) != "null").order_by(col(FlowDeadline.id)))
    views = [view_of(row) for row in rows]
    return [v for v in views if v.pending_extension
            and v.pending_extension.get("approver_id") == approver_id]


# --- counting ---------------------------------------------------------------------------------

class Uncounted(Exception):
    """The days cannot be counted: the calendar lacks the year (or is unknown). ``year`` is
    set for a year not yet published."""

    def __init__(self, message: str, year: int | None = None):
        super().__init__(message)
        self.year = year


class Days:
    """Working days of one calendar (:mod:`tongban.worktime`), or of none: a calendar that
    could not be found counts nothing rather than guess."""

    def __init__(self, calendar: Any = None, problem: str = ""):
        self.calendar = calendar
        self.problem = problem

    def between(self, a: date, b: date) -> int:
        """Working days in (a, b]; 0 when b is not after a."""
        from ..worktime import CalendarNotPublished, working_days_between

        if self.calendar is None:
            raise Uncounted(self.problem)
        if b <= a:
            return 0
        try:
            return working_days_between(self.calendar, a, b)
        except CalendarNotPublished as exc:
            raise Uncounted(str(exc), exc.year) from exc


    def office_seconds(self, a: datetime, b: datetime) -> int:
        """Office seconds of working days in [a, b]; 0 when b is not after a."""
        from ..worktime import CalendarNotPublished, used

        if self.calendar is None:
            raise Uncounted(self.problem)
        if b <= a:
            return 0
        try:
            return used(self.calendar, "working_hours", a, b)
        except CalendarNotPublished as exc:
            raise Uncounted(str(exc), exc.year) from exc


class Calendars:
    """Calendars by id, looked up once per page (the published version, else the shipped
    file, as the engine reads them)."""

    def __init__(self, session: Session):
        self.session = session
        self.found: dict[str, Days] = {}

    def days(self, calendar_id: str | None) -> Days:
        from ..workflow.runtime import calendar_for

        key = calendar_id or DEFAULT_CALENDAR
        if key not in self.found:
            try:
                self.found[key] = Days(calendar_for(self.session, key)[0])
            except LookupError as exc:
                self.found[key] = Days(None, str(exc))
        return self.found[key]


def _day(instant: datetime) -> date:
    return instant.astimezone(SHANGHAI).date()


@dataclass(frozen=True)
class Clock:
    """A clock at one instant, in words: its mark and the units used and left."""

    deadline: DeadlineView | None
    due_at: datetime | None
    unit: str
    mark: str  # overdue | due_soon | paused | running | done | none
    used: int | None = None
    remaining: int | None = None
    overdue_by: int | None = None
    uncounted: str = ""  # why the days are not counted (a calendar year not yet published)
    left_seconds: int | None = None  # hour units: (office) seconds left

    @property
    def minutes_left(self) -> int:
        """Whole minutes left, rounded up (the last hour of an hour SLA is told in minutes)."""
        return -(-(self.left_seconds or 0) // 60)

    @property
    def words(self) -> str:
        """The mark as the inbox and the panel say it ("" for a clock that runs in time)."""
        if self.mark == "overdue":
            if self.overdue_by and self.unit in DAY_UNITS:
                return _("Overdue by %(units)s", units=units(self.unit, self.overdue_by))
            return _("Overdue")
        if self.mark == "due_soon":
            return _("Due soon")
        if self.mark == "paused":
            return _("Clock paused")
        return ""


def clock(deadline: DeadlineView | None, at: datetime, days: Days, *,
          due_at: datetime | None = None, unit: str = "working_days") -> Clock:
    """``deadline`` (or a bare due instant: a task without a clock row) at instant ``at``.

    Day units count working (or natural) days in Shanghai: due soon when the due day is today
    or the next working day; overdue by the working days after the due day up to today. Hour
    units are due soon within the last quarter of the period."""
    if deadline is not None:
        due_at, unit = deadline.due_at, deadline.unit
        if deadline.state in ("done", "cancelled"):
            return Clock(deadline, due_at, unit, "done")
        if deadline.state == "paused":
            used = deadline.elapsed if unit in DAY_UNITS else None
            remaining = max(deadline.total - used, 0) if used is not None else None
            return Clock(deadline, due_at, unit, "paused", used, remaining)
    if due_at is None:
        return Clock(deadline, None, unit, "none")
    due_at = _aware(due_at)
    assert due_at is not None
    count = days.between if unit == "working_days" else _natural
    try:
        if at > due_at or (deadline is not None and deadline.overdue):
            by = count(_day(due_at), _day(at)) if unit in DAY_UNITS else None
            used = deadline.total + (by or 0) if deadline and by is not None else None
            return Clock(deadline, due_at, unit, "overdue", used, 0, by)
        if unit in DAY_UNITS:
            remaining = count(_day(at), _day(due_at))
            used = max(deadline.total - remaining, 0) if deadline is not None else None
            return Clock(deadline, due_at, unit, "due_soon" if remaining <= 1 else "running",
                         used, remaining)
    except Uncounted as exc:
        words = missing_words(exc.year) if exc.year is not None else str(exc)
        return Clock(deadline, due_at, unit, "running", uncounted=words)
    try:  # hours: wall clock; working hours: office time of the calendar's working days
        left = days.office_seconds(at, due_at) if unit == "working_hours" \
            else int((due_at - at).total_seconds())
    except Uncounted as exc:
        words = missing_words(exc.year) if exc.year is not None else str(exc)
        return Clock(deadline, due_at, unit, "running", uncounted=words)
    soon = deadline is not None and left * 4 <= deadline.total * 3600
    return Clock(deadline, due_at, unit, "due_soon" if soon else "running",
                 remaining=left // 3600, left_seconds=left)  # under an hour: in minutes


def _natural(a: date, b: date) -> int:
    return max((b - a).days, 0)


# --- words ------------------------------------------------------------------------------------

def units(unit: str, amount: int) -> str:
    """An amount in its unit, e.g. "20 个工作日" / "20 working days"."""
    if unit == "natural_days":
        return ngettext("%(num)d day", "%(num)d days", amount)
    if unit == "hours":
        return ngettext("%(num)d hour", "%(num)d hours", amount)
    if unit == "working_hours":
        return ngettext("%(num)d working hour", "%(num)d working hours", amount)
    return ngettext("%(num)d working day", "%(num)d working days", amount)


def rule_words(view: DeadlineView) -> str:
    """The rule, e.g. "20 个工作日（+10，经批准）"."""
    words = units(view.unit, view.amount)
    if view.extended:
        words += _(" (+%(num)d, approved)", num=view.extended)
    return words


def due_words(due_at: datetime | None, unit: str) -> str:
    """A due instant as people read it: the day for day units (the clock ends at its close),
    the minute for hour units."""
    if due_at is None:
        return ""
    return local_time(due_at, "date" if unit in DAY_UNITS else "minute")


def pause_reason_words(code: str | None) -> str:
    if code == CORRECTION:
        return _("Waiting for the applicant's corrections")
    return _(PAUSE_REASONS[code]) if code in PAUSE_REASONS else (code or "")


def missing_words(year: int) -> str:
    return _("The calendar for %(year)d is not yet published", year=year)


@dataclass(frozen=True)
class RowMark:
    """What the inbox shows in a task's due column."""

    due: str
    mark: str
    words: str


def inbox_marks(session: Session, rows: Iterable[Any], at: datetime | None = None
                ) -> dict[int, RowMark]:
    """Task id -> its due day and mark, for a page of inbox rows (one query for their clocks).
    A task paused by its own clock or by its application's statutory clock says so."""
    rows = list(rows)
    at = at or now()
    found = live_deadlines(session, {r.instance_id for r in rows})
    own = {(d.instance_id, d.task_seq): d for d in found if d.scope == "task"}
    paused_instances = {d.instance_id for d in found
                        if d.scope == "application" and d.state == "paused"}
    calendars = Calendars(session)
    marks: dict[int, RowMark] = {}
    for row in rows:
        deadline = own.get((row.instance_id, row.seq))
        if row.state not in ("open", "claimed") or row.kind == "cc":
            continue
        days = calendars.days(deadline.calendar_id if deadline else None)
        state = clock(deadline, at, days, due_at=row.due_at)
        if state.mark != "paused" and row.instance_id in paused_instances:
            state = Clock(deadline, state.due_at, state.unit, "paused")
        elif state.mark == "none" and deadline is not None and deadline.unknown:
            # The calendar does not reach the due day: said, not guessed.
            marks[row.task_id] = RowMark("", "unknown", deadline.unknown)
            continue
        # A clock row says its unit; a bare due instant is shown to the minute.
        unit = deadline.unit if deadline else "hours"
        marks[row.task_id] = RowMark(due_words(row.due_at, unit), state.mark, state.words)
    return marks


@dataclass(frozen=True)
class WaitingExtension:
    """An extension request waiting for the signed-in approver, with where to decide it."""

    deadline: DeadlineView
    task_id: int
    reference: str
    units: int
    reason: str
    requested_by: int | None


def waiting_extensions(session: Session, approver_id: int) -> list[WaitingExtension]:
    """The inbox's list of extensions ``approver_id`` is to decide: each linked to the task its
    clock belongs to (an application clock: the instance's newest task)."""
    from ..models import Application

    views = extensions_for(session, approver_id)
    if not views:
        return []
    ids = {v.instance_id for v in views}
    tasks = session.execute(
        select(col(FlowTask.id), col(FlowTask.instance_id), col(FlowTask.seq),
               col(Application.reference))
        .join(FlowInstance, col(FlowInstance.id) == col(FlowTask.instance_id))
        .join(Application, col(Application.id) == col(FlowInstance.application_id))
        .where(col(FlowTask.instance_id).in_(ids), col(FlowTask.kind) != "cc")
        .order_by(col(FlowTask.seq))).all()
    waiting = []
    for view in views:
        own = [t for t in tasks if t.instance_id == view.instance_id]
        chosen = next((t for t in own if t.seq == view.task_seq), own[-1] if own else None)
        if chosen is None:
            continue
        pending = view.pending_extension or {}
        requested = pending.get("requested_by")
        waiting.append(WaitingExtension(
            view, chosen.id, chosen.reference, int(pending.get("units") or 0),
            str(pending.get("reason") or ""),
            requested if isinstance(requested, int) else None))
    return waiting
