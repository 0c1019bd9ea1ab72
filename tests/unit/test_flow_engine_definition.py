"""compile_flow: nodes with their settings, and what a step needs precomputed."""

from __future__ import annotations

import pytest
from flow_fixtures import flow_of

from tongban.workflow.deadline_spec import DeadlineSpec, Span
from tongban.workflow.definition import compile_flow


def test_a_task_node_keeps_its_settings_and_defaults():
    flow = flow_of({
        "start": {"type": "start", "next": "review"},
        "review": {"type": "task", "name": {"zh": "审核", "en": "Review"},
                   "who": {"role": "reviewer", "department": "sh-rsj"}, "mode": "n_of_m",
                   "n_of_m": {"percent": 60}, "deadline": {"working_days": 5},
                   "exclusive_with": ["start"], "status": "publicizing", "next": "done"},
        "done": {"type": "end", "outcome": "approved"}})
    review = flow.nodes["review"]
    assert (review.mode, review.percent, review.count) == ("n_of_m", 60.0, None)
    assert review.deadline == DeadlineSpec(period=Span("working_days", 5))
    assert review.when_empty == "error" and review.same_approver == "repeat"
    assert review.resubmit == "rewalk" and review.status == "publicizing"
    assert "add_signer" in review.operations and review.kind == "approve"
    assert review.threshold(5) == 3 and review.threshold(4) == 3
    assert flow.start == "start" and flow.name["en"] == "Test"


def test_mode_numbers_may_also_be_written_inside_mode():
    flow = flow_of({
        "start": {"type": "start", "next": "a"},
        "a": {"type": "task", "who": {"user": "rev_a"}, "mode": {"n_of_m": {"count": 2}},
              "next": "v"},
        "v": {"type": "task", "kind": "vote", "who": {"users": ["rev_a"]},
              "vote": {"pass": 3, "veto": False}, "next": "s"},
        "s": {"type": "task", "kind": "sign", "who": {"role": "reviewer", "department": "sh"},
              "sign": {"distinct": 2}, "next": "done"},
        "done": {"type": "end"}})
    assert flow.nodes["a"].count == 2
    assert (flow.nodes["v"].mode, flow.nodes["v"].pass_count, flow.nodes["v"].veto) == \
        ("vote", 3, False)
    assert (flow.nodes["s"].mode, flow.nodes["s"].distinct) == ("sign", 2)
    assert flow.nodes["done"].outcome == "completed"


def test_splits_know_their_join_region_and_nesting():
    flow = flow_of({
        "start": {"type": "start", "next": "outer"},
        "outer": {"type": "parallel", "next": ["a", "inner"]},
        "a": {"type": "task", "who": {"user": "rev_a"}, "next": "outer_join"},
        "inner": {"type": "inclusive", "branches": [{"when": True, "to": "b"}], "default": "c"},
        "b": {"type": "task", "who": {"user": "rev_b"}, "next": "inner_join"},
        "c": {"type": "task", "who": {"user": "rev_c"}, "next": "inner_join"},
        "inner_join": {"type": "join", "split": "inner", "next": "outer_join"},
        "outer_join": {"type": "join", "split": "outer", "next": "after"},
        "after": {"type": "task", "who": {"user": "rev_a"}, "next": "back"},
        "back": {"type": "exclusive", "branches": [{"when": False, "to": "outer"}],
                 "default": "done"},
        "done": {"type": "end"}})
    nodes = flow.nodes
    assert nodes["outer"].join == "outer_join" and nodes["inner"].join == "inner_join"
    assert nodes["outer"].region == {"a", "inner", "b", "c", "inner_join"}
    assert nodes["inner"].region == {"b", "c"}
    assert nodes["b"].enclosing == ("outer", "inner")
    assert nodes["a"].enclosing == ("outer",)
    assert nodes["inner_join"].enclosing == ("outer",)
    assert nodes["after"].enclosing == () and nodes["outer_join"].enclosing == ()
    assert nodes["back"].successors == ("outer", "done")


@pytest.mark.parametrize(("nodes", "message"), [
    ({"start": {"type": "start", "next": "x"}}, "unknown target 'x'"),
    ({"start": {"type": "start", "next": "g"},
      "g": {"type": "exclusive", "branches": []}, }, "a gateway needs a default"),
    ({"start": {"type": "start", "next": "t"}, "t": {"type": "task", "next": "e"},
      "e": {"type": "end"}}, "a task needs who"),
    ({"start": {"type": "start", "next": "e"}, "e": {"type": "end", "outcome": "maybe"}},
     "unknown outcome 'maybe'"),
    ({"start": {"type": "start", "next": "j"}, "j": {"type": "join", "split": "start",
                                                     "next": "e"}, "e": {"type": "end"}},
     "split 'start' is not a split"),
    ({"start": {"type": "start", "next": "t"},
      "t": {"type": "task", "who": {"user": "a"}, "mode": "n_of_m", "next": "e"},
      "e": {"type": "end"}}, "n_of_m needs count or percent"),
    ({"s1": {"type": "start", "next": "e"}, "s2": {"type": "start", "next": "e"},
      "e": {"type": "end"}}, "exactly one start"),
    ({"start": {"type": "start", "next": "f"},
      "f": {"type": "service", "hook": "noop", "fallback": "e", "next": "e"},
      "e": {"type": "end"}}, "fallback 'e' is not a task node"),
])
def test_what_cannot_be_compiled_is_a_value_error(nodes, message):
    with pytest.raises(ValueError, match=message):
        compile_flow({"code": "bad", "nodes": nodes})


def test_every_shipped_flow_compiles():
    from tongban import PROJECT_ROOT
    from tongban.definitions import load_directory

    loaded = load_directory(PROJECT_ROOT)
    assert loaded.flows
    for code, definition in loaded.flows.items():
        flow = compile_flow(definition.content)
        assert flow.code == code and flow.nodes[flow.start].type == "start"
