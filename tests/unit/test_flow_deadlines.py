"""Deadlines in the engine (tongban.workflow.deadlines), pure over State on the synthetic
calendar CAL-T (C1): clocks of tasks and statutory periods, C4 pause and resume, restart on 补正,
C5 extensions, timers and what a timeout does, and every refusal changing nothing."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tongban.models import FlowInstance
from tongban.workflow import deadlines, engine
from tongban.workflow.deadline_spec import DeadlineSpec, Span
from tongban.workflow.definition import compile_flow
from tongban.workflow.errors import FlowError, Invalid, NotActionable, NotYours
from tongban.workflow.memory import InMemoryDirectory
from tongban.workflow.state import State
from tongban.worktime import file_calendar

SH = ZoneInfo("Asia/Shanghai")
CAL_T = file_calendar("cal-t")
USERS = {"zhang": 1, "clerk": (2, [("counter_clerk", "sh-rsj")]),
         "rev_a": (3, [("reviewer", "sh-rsj")]), "rev_b": (4, [("reviewer", "sh-rsj")]),
         "admin": (5, [("department_admin", "sh-rsj")])}
ZHANG, CLERK, REV_A, REV_B, ADMIN = 1, 2, 3, 4, 5


def t(text: str) -> datetime:
    """A local time in Shanghai as an aware UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=SH).astimezone(UTC)


