"""What a flow file says about time, compiled: a node's ``deadline:`` block and the flow's
application deadlines (statutory periods), after statutory presets are filled in.

The flow compiler (:mod:`~tongban.workflow.definition`) builds these from the file and the
presets (``workflow_definitions/deadline_presets.yaml``); the engine's deadline code
(:mod:`~tongban.workflow.deadlines`) reads only these, never the raw YAML.
"""

from __future__ import annotations

from dataclasses import dataclass

UNITS = ("working_days", "natural_days", "hours", "working_hours")

TIMEOUT_ACTIONS = ("remind", "escalate", "auto_approve", "auto_return", "accept")
"""What happens when a task's deadline passes, besides marking it overdue (always done).
``auto_approve``, ``auto_return`` and ``accept`` decide the task, so a node names at most one;
``accept`` (deemed accepted, 行政许可法 §32) is for intake tasks only."""

DECIDING_ACTIONS = frozenset({"auto_approve", "auto_return", "accept"})

ESCALATE_TO = ("supervisor", "department_admin")

APPLICATION_EVENTS = ("submitted", "accepted", "decided", "completed")
"""When an application deadline starts or stops: the intake is submitted or accepted, the flow
reaches an approving or rejecting end (decided), the instance ends (completed). ``node:<id>``
(a token arrives at the node) is also accepted."""


@dataclass(frozen=True)
class Span:
    """An amount of time in one unit: the period itself, a reminder interval, a due-soon lead."""

    unit: str
    amount: int


@dataclass(frozen=True)
class Remind:
    """Reminders on timeout: the first when the deadline passes, then every ``every`` (if set)
    until ``times`` reminders were sent."""

    every: Span | None = None
    times: int = 1


@dataclass(frozen=True)
class DeadlineSpec:
    period: Span
    preset: str | None = None           # the statutory preset the period came from
    basis: str | None = None            # legal basis shown to people, e.g. 行政许可法第四十二条
    basis_en: str | None = None         # the same in English (Administrative Licensing Law, Art. 42)
    extension_limit: int = 0            # most extra units an approver may grant (0: none)
    extension_approver: str | None = None  # role that approves an extension (负责人)
    due_soon: Span | None = None        # lead time for the "due soon" mark and reminder
    on_timeout: tuple[str, ...] = ()    # subset of TIMEOUT_ACTIONS, in the file's order
    remind: Remind | None = None        # when "remind" is in on_timeout
    escalate_to: str | None = None      # when "escalate" is in on_timeout
    tell_applicant: bool = False        # pauses and extensions are told to the applicant (§45)


@dataclass(frozen=True)
class ApplicationDeadline:
    """A statutory period over the whole application (e.g. 20 working days from acceptance to
    decision), from the flow's top-level ``deadlines:`` list."""

    id: str
    spec: DeadlineSpec
    starts_on: str   # one of APPLICATION_EVENTS or "node:<id>"
    ends_on: str     # likewise
