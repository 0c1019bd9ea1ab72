"""Issue 14 item 9: every dashboard figure, computed in SQL, equals the same figure computed
in plain Python over every row of a generated history (run with --db=sqlite and
--db=postgresql: the same answers on both). The Python side uses the zone database for local
periods and a sort for the percentile, so neither shares the SQL's method."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from statistics import fmean
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import select

from tongban import db
from tongban.dashboards import figures
from tongban.dashboards.figures import Scope
from tongban.models import Application, FlowDeadline, FlowEvent, FlowInstance, FlowTask

from .history_world import NOW, seed

SH = ZoneInfo("Asia/Shanghai")
LOOP = ["urban-event-report"]


def p90(values: Iterable[float]) -> float:
    ordered = sorted(values)
    return ordered[-(-9 * len(ordered) // 10) - 1]


def bucket(instant: datetime, period: str) -> str:
    day = instant.astimezone(SH).date()
    if period == "month":
        return f"{day:%Y-%m}"
    if period == "week":
        day -= timedelta(days=day.weekday())
    return day.isoformat()


class Rows:
    """Every row of the history, read once."""

    def __init__(self, engine: Any) -> None:
        with db.new_session(engine) as session:
            self.apps = {a.id: a for a in session.scalars(select(Application))}
            self.instances = {i.id: i for i in session.scalars(select(FlowInstance))}
            self.events = list(session.scalars(select(FlowEvent)))
            self.deadlines = list(session.scalars(select(FlowDeadline)))
            self.tasks = list(session.scalars(select(FlowTask)))
        # The departments that handled each application: its tasks' departments.
        self.handlers: dict[int, set[str]] = defaultdict(set)
        for task in self.tasks:
            if task.candidate_department:
                self.handlers[self.app_of(task.instance_id).id].add(  # type: ignore[arg-type]  # saved rows
                    task.candidate_department)

    def app_of(self, instance_id: int | None) -> Application:
        return self.apps[self.instances[instance_id].application_id]  # type: ignore[index]  # every generated instance has an application

    def chosen(self, app: Application, scope: Scope, submitted: bool = True) -> bool:
        return ((not submitted or scope.start <= app.submitted_at < scope.end)
                and scope.service in (None, app.service_code)
                and (scope.departments is None or app.department_code in scope.departments
                     or bool(self.handlers[app.id] & scope.departments)))  # type: ignore[index]  # saved rows


def _session(demo: Any) -> Any:
    return db.new_session(demo.extensions["tongban.engine"])


def _start(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=SH).astimezone(UTC)


SCOPES = [
    Scope(start=_start("2025-12-01"), end=_start("2026-12-01"), period="month"),
    Scope(start=_start("2026-03-01"), end=_start("2026-09-01"), period="week",
          departments=frozenset({"sh-rsj", "sh-cgj"})),
    Scope(start=_start("2026-10-01"), end=_start("2026-12-01"), period="day",
          service="urban-event-report"),
    Scope(start=_start("2026-06-15"), end=_start("2026-06-16"), period="day",
          service="household-transfer"),
    # A district office: the city bureau's reports whose steps it took.
    Scope(start=_start("2025-12-01"), end=_start("2026-12-01"), period="month",
          departments=frozenset({"sh-cgj-xuhui"})),
]


def test_every_figure_in_sql_equals_the_python_oracle(demo):
    """One history, five scopes: a year by month, two departments by week, one service by
    day, a single day, and a district office's year."""
    seed(demo, 1000)
    rows = Rows(demo.extensions["tongban.engine"])
    for scope in SCOPES:
        _check(demo, rows, scope)