def local(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(SH).strftime("%Y-%m-%d %H:%M:%S")


class Run:
    """One instance on the pure engine with its clocks and timers, as the bench keeps them."""

    def __init__(self, nodes: dict[str, Any], app_deadlines: list[dict[str, Any]] | None = None,
                 start: str = "2026-10-12T09:00", calendar: Any = CAL_T) -> None:
        content = {"code": "t", "name": {"zh": "t", "en": "t"}, "nodes": nodes,
                   **({"deadlines": app_deadlines} if app_deadlines else {})}
        self.flow = compile_flow(content)
        self.directory = InMemoryDirectory({"sh-rsj": (None, None)}, USERS)
        self.instance = FlowInstance(id=7, application_id=1, flow_code="t", flow_version_id=1,
                                     status="submitted", applicant_id=ZHANG, vars={},
                                     next_seq=1, department_code="sh-rsj")
        self.tokens: list[Any] = []
        self.tasks: list[Any] = []
        self.deadlines: list[Any] = []
        self.timers: list[Any] = []
        self.events: list[Any] = []
        self.calendar = calendar
        self.run(engine.start, ZHANG, t(start))

    def state(self) -> State:
        return State(flow=self.flow, instance=self.instance, tokens=self.tokens,
                     tasks=self.tasks, answers={"name": "张三"}, applicant_id=ZHANG,
                     directory=self.directory, deadlines=self.deadlines,
                     calendar=self.calendar)

    def _keep(self, state: State) -> None:
        for timer in self.timers:
            if timer.state == "pending" and timer.deadline_seq in state.cancelled_timers:
                timer.state = "cancelled"
        self.timers += [row for row in state.new_rows if type(row).__name__ == "FlowTimer"]
        self.events += state.events

    def run(self, operation: Any, actor: int | None, now: datetime, *args: Any, **kw: Any) -> State:
        state = self.state()
        operation(state, actor, now, *args, **kw)
        deadlines.sync(state, now)
        self._keep(state)
        return state

    def fire(self, timer: Any, now: datetime | None = None) -> str:
        state = self.state()
        outcome = deadlines.fire_timer(state, timer, now or timer.due_at)
        deadlines.sync(state, now or timer.due_at)
        timer.state = "done"
        self._keep(state)
        return outcome

    def pending(self, kind: str | None = None) -> list[Any]:
        return [x for x in self.timers if x.state == "pending" and kind in (None, x.kind)]

    def snapshot(self) -> Any:
        return ([r.model_dump() for r in self.deadlines], [r.model_dump() for r in self.tasks],
                self.instance.model_dump(), [r.model_dump() for r in self.timers])

    def refused(self, error: type[FlowError], code: str, operation: Any, actor: int | None,
                now: datetime, *args: Any, **kw: Any) -> None:
        before = copy.deepcopy(self.snapshot())
        with pytest.raises(error) as caught:
            operation(self.state(), actor, now, *args, **kw)
        assert caught.value.code == code
        assert self.snapshot() == before, f"{code}: the refusal changed something"

    def types(self) -> list[str]:
        return [event.type for event in self.events]

    def open_task(self, node: str) -> Any:
        return next(x for x in self.tasks if x.node == node and x.state in ("open", "claimed"))


def review(deadline: dict[str, Any] | None = None, to: str = "done") -> dict[str, Any]:
    return {"type": "task", "name": {"zh": "审查", "en": "Review"}, "who": {"user": "rev_a"},
            **({"deadline": deadline} if deadline else {}), "next": to}


START = {"type": "start", "next": "review"}
END = {"type": "end", "outcome": "approved"}
LICENCE = [{"id": "decision", "preset": "licence_decision", "starts_on": "submitted",
            "ends_on": "decided"}]


def test_a_task_deadline_opens_with_its_task_due_on_the_c2_day_with_two_timers():
    run = Run({"start": START, "review": review({"working_days": 5}), "done": END},
              start="2026-09-29T09:00")
    task = run.open_task("review")
    (clock,) = run.deadlines
    # C1/C2: five working days after Tue 29 Sep across Golden Week and the Saturday worked.
    assert local(task.due_at) == local(clock.due_at) == "2026-10-12 23:59:59"
    assert (clock.scope, clock.task_seq, clock.unit, clock.amount, clock.state) == \
        ("task", task.seq, "working_days", 5, "running")
    assert clock.calendar_id == "cal-t"
    soon, timeout = run.pending()
    assert (soon.kind, local(soon.due_at)) == ("deadline.due_soon", "2026-10-10 23:59:59")
    assert (timeout.kind, local(timeout.due_at)) == ("deadline.timeout", "2026-10-12 23:59:59")
    assert timeout.key == f"7:{clock.seq}:timeout:1" and timeout.payload == {"generation": 1}
    created = next(e for e in run.events if e.type == "task_created")
    assert created.data["deadline"] == clock.seq and created.data["due_at"] == clock.due_at.isoformat()


def test_a_deadline_spec_built_directly_and_the_old_raw_form_are_the_same_clock():
    assert deadlines.spec_of({"working_days": 5}) == DeadlineSpec(period=Span("working_days", 5))
    spec = DeadlineSpec(period=Span("hours", 2), on_timeout=("remind",))
    assert deadlines.spec_of(spec) is spec and deadlines.spec_of(None) is None


def test_the_task_clock_closes_with_its_task_and_its_timers_go_stale():
    run = Run({"start": START, "review": review({"working_days": 3}), "done": END})
    timeout = run.pending("deadline.timeout")[0]
    run.run(engine.approve, REV_A, t("2026-10-13T10:00"), run.open_task("review").seq)
    (clock,) = run.deadlines
    assert (clock.state, clock.overdue, local(clock.ended_at)) == ("done", False, "2026-10-13 10:00:00")
    assert run.pending() == [] and timeout.state == "cancelled"
    assert run.fire(timeout) == "stale" and "overdue" not in run.types()


def test_timeout_marks_overdue_and_reminds_until_times():
    run = Run({"start": START, "review": review({
        "working_days": 2, "on_timeout": ["remind"],
        "remind": {"every": {"working_days": 1}, "times": 2}}), "done": END})
    timeout = run.pending("deadline.timeout")[0]
    assert run.fire(timeout) == "done"
    (clock,) = run.deadlines
    assert clock.overdue and run.instance.overdue
    assert run.types()[-2:] == ["overdue", "reminded"]
    assert run.events[-1].data["to"] == [REV_A]
    (again,) = run.pending("deadline.remind")
    assert (local(again.due_at), again.payload["n"]) == ("2026-10-15 23:59:59", 2)
    assert run.fire(again) == "done" and run.pending("deadline.remind") == []  # times: 2
    assert run.fire(timeout) == "stale"  # a timer fired twice does nothing the second time
    assert run.types().count("overdue") == 1


def test_escalation_offers_the_task_to_the_department_admin_and_sends_a_notice():
    run = Run({"start": START, "review": review({
        "working_days": 1, "on_timeout": ["escalate"], "escalate_to": "department_admin"}),
        "done": END})
    run.fire(run.pending("deadline.timeout")[0])
    task = run.open_task("review")
    assert task.data["escalated_to"] == [ADMIN]
    notice = next(x for x in run.tasks if x.kind == "cc")
    assert notice.assignee_id == ADMIN and notice.data["notice"] == "escalation"
    run.run(engine.approve, ADMIN, t("2026-10-14T10:00"), task.seq)
    assert run.instance.status == "approved" and task.done_by == ADMIN


def test_auto_approve_and_auto_return_decide_as_the_system():
    run = Run({"start": {"type": "start", "next": "first"},
               "first": {**review({"working_days": 1, "on_timeout": ["auto_approve"]},
                                  "review"), "who": {"user": "rev_b"}},
               "review": review({"working_days": 1, "on_timeout": ["auto_return"]}),
               "done": END})
    first = run.open_task("first")
    run.fire(run.pending("deadline.timeout")[0])
    assert (first.state, first.outcome, first.done_by) == ("done", "approved", None)
    assert "auto_approved" in run.types()
    second = run.open_task("review")
    run.fire(run.pending("deadline.timeout")[-1])
    # No person decided an earlier step (the first was the system's), so back to the applicant.
    returned = next(e for e in run.events if e.type == "auto_returned")
    assert (second.outcome, returned.data["to"], run.instance.status) == \
        ("returned", "applicant", "returned")
    assert run.pending() == [] and all(d.state != "running" for d in run.deadlines)


def test_intake_silence_is_deemed_acceptance_and_moves_the_status_on():
    run = Run({"start": {"type": "start", "next": "intake"},
               "intake": {"type": "task", "kind": "intake", "name": {"zh": "受理", "en": "In"},
                          "who": {"role": "counter_clerk", "department": "sh-rsj"},
                          "deadline": {"preset": "intake_answer"}, "next": "review"},
               "review": review(), "done": END}, start="2026-09-29T09:00")
    timeout = run.pending("deadline.timeout")[0]
    assert local(timeout.due_at) == "2026-10-12 23:59:59"
    run.fire(timeout)
    deemed = next(e for e in run.events if e.type == "deemed_accepted")
    assert deemed.status == "accepted" and deemed.actor_id is None
    assert run.instance.status == "in_progress" and run.open_task("review")


def test_pause_and_resume_follow_c4_and_refusals_change_nothing():
    run = Run({"start": START, "review": review(), "done": END}, LICENCE)
    (clock,) = run.deadlines
    assert (clock.scope, clock.purpose, local(clock.due_at)) == \
        ("application", "licence_decision", "2026-11-09 23:59:59")
    assert "deadline_set" in run.types()
    run.refused(Invalid, "clock_not_paused", deadlines.resume_clock, REV_A, t("2026-10-13T10:00"))
    run.refused(NotYours, "not_clock_holder", deadlines.pause_clock, REV_B, t("2026-10-16T10:00"),
                reason="hearing")
    run.refused(Invalid, "pause_reason_unknown", deadlines.pause_clock, REV_A,
                t("2026-10-16T10:00"), reason="lunch")
    run.refused(Invalid, "pause_note_required", deadlines.pause_clock, REV_A,
                t("2026-10-16T10:00"), reason="other")
    run.run(deadlines.pause_clock, REV_A, t("2026-10-16T10:00"), reason="hearing", note="听证")
    assert (clock.state, clock.elapsed, clock.due_at) == ("paused", 4, None)  # E = 13,14,15,16
    assert run.instance.clock_paused and run.pending() == []
    run.refused(Invalid, "clock_already_paused", deadlines.pause_clock, REV_A,
                t("2026-10-17T10:00"), reason="hearing")
    run.run(deadlines.resume_clock, REV_A, t("2026-10-26T09:00"))
    assert local(clock.due_at) == "2026-11-17 23:59:59"  # R + (20 − 4) working days
    assert not run.instance.clock_paused and clock.state == "running"
    assert [x.kind for x in run.pending()] == ["deadline.due_soon", "deadline.timeout"]
    run.run(engine.approve, REV_A, t("2026-10-27T10:00"), run.open_task("review").seq)
    assert clock.state == "done"
    run.refused(NotActionable, "ended", deadlines.pause_clock, REV_A, t("2026-10-28T10:00"),
                deadline_seq=clock.seq, reason="hearing")


def test_an_ended_task_clock_cannot_be_paused():
    run = Run({"start": {"type": "start", "next": "first"},
               "first": {**review({"working_days": 3}, "review"), "who": {"user": "rev_b"}},
               "review": review({"working_days": 3}), "done": END})
    first_clock = run.deadlines[0]
    run.run(engine.approve, REV_B, t("2026-10-12T10:00"), run.open_task("first").seq)
    run.refused(NotActionable, "deadline_finished", deadlines.pause_clock, REV_A,
                t("2026-10-12T11:00"), deadline_seq=first_clock.seq, reason="inspection")
    run.refused(Invalid, "no_deadline", deadlines.pause_clock, REV_A, t("2026-10-12T11:00"),
                deadline_seq=999, reason="inspection")


def test_extensions_c5_need_an_approver_within_the_limit():
    run = Run({"start": START, "review": review(), "done": END}, LICENCE)
    (clock,) = run.deadlines
    now = t("2026-11-02T10:00")
    run.refused(Invalid, "extension_needs_approver", deadlines.request_extension, REV_A, now,
                None, 5, "需补充材料", None)
    run.refused(Invalid, "extension_needs_approver", deadlines.request_extension, REV_A, now,
                None, 5, "需补充材料", REV_B)
    run.refused(Invalid, "extension_over_limit", deadlines.request_extension, REV_A, now,
                None, 11, "太多", ADMIN)
    run.refused(Invalid, "reason_required", deadlines.request_extension, REV_A, now,
                None, 5, " ", ADMIN)
    run.refused(Invalid, "extension_units", deadlines.request_extension, REV_A, now,
                None, 0, "零", ADMIN)
    run.run(deadlines.request_extension, REV_A, now, None, 10, "现场核查", ADMIN)
    assert clock.pending_extension["approver_id"] == ADMIN
    run.refused(Invalid, "extension_pending", deadlines.request_extension, REV_A, now,
                None, 1, "再延", ADMIN)
    run.refused(NotYours, "not_the_approver", deadlines.decide_extension, REV_A, now, None, True)
    run.refused(Invalid, "reason_required", deadlines.decide_extension, ADMIN, now, None, False)
    run.run(deadlines.decide_extension, ADMIN, now, None, True, "同意")
    assert (clock.extended, clock.pending_extension) == (10, None)
    assert local(clock.due_at) == "2026-11-23 23:59:59"  # 11-09 + 10 working days
    assert run.types()[-2:] == ["extension_requested", "extension_approved"]
    run.refused(Invalid, "extension_over_limit", deadlines.request_extension, REV_A, now,
                None, 1, "再延", ADMIN)
    run.refused(Invalid, "no_extension_pending", deadlines.decide_extension, ADMIN, now,
                None, True)


def test_a_changed_clock_makes_its_old_timers_stale():
    run = Run({"start": START, "review": review(), "done": END}, LICENCE)
    old = run.pending("deadline.timeout")[0]
    run.run(deadlines.request_extension, REV_A, t("2026-10-13T10:00"), None, 5, "核查", ADMIN)
    run.run(deadlines.decide_extension, ADMIN, t("2026-10-13T11:00"), None, True)
    assert old.state == "cancelled"
    new = run.pending("deadline.timeout")[0]
    assert new.key != old.key and new.payload["generation"] == old.payload["generation"] + 1
    old.state = "pending"  # even if the cancellation had not reached it, it is stale
    assert run.fire(old) == "stale" and not run.deadlines[0].overdue


def test_a_correction_stops_the_intake_clock_and_the_corrected_application_restarts_it():
    from tongban.workflow import operations
    run = Run({"start": {"type": "start", "next": "intake"},
               "intake": {"type": "task", "kind": "intake", "name": {"zh": "受理", "en": "In"},
                          "who": {"role": "counter_clerk", "department": "sh-rsj"},
                          "operations": ["accept", "correction"],
                          "deadline": {"preset": "intake_answer"}, "next": "review"},
               "review": review(), "done": END})
    (clock,) = run.deadlines
    intake = run.open_task("intake")
    run.run(operations.request_correction, CLERK, t("2026-10-13T10:00"), intake.seq, ["name"])
    assert (clock.state, clock.pause_reason, intake.due_at) == ("paused", "correction", None)
    run.refused(NotActionable, "awaiting_correction", deadlines.resume_clock, CLERK,
                t("2026-10-14T10:00"))
    state = run.state()
    operations.submit_correction(state, ZHANG, t("2026-10-21T10:00"), {"name": "张三丰"})
    deadlines.sync(state, t("2026-10-21T10:00"))
    run._keep(state)
    assert (clock.state, clock.restarts, clock.elapsed) == ("running", 1, 0)
    assert local(intake.due_at) == "2026-10-28 23:59:59"  # 补正 day + 5 working days
    assert run.types()[-1] == "clock_restarted"


def test_past_the_published_calendar_there_is_no_due_date_and_an_event_says_why():
    run = Run({"start": START, "review": review({"working_days": 5}), "done": END},
              start="2026-12-28T09:00")
    (clock,) = run.deadlines
    assert clock.due_at is None and run.open_task("review").due_at is None
    unknown = next(e for e in run.events if e.type == "deadline_unknown")
    assert unknown.data["message"] == "calendar for 2027 not yet published"
    assert clock.data["unknown"] == "calendar for 2027 not yet published"
    assert run.pending() == []


def test_hour_deadlines_count_wall_clock_time_and_are_due_soon_at_three_quarters():
    run = Run({"start": START, "review": review({"hours": 2}), "done": END},
              start="2026-10-10T15:00")
    soon, timeout = run.pending()
    assert (local(soon.due_at), local(timeout.due_at)) == ("2026-10-10 16:30:00",
                                                          "2026-10-10 17:00:00")


def test_no_calendar_means_no_clocks():
    run = Run({"start": START, "review": review({"working_days": 5}), "done": END},
              calendar=None)
    assert run.deadlines == [] and run.open_task("review").due_at is None
