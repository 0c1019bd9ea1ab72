"""Issue 17 item 3, the engine's side: the two intake decisions are opt-in per node, and the
reminder of a 容缺 promise goes out two days before its due day (at once when that is past), and
the promise is overdue from midnight after its due day (the due day counts in full)."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

from tongban.workflow.definition import compile_flow
from tongban.workflow.intake_decisions import overdue_at, reminder_at
from tongban.worktime import TZ

FLOW = {
    "code": "opt-in", "name": {"zh": "受理", "en": "Intake"},
    "nodes": {
        "start": {"type": "start", "next": "intake"},
        "intake": {"type": "task", "kind": "intake", "name": {"zh": "受理", "en": "Intake"},
                   "who": {"user": "clerk"}, "next": "done"},
        "done": {"type": "end", "outcome": "approved"},
    },
}


def test_an_intake_node_without_a_list_offers_neither_deficiency_nor_commitment() -> None:
    node = compile_flow(FLOW).nodes["intake"]
    assert "accept" in node.operations and "refuse_intake" in node.operations
    assert not {"accept_deficient", "accept_commitment"} & node.operations


def test_an_intake_node_that_lists_them_offers_them() -> None:
    flow = copy.deepcopy(FLOW)
    flow["nodes"]["intake"]["operations"] = ["accept", "accept_deficient", "accept_commitment"]
    assert {"accept_deficient", "accept_commitment"} <= compile_flow(flow).nodes["intake"].operations


def test_the_reminder_is_two_days_before_the_due_day_at_nine_or_at_once() -> None:
    now = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    assert reminder_at(date(2026, 12, 10), now) == datetime(2026, 12, 8, 9, 0, tzinfo=TZ)
    assert reminder_at(date(2026, 12, 4), now) == now


def test_the_promise_is_overdue_from_midnight_after_the_due_day_in_shanghai() -> None:
    assert overdue_at(date(2026, 12, 10)) == datetime(2026, 12, 11, 0, 0, tzinfo=TZ)
    # 16:00 UTC on the 10th is already the 11th in Shanghai.
    assert overdue_at(date(2026, 12, 10)) == datetime(2026, 12, 10, 16, 0, tzinfo=UTC)
    # Natural days across a month's end: the clerk chose the day on the calendar.
    assert overdue_at(date(2026, 12, 31)) == datetime(2027, 1, 1, 0, 0, tzinfo=TZ)