def _check(demo: Any, rows: Rows, scope: Scope) -> None:
    with _session(demo) as session:
        got = {
            "volumes": figures.volumes(session, scope),
            "departments": figures.volumes_by_department(session, scope),
            "backlog": figures.backlog(session, scope, now=NOW, soon=NOW + timedelta(days=1)),
            "handling": figures.handling_times(session, scope),
            "corrections": figures.correction_rates(session, scope),
            "returns": figures.return_reasons(session, scope, limit=100),
            "return_count": figures.return_count(session, scope),
            "loop": figures.closed_loop(session, scope, LOOP),
        }
    apps = [a for a in rows.apps.values() if rows.chosen(a, scope)]
    assert apps or scope.period == "day"

    volumes = Counter((bucket(a.submitted_at, scope.period), a.service_code) for a in apps)
    assert [(r.period, r.key, r.count) for r in got["volumes"]] == \
        sorted((p, s, n) for (p, s), n in volumes.items())

    departments = Counter(a.department_code for a in apps)
    assert [(r.key, r.count) for r in got["departments"]] == \
        sorted(departments.items(), key=lambda item: (-item[1], item[0]))

    backlog: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for task in rows.tasks:
        app = rows.app_of(task.instance_id)
        if task.state in ("open", "claimed") and task.kind != "cc" and \
                rows.chosen(app, scope, submitted=False):
            counts = backlog[app.service_code]
            counts[0] += 1
            counts[1] += task.due_at is not None and task.due_at < NOW
            counts[2] += task.due_at is not None and NOW <= task.due_at <= NOW + timedelta(days=1)
    assert [(r.service, r.open, r.overdue, r.due_soon) for r in got["backlog"]] == \
        sorted((s, *c) for s, c in backlog.items())
    # Reports close within hours: a scope of reports alone may have nothing waiting.
    assert any(r.open for r in got["backlog"]) or scope.service == "urban-event-report" \
        or {a.service_code for a in apps} == {"urban-event-report"}

    clocks: dict[tuple[str, str], list[FlowDeadline]] = defaultdict(list)
    for clock in rows.deadlines:
        app = rows.app_of(clock.instance_id)
        if clock.scope == "application" and clock.state == "done" and \
                clock.unit in figures.DAY_UNITS and clock.ended_at is not None and \
                scope.start <= clock.ended_at < scope.end and \
                rows.chosen(app, scope, submitted=False):
            clocks[(app.service_code, clock.unit)].append(clock)
    assert [(r.service, r.unit, r.closed, r.average, r.p90, r.limit, r.on_time)
            for r in got["handling"]] == sorted(
        (service, unit, len(found), round(fmean(c.elapsed for c in found), 1),
         p90(c.elapsed for c in found), max(c.amount for c in found),
         sum(not c.overdue for c in found)) for (service, unit), found in clocks.items())

    corrected = {e.instance_id for e in rows.events if e.type == "correction_requested"}
    by_service: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for instance in rows.instances.values():
        app = rows.apps[instance.application_id]  # type: ignore[index]  # as above
        if rows.chosen(app, scope):
            by_service[app.service_code][0] += 1
            by_service[app.service_code][1] += instance.id in corrected
    assert [(r.service, r.applications, r.corrected) for r in got["corrections"]] == \
        sorted((s, *c) for s, c in by_service.items())

    returns = [e for e in rows.events if e.type in figures.RETURN_EVENTS
               and scope.start <= e.at < scope.end
               and rows.chosen(rows.app_of(e.instance_id), scope, submitted=False)]
    reasons = Counter(((e.data.get("comment") or "").strip(), e.type == "auto_returned")
                      for e in returns)
    assert [(r.reason, r.automatic, r.count) for r in got["returns"]] == sorted(
        ((reason, automatic, n) for (reason, automatic), n in reasons.items()),
        key=lambda item: (-item[2], item[0], item[1]))
    assert got["return_count"] == len(returns)

    loop: dict[str, list[Any]] = defaultdict(list)
    for instance in rows.instances.values():
        app = rows.apps[instance.application_id]  # type: ignore[index]  # as above
        if app.service_code in LOOP and rows.chosen(app, scope):
            loop[bucket(app.submitted_at, scope.period)].append(instance)
    expected = []
    for period, instances in sorted(loop.items()):
        closed = [i for i in instances if i.ended_at is not None and i.status == "completed"]
        hours = [(i.ended_at - rows.apps[i.application_id].submitted_at).total_seconds() / 3600
                 for i in closed]
        late = {d.instance_id for d in rows.deadlines if d.overdue}
        back = {e.instance_id for e in rows.events
                if e.type == "returned" and e.data.get("to") != "applicant"}
        expected.append((period, len(instances), len(closed),
                         round(fmean(hours), 1) if hours else None,
                         round(p90(hours), 1) if hours else None,
                         sum(i.id not in late for i in closed), sum(i.id in back for i in closed)))
    assert [(r.period, r.reports, r.closed, r.average_hours, r.p90_hours, r.on_time, r.reopened)
            for r in got["loop"]] == expected


