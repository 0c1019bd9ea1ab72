"""`tongban calendar ...`: due dates and working-day counts from the shell, checking and
publishing calendar files, the list of calendars.

`due`, `days` and `list` use the published calendars of the configured database when it is
initialised and has them, else the files (stderr says which). Bad input is one line on stderr
and exit status 2."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import NoReturn

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from .. import db
from .calendars import TZ, Calendar, CalendarNotPublished, UnknownCalendar
from .files import CalendarFileError, file_calendar, file_calendar_ids
from .periods import UNITS, Period, PeriodError, add_working_days, due_at, working_days_between

DEFAULT_CALENDAR = "shanghai"


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@contextmanager
def _database() -> Iterator[Session | None]:
    """A session on the configured database when it is initialised (migrated), else None."""
    try:
        engine = current_app.extensions["tongban.engine"]
        if not inspect(engine).has_table("definition_version"):
            yield None
            return
    except (RuntimeError, KeyError, SQLAlchemyError):
        yield None
        return
    with db.new_session(engine) as session:
        yield session


def load_calendar(calendar_id: str) -> Calendar:
    """The published calendar when the database has it, else the file; says which on stderr."""
    from .store import calendar_for, published_calendar_ids

    with _database() as session:
        if session is not None and calendar_id in published_calendar_ids(session):
            calendar = calendar_for(session, calendar_id)
            click.echo(f"calendar {calendar_id} version {calendar.version} from the database "
                       f"({calendar.known_range()})", err=True)
            return calendar
        where = "not initialised" if session is None else f"without a published {calendar_id}"
    try:
        calendar = file_calendar(calendar_id)
    except UnknownCalendar as exc:
        fail(str(exc))
    except CalendarFileError as exc:
        fail(f"calendar {calendar_id} has problems: {exc.problems[0]}")
    click.echo(f"calendar {calendar_id} from its file (database {where}; "
               f"{calendar.known_range()})", err=True)
    return calendar


def parse_day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f'{what} "{text}" is not a date; expected YYYY-MM-DD')


def parse_instant(text: str, what: str) -> datetime:
    """A date (its 00:00) or a date and time; without an offset, Asia/Shanghai time."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail(f'{what} "{text}" is not a date or time; expected YYYY-MM-DD or '
             "YYYY-MM-DDTHH:MM[+08:00]")
    return value if value.tzinfo is not None else value.replace(tzinfo=TZ)


@click.group("calendar", cls=AppGroup)
def calendar_group() -> None:
    """Working-day calendars: due dates, counts, checking and publishing calendar files."""


@calendar_group.command("due")
@click.argument("start")
@click.argument("amount")
@click.option("--calendar", "calendar_id", default=DEFAULT_CALENDAR, show_default=True)
@click.option("--unit", type=click.Choice(UNITS), default="working_days", show_default=True)
def calendar_due(start: str, amount: str, calendar_id: str, unit: str) -> None:
    """The due date of AMOUNT units from START: for day units the last day (ISO date; the
    period ends at 23:59:59 of it), for hour units the instant (ISO, Asia/Shanghai)."""
    if not amount.lstrip("-").isdigit():
        fail(f'the amount "{amount}" is not a whole number')
    try:
        period = Period(unit, int(amount))
    except PeriodError as exc:
        fail(str(exc))
    instant = parse_instant(start, "the start")
    calendar = load_calendar(calendar_id)
    try:
        if unit == "working_days":
            click.echo(add_working_days(calendar, instant.astimezone(TZ).date(), period.amount)
                       .isoformat())
        elif unit == "natural_days":
            click.echo(due_at(calendar, period, instant).astimezone(TZ).date().isoformat())
        else:
            click.echo(due_at(calendar, period, instant).astimezone(TZ).isoformat())
    except CalendarNotPublished as exc:
        fail(str(exc))


@calendar_group.command("days")
@click.argument("first")
@click.argument("last")
@click.option("--calendar", "calendar_id", default=DEFAULT_CALENDAR, show_default=True)
def calendar_days(first: str, last: str, calendar_id: str) -> None:
    """The number of working days in (FIRST, LAST]."""
    a, b = parse_day(first, "the first day"), parse_day(last, "the last day")
    calendar = load_calendar(calendar_id)
    try:
        click.echo(str(working_days_between(calendar, a, b)))
    except CalendarNotPublished as exc:
        fail(str(exc))
    except ValueError as exc:
        fail(str(exc))


@calendar_group.command("check")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
def calendar_check(files: tuple[Path, ...]) -> None:
    """Check calendar files (together with the shipped calendars they may extend). Never
    writes. Exit 1 when any has a problem."""
    from .check import check_documents
    from .files import catalogue_regions, read_document

    documents, problems = [], []
    for path in files:
        document, found = read_document(path.read_text(encoding="utf-8"), str(path))
        problems.extend(found)
        if document is not None:
            documents.append((str(path), None, document))
    given = {d.data.get("id") for _, _, d in documents if isinstance(d.data, dict)}
    known = {}
    for calendar_id in file_calendar_ids():
        if calendar_id not in given:
            try:
                known[calendar_id] = file_calendar(calendar_id)
            except (UnknownCalendar, CalendarFileError):
                continue
    compiled, found = check_documents(documents, regions=catalogue_regions(), known=known)
    problems.extend(found)
    for problem in problems:
        click.echo(str(problem), err=True)
    for calendar in compiled.values():
        click.echo(f"OK: calendar {calendar.id} ({calendar.known_range()})")
    if problems:
        click.echo(f"{len(problems)} problem(s) found.", err=True)
        sys.exit(1)


@calendar_group.command("publish")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--author", default=lambda: getpass.getuser(), show_default="current OS user")
@click.option("--comment", default="", help="Why this version was published")
def calendar_publish(file: Path, author: str, comment: str) -> None:
    """Check a calendar file and publish it as the calendar's next version (no release
    needed); prints the version. Exit 1 with the problems when it has any."""
    from .store import publish_text

    with _database() as session:
        if session is None:
            fail("the database is not initialised; run `tongban db upgrade` first")
        with db.unit_of_work(session) as tx:
            outcome = publish_text(tx, file.read_text(encoding="utf-8"), file=str(file),
                                   author=author, comment=comment)
    for problem in outcome.problems:
        click.echo(str(problem), err=True)
    if outcome.problems:
        click.echo(f"{len(outcome.problems)} problem(s) found; nothing was published.", err=True)
        sys.exit(1)
    assert outcome.calendar is not None
    row = outcome.version or outcome.unchanged
    assert row is not None
    state = "published" if outcome.version else "unchanged:"
    click.echo(f"{state} calendar {row.code} version {row.version} "
               f"({outcome.calendar.known_range()})")


@calendar_group.command("list")
def calendar_list() -> None:
    """The calendars: id, version, region, known range, name."""
    from .store import calendar_for, published_calendar_ids

    with _database() as session:
        ids = published_calendar_ids(session) if session is not None else []
        if ids:
            assert session is not None
            click.echo("published calendars (database):", err=True)
            calendars = [calendar_for(session, calendar_id) for calendar_id in ids]
        else:
            click.echo("calendar files (no calendar published in the database):", err=True)
            calendars = []
            for calendar_id in file_calendar_ids():
                try:
                    calendars.append(file_calendar(calendar_id))
                except CalendarFileError as exc:
                    click.echo(f"{calendar_id}: {exc.problems[0]}", err=True)
    for calendar in calendars:
        click.echo(f"{calendar.id}\tv{calendar.version}\t{calendar.region}\t"
                   f"{calendar.known_range()}\t{calendar.name.get('zh', '')}")
