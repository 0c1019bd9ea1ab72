"""One flow instance run in memory: rows kept in lists, no database, the caller's clock.

The test bench, the benchmark and the engine's unit tests drive the engine through this, the
way the runtime does through a session: each operation gets a fresh :class:`State` over the
same rows, and the events of every operation are kept in order for the trace.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..models import FlowEvent, FlowInstance, FlowMessage, FlowOutbox, FlowTask, FlowToken
from . import engine
from .definition import Flow
from .engine import Directory, State
from .rows import build


class MemoryRun:
    """A flow instance whose rows live in lists."""

    def __init__(self, flow: Flow, directory: Directory, *, answers: dict[str, Any] | None = None,
                 applicant_id: int | None = None, instance_id: int = 1):
        self.flow = flow
        self.directory = directory
        self.applicant_id = applicant_id
        self.instance = build(FlowInstance, id=instance_id, flow_code=flow.code,
                              status="submitted", applicant_id=applicant_id, vars={}, next_seq=1,
                              started_at=None)
        self.tokens: list[FlowToken] = []
        self.tasks: list[FlowTask] = []
        self.events: list[FlowEvent] = []
        self.outbox: list[FlowOutbox] = []
        self.messages: list[FlowMessage] = []
        # One State over the same rows for the whole run (the runtime builds one per request).
        self._state = State(flow=flow, instance=self.instance, tokens=self.tokens,
                            tasks=self.tasks, answers=dict(answers or {}),
                            applicant_id=applicant_id, directory=directory)

    @property
    def answers(self) -> dict[str, Any]:
        return self._state.answers

    def state(self) -> State:
        self._state.new_rows = []
        self._state.events = []
        return self._state

    def run(self, operation: Callable[..., Any], actor_id: int | None, now: datetime,
            *args: Any, **kwargs: Any) -> Any:
        """Call ``operation(state, actor_id, now, ...)`` and keep what it created."""
        state = self.state()
        result = operation(state, actor_id, now, *args, **kwargs)
        for row in state.new_rows:
            if isinstance(row, FlowEvent):
                self.events.append(row)
            elif isinstance(row, FlowOutbox):
                self.outbox.append(row)
            elif isinstance(row, FlowMessage):
                self.messages.append(row)
        return result

    def start(self, now: datetime, actor_id: int | None = None) -> None:
        self.run(engine.start, actor_id, now)

    # --- what tests and traces look at ---

    def open_tasks(self, node: str | None = None) -> list[FlowTask]:
        return engine.open_tasks(self.state(), node)

    def task_on(self, node: str, user: int | None = None) -> FlowTask:
        """The open task on ``node`` (for ``user`` when given)."""
        found = [task for task in self.open_tasks(node)
                 if user is None or task.assignee_id in (user, None)]
        if not found:
            raise LookupError(f"no open task on {node} for {user}")
        return found[0]

    def current_nodes(self) -> list[str]:
        return engine.current_nodes(self.state())

    def snapshot(self) -> Any:
        """Everything an operation may change, to check that a refusal changed nothing."""
        def row(value: Any) -> dict[str, Any]:
            return {key: copy.deepcopy(item) for key, item in vars(value).items()
                    if not key.startswith("_")}
        return (row(self.instance), [row(token) for token in self.tokens],
                [row(task) for task in self.tasks], len(self.events), copy.deepcopy(self.answers))