def test_the_history_is_the_same_for_the_same_seed_and_spans_the_year(demo):
    seed(demo, 400)
    rows = Rows(demo.extensions["tongban.engine"])
    submitted = sorted(a.submitted_at for a in rows.apps.values())
    assert len(submitted) == 400
    assert submitted[0] >= NOW - timedelta(days=365) and submitted[-1] <= NOW
    services = Counter(a.service_code for a in rows.apps.values())
    assert set(services) == {"residence-points", "household-transfer", "enterprise-credit",
                             "urban-event-report"}
    kinds = Counter(e.type for e in rows.events)
    assert kinds["correction_requested"] and kinds["returned"] and kinds["completed"]
    assert any(d.overdue for d in rows.deadlines) and any(not d.overdue for d in rows.deadlines)
    first = sorted((a.reference, a.service_code, a.submitted_at) for a in rows.apps.values())
    seed(demo, 400)  # again, same seed: the same applications after the first ones
    again = Rows(demo.extensions["tongban.engine"])
    later = sorted((a.service_code, a.submitted_at) for a in again.apps.values()
                   if a.reference not in {row[0] for row in first})
    assert later == sorted((service, at) for _, service, at in first)


def test_the_p90_is_the_nearest_rank_one_on_a_known_handful(demo):
    """Closed statutory clocks given 1, 2, ... n working days: the p90 is the ceil(0.9 n)-th
    value (n = 10: the 9th; n = 11: the 10th), the average their mean."""
    seed(demo, 120)
    with _session(demo) as session:
        clocks = list(session.scalars(select(FlowDeadline).where(
            FlowDeadline.scope == "application", FlowDeadline.state == "done")
            .join(FlowInstance, FlowInstance.id == FlowDeadline.instance_id)
            .join(Application, Application.id == FlowInstance.application_id)
            .where(Application.service_code == "residence-points")
            .order_by(FlowDeadline.id)))
        assert len(clocks) >= 11
        for n in (10, 11):
            for number, clock in enumerate(clocks, start=1):
                clock.elapsed = number if number <= n else 1
                clock.ended_at = NOW - timedelta(days=3) if number <= n else NOW - timedelta(days=400)
                session.add(clock)
            session.commit()
            scope = Scope(start=NOW - timedelta(days=30), end=NOW,
                          service="residence-points")
            (figure,) = figures.handling_times(session, scope)
            assert (figure.closed, figure.average, figure.p90) == \
                (n, round((n + 1) / 2, 1), {10: 9, 11: 10}[n])


def test_the_seed_command_adds_a_history_and_refuses_a_count_of_zero(demo, cli, app):
    result = cli("dashboards", "seed", "--applications", "50", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("added 50 applications over 365 days in ")
    rows = Rows(demo.extensions["tongban.engine"])
    assert len(rows.apps) == 50 and len(rows.instances) == 50
    bad = cli("dashboards", "seed", "--applications", "0")
    assert bad.exit_code == 2 and "0 is not in the range 1<=x<=1000000" in bad.output


def test_the_seed_command_needs_published_services(app, cli):
    result = cli("dashboards", "seed", "--applications", "5")
    assert result.exit_code == 1
    assert "no published services: publish the definitions first" in result.output
