"""Routing: sequence, gateways, parallel and inclusive splits with their joins, service and
wait nodes, cc and end (the control-flow patterns named by their WCP numbers)."""

from __future__ import annotations

from flow_fixtures import (
    ID,
    at,
    directory,
    flow_of,
    linear,
    no_open_task_left_behind,
    refused,
    reviewer,
    started,
    types,
)

from tongban.workflow import engine, operations
from tongban.workflow.errors import Invalid, NotActionable
from tongban.workflow.sandbox import MemoryRun


def test_wcp1_sequence_starts_submitted_and_runs_task_after_task():
    run = started(linear(("first", reviewer("rev_a")), ("second", reviewer("rev_b"))))
    assert types(run)[:2] == ["started", "node_entered"]
    assert run.current_nodes() == ["first"] and run.instance.status == "in_progress"
    run.run(engine.approve, ID["rev_a"], at(1), run.task_on("first").seq)
    assert run.current_nodes() == ["second"]
    run.run(engine.approve, ID["rev_b"], at(2), run.task_on("second").seq, comment="ok")
    assert run.instance.status == "approved" and run.instance.outcome == "approved"
    assert run.instance.ended_at == at(2) and run.current_nodes() == []
    assert [entry["node"] for entry in run.instance.vars["trail"]] == ["first", "second"]
    assert types(run)[-1] == "ended" and run.events[-1].node == "done"
    seqs = [event.seq for event in run.events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    no_open_task_left_behind(run)


def _gateway_flow():
    return {
        "start": {"type": "start", "next": "route"},
        "route": {"type": "exclusive", "branches": [
            {"when": {">=": [{"var": "answers.points"}, 120]}, "to": "municipal"},
            {"when": {">=": [{"var": "answers.points"}, 100]}, "to": "district"}],
            "default": "initial"},
        "municipal": {"type": "end", "outcome": "approved"},
        "district": {"type": "end", "outcome": "completed"},
        "initial": {"type": "end", "outcome": "rejected"}}


def test_wcp4_exclusive_gateway_takes_the_first_true_branch_in_order_else_default():
    assert started(_gateway_flow(), {"points": 130}).instance.outcome == "approved"
    assert started(_gateway_flow(), {"points": 110}).instance.outcome == "completed"
    run = started(_gateway_flow(), {"points": 10})
    assert run.instance.outcome == "rejected"
    taken = [event for event in run.events if event.type == "gateway_taken"]
    assert taken[0].data == {"to": "initial"}


def test_a_gateway_rule_that_cannot_be_evaluated_is_an_incident_not_a_crash():
    nodes = _gateway_flow()
    nodes["route"]["branches"][0]["when"] = {"no_such_operator": [1]}
    run = started(nodes, {"points": 130})
    assert run.current_nodes() == ["route"] and types(run)[-1] == "incident"
    assert run.instance.vars["incidents"][0]["node"] == "route"


def _parallel(kind: str = "parallel", branches: list | None = None) -> dict:
    split = {"type": "parallel", "next": ["police", "hr", "district"]} if kind == "parallel" \
        else {"type": "inclusive", "branches": branches, "default": "district"}
    return {
        "start": {"type": "start", "next": "split"},
        "split": split,
        "police": {"type": "task", "who": {"user": "cop"}, "next": "join"},
        "hr": {"type": "task", "who": {"user": "rev_a"}, "next": "join"},
        "district": {"type": "task", "who": {"user": "rev_b"}, "next": "join"},
        "join": {"type": "join", "split": "split", "next": "decision"},
        "decision": {"type": "task", "who": {"user": "boss"}, "next": "done"},
        "done": {"type": "end", "outcome": "approved"}}


def test_wcp2_wcp3_parallel_split_and_synchronisation():
    run = started(_parallel())
    assert sorted(run.current_nodes()) == ["district", "hr", "police"]
    run.run(engine.approve, ID["cop"], at(1), run.task_on("police").seq)
    run.run(engine.approve, ID["rev_a"], at(2), run.task_on("hr").seq)
    assert sorted(run.current_nodes()) == ["district"] and "joined" not in types(run)
    run.run(engine.approve, ID["rev_b"], at(3), run.task_on("district").seq)
    assert run.current_nodes() == ["decision"] and types(run).count("joined") == 1
    run.run(engine.approve, ID["boss"], at(4), run.task_on("decision").seq)
    assert run.instance.status == "approved"
    no_open_task_left_behind(run)


def test_wcp6_wcp7_inclusive_gateway_runs_every_true_branch_and_joins_only_those():
    branches = [{"when": {"var": "answers.police"}, "to": "police"},
                {"when": {"var": "answers.hr"}, "to": "hr"}]
    run = started(_parallel("inclusive", branches), {"police": True, "hr": True})
    assert sorted(run.current_nodes()) == ["hr", "police"]
    run.run(engine.approve, ID["cop"], at(1), run.task_on("police").seq)
    run.run(engine.approve, ID["rev_a"], at(2), run.task_on("hr").seq)
    assert run.current_nodes() == ["decision"]
    only_default = started(_parallel("inclusive", branches), {})
    assert only_default.current_nodes() == ["district"]
    only_default.run(engine.approve, ID["rev_b"], at(1), only_default.task_on("district").seq)
    assert only_default.current_nodes() == ["decision"]


def test_wcp43_an_end_inside_a_branch_cancels_every_other_token_and_task():
    nodes = _parallel()
    nodes["police"]["next"] = "stop"
    nodes["stop"] = {"type": "end", "outcome": "rejected"}
    run = started(nodes)
    run.run(engine.approve, ID["cop"], at(1), run.task_on("police").seq)
    assert run.instance.status == "rejected" and run.open_tasks() == []
    assert {token.state for token in run.tokens} <= {"done", "cancelled"}
    assert types(run).count("task_cancelled") == 2


def _service(fallback: bool = True) -> dict:
    nodes = {
        "start": {"type": "start", "next": "fetch"},
        "fetch": {"type": "service", "hook": "test.double", "options": {"source": "police"},
                  "retries": 2, "backoff_seconds": 30, "next": "review"},
        "manual_entry": {"type": "task", "kind": "data", "who": {"user": "rev_c"},
                         "next": "review"},
        "review": {"type": "task", "who": {"user": "rev_a"}, "next": "done"},
        "done": {"type": "end", "outcome": "approved"}}
    if fallback:
        nodes["fetch"]["fallback"] = "manual_entry"
    return nodes


def test_a_service_node_queues_an_outbox_row_and_waits_for_its_result():
    run = started(_service())
    assert [(row.hook, row.node, row.state, row.payload) for row in run.outbox] == \
        [("test.double", "fetch", "pending", {"options": {"source": "police"}})]
    token = run.outbox[0].token_seq
    assert run.current_nodes() == ["fetch"] and run.open_tasks() == []
    run.run(engine.service_done, None, at(1), token, {"record": "clean"})
    assert run.instance.vars["services"] == {"fetch": {"record": "clean"}}
    assert run.current_nodes() == ["review"]
    refused(run, Invalid, "token_unknown", engine.service_done, None, token, {})


def test_a_failed_service_call_retries_then_falls_back_to_a_person():
    run = started(_service())
    token = run.outbox[0].token_seq
    run.run(engine.service_failed, None, at(1), token, "timeout", False)
    assert run.current_nodes() == ["fetch"] and types(run)[-1] == "service_failed"
    run.run(engine.service_failed, None, at(2), token, "timeout", True)
    assert types(run)[-4:] == ["service_failed", "incident", "node_entered", "task_created"]
    assert run.current_nodes() == ["manual_entry"]
    run.run(engine.approve, ID["rev_c"], at(3), run.task_on("manual_entry").seq)
    assert run.current_nodes() == ["review"] and "services" not in run.instance.vars


def test_a_spent_service_without_fallback_stays_with_an_incident():
    run = started(_service(fallback=False))
    token = run.outbox[0].token_seq
    run.run(engine.service_failed, None, at(2), token, "connection refused", True)
    assert run.current_nodes() == ["fetch"] and types(run)[-1] == "incident"
    assert run.instance.vars["incidents"][-1]["reason"] == "connection refused"
    run.run(engine.service_done, None, at(3), token, {"ok": True})  # an admin retry succeeded
    assert run.current_nodes() == ["review"]


def _wait() -> dict:
    return {"start": {"type": "start", "next": "ask"},
            "ask": {"type": "task", "who": {"user": "rev_a"}, "next": "reply"},
            "reply": {"type": "wait", "message": "transfer_reply", "next": "decide"},
            "decide": {"type": "task", "who": {"user": "rev_b"}, "next": "done"},
            "done": {"type": "end", "outcome": "approved"}}


def test_wcp24_a_wait_node_is_waiting_external_until_its_message_and_ignores_duplicates():
    run = started(_wait())
    run.run(engine.approve, ID["rev_a"], at(1), run.task_on("ask").seq)
    assert run.instance.status == "waiting_external" and run.current_nodes() == ["reply"]
    result = run.run(engine.deliver_message, None, at(2), "transfer_reply", "K-1",
                     {"ok": True}, "gz-police")
    assert result == "received" and run.current_nodes() == ["decide"]
    assert run.instance.status == "in_progress"
    assert [(m.name, m.message_key, m.sender) for m in run.messages] == \
        [("transfer_reply", "K-1", "gz-police")]
    before = run.snapshot()
    duplicate = run.run(engine.deliver_message, None, at(3), "transfer_reply", "K-1", {},
                        "gz-police")
    assert duplicate == "duplicate" and types(run)[-1] == "message_duplicate"
    assert run.snapshot()[1:3] == before[1:3] and len(run.messages) == 1


def test_a_message_that_arrives_before_the_wait_node_is_kept_for_it():
    run = started(_wait())
    assert run.run(engine.deliver_message, None, at(1), "transfer_reply", "K-1", {"n": 1},
                   "gz") == "stored"
    run.run(engine.approve, ID["rev_a"], at(2), run.task_on("ask").seq)
    assert run.current_nodes() == ["decide"]


def test_cc_sends_one_open_cc_task_per_recipient_and_never_counts_as_work():
    nodes = {"start": {"type": "start", "next": "notify"},
             "notify": {"type": "cc", "who": {"users": ["rev_a", "rev_b"]}, "next": "review"},
             "review": {"type": "task", "who": {"user": "rev_a"}, "next": "done"},
             "done": {"type": "end", "outcome": "approved"}}
    run = started(nodes)
    cc = [task for task in run.tasks if task.kind == "cc"]
    assert [(task.assignee_id, task.state) for task in cc] == [(ID["rev_a"], "open"),
                                                               (ID["rev_b"], "open")]
    assert run.current_nodes() == ["review"] and "cc_sent" in types(run)
    assert [task.node for task in run.open_tasks()] == ["review"]
    refused(run, Invalid, "task_is_cc", engine.approve, ID["rev_a"], cc[0].seq)
    run.run(operations.withdraw, 1, at(1))  # a cc is not an action: the applicant may withdraw
    assert run.instance.status == "withdrawn"
    assert [task.state for task in cc] == ["open", "open"]


def test_nothing_can_be_done_on_an_ended_instance():
    run = started(linear(("review", reviewer("rev_a"))))
    seq = run.task_on("review").seq
    run.run(engine.approve, ID["rev_a"], at(1), seq)
    refused(run, NotActionable, "ended", engine.deliver_message, None, "x", "k", {}, "s")


def test_start_twice_is_refused():
    run = MemoryRun(flow_of(linear(("review", reviewer("rev_a")))), directory())
    run.start(at(0))
    refused(run, Invalid, "start_twice", engine.start, None)


def test_the_engine_never_reads_the_clock_every_timestamp_is_the_callers_now():
    from tongban.models import utcnow

    run = started(_parallel())
    run.run(engine.approve, ID["cop"], at(5), run.task_on("police").seq)
    rows = [*run.tokens, *run.tasks, *run.events, run.instance]
    checked = 0
    for row in rows:
        for name, field in type(row).model_fields.items():
            if field.default_factory is utcnow:
                value = getattr(row, name)
                assert value in (None, at(0), at(5)), (type(row).__name__, name, value)
                checked += 1
    assert checked >= len(rows)  # each row has at least one: created_at, arrived_at, at, started_at
