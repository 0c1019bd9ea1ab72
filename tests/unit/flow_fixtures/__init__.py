"""Shared pieces of the flow engine's unit tests: a small organisation, a clock, flows as dicts
(the YAML format of docs/flows.md) and a check that a refusal changed nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tongban.workflow import engine
from tongban.workflow.definition import compile_flow
from tongban.workflow.errors import FlowError
from tongban.workflow.memory import InMemoryDirectory
from tongban.workflow.sandbox import MemoryRun

T0 = datetime(2026, 10, 9, 10, 0)

DEPARTMENTS = {
    "sh": (None, None),
    "sh-rsj": ("sh", None),
    "sh-rsj-review": ("sh-rsj", None),
    "sh-xh": ("sh-rsj", "310104"),   # 徐汇区 office
    "sh-pd": ("sh-rsj", "310115"),   # 浦东新区 office
    "sh-police": ("sh", None),
    "elsewhere": (None, None),
}

USERS: dict[str, tuple[int, list[tuple[str, str | None]]]] = {
    "applicant": (1, []),
    "clerk_xh": (2, [("counter_clerk", "sh-xh")]),
    "clerk_pd": (3, [("counter_clerk", "sh-pd")]),
    "rev_a": (10, [("reviewer", "sh-rsj")]),
    "rev_b": (11, [("reviewer", "sh-rsj")]),
    "rev_c": (12, [("reviewer", "sh-rsj-review")]),
    "rev_d": (13, [("reviewer", "sh-rsj")]),
    "boss": (14, [("reviewer", "sh")]),          # covers every sub-department of sh
    "cop": (15, [("reviewer", "sh-police")]),
    "admin": (20, [("department_admin", "sh-rsj")]),
    "outsider": (99, [("reviewer", "elsewhere")]),
}
ID = {name: user_id for name, (user_id, _memberships) in USERS.items()}
APPLICANT = ID["applicant"]


def directory() -> InMemoryDirectory:
    return InMemoryDirectory(DEPARTMENTS, USERS)


def at(minutes: int = 0) -> datetime:
    return T0 + timedelta(minutes=minutes)


def flow_of(nodes: dict[str, Any], code: str = "test-flow") -> Any:
    return compile_flow({"code": code, "name": {"zh": "测试", "en": "Test"}, "nodes": nodes})


def linear(*tasks: tuple[str, dict[str, Any]], end: str = "approved") -> dict[str, Any]:
    """start → the task nodes in order → end."""
    nodes: dict[str, Any] = {"start": {"type": "start", "next": tasks[0][0] if tasks else "done"}}
    for index, (node_id, settings) in enumerate(tasks):
        following = tasks[index + 1][0] if index + 1 < len(tasks) else "done"
        nodes[node_id] = {"type": "task", "next": following, **settings}
    nodes["done"] = {"type": "end", "outcome": end}
    return nodes


def reviewer(user: str | None = None, **more: Any) -> dict[str, Any]:
    who: dict[str, Any] = {"user": user} if user else {"role": "reviewer", "department": "sh-rsj"}
    return {"who": who, **more}


def started(nodes: dict[str, Any], answers: dict[str, Any] | None = None,
            directory_: InMemoryDirectory | None = None,
            applicant: int | None = APPLICANT) -> MemoryRun:
    run = MemoryRun(flow_of(nodes), directory_ or directory(), answers=answers or {},
                    applicant_id=applicant)
    run.start(at(0))
    return run


def refused(run: MemoryRun, error: type[FlowError], code: str, operation: Any, actor: int | None,
            *args: Any, **kwargs: Any) -> FlowError:
    """The operation raises ``error`` with ``code`` and leaves every row as it was."""
    before = run.snapshot()
    with pytest.raises(error) as raised:
        run.run(operation, actor, at(500), *args, **kwargs)
    assert raised.value.code == code
    assert run.snapshot() == before
    return raised.value


def types(run: MemoryRun) -> list[str]:
    return [event.type for event in run.events]


def no_open_task_left_behind(run: MemoryRun) -> None:
    """Every open work task stands on a node where a live token stands (C7 walk check)."""
    live = {(token.seq, token.node) for token in engine.live_tokens(run.state())}
    for task in run.open_tasks():
        assert (task.token_seq, task.node) in live, (task.seq, task.node, live)
    assert run.instance.status == run.events[-1].status
