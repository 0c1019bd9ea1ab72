"""Every engine operation by name, for the runtime, the CLI test bench and the web views:
``ops.approve(state, actor_id, now, task_seq, comment=...)``; ``ops.BY_NAME["approve"]``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .admin_ops import cc, comment, migrate, read_cc, remind, repair
from .deadlines import decide_extension, pause_clock, request_extension, resume_clock
from .engine import (
    accept,
    approve,
    claim,
    deliver_message,
    refuse_intake,
    reject,
    release,
    service_done,
    service_failed,
    start,
    vote,
)
from .intake_decisions import (
    accept_commitment,
    accept_deficient,
    break_commitment,
    end_overdue_hold,
    lift_hold,
    mark_hold_overdue,
    revoke_approval,
)
from .operations import (
    add_signer,
    request_correction,
    resubmit,
    return_to,
    submit_correction,
    transfer,
    withdraw,
    withdraw_action,
)

__all__ = ["BY_NAME", "TASK_OPERATIONS", "accept", "accept_commitment", "accept_deficient",
           "add_signer", "break_commitment", "end_overdue_hold", "lift_hold",
           "mark_hold_overdue", "revoke_approval", "approve", "cc", "claim",
           "comment", "decide_extension", "deliver_message", "migrate", "pause_clock", "read_cc",
           "refuse_intake", "reject", "release", "remind", "repair", "request_correction",
           "request_extension", "resubmit", "resume_clock", "return_to", "service_done",
           "service_failed", "start", "submit_correction", "transfer", "vote", "withdraw",
           "withdraw_action"]

BY_NAME: dict[str, Callable[..., Any]] = {
    "start": start, "claim": claim, "release": release, "accept": accept,
    "refuse_intake": refuse_intake, "approve": approve, "reject": reject, "vote": vote,
    "return": return_to, "return_to": return_to, "resubmit": resubmit,
    "request_correction": request_correction, "submit_correction": submit_correction,
    "transfer": transfer, "add_signer": add_signer, "withdraw": withdraw,
    "withdraw_action": withdraw_action, "service_done": service_done,
    "service_failed": service_failed, "deliver_message": deliver_message,
    "comment": comment, "cc": cc, "read_cc": read_cc, "remind": remind, "repair": repair, "migrate": migrate,
    "pause_clock": pause_clock, "resume_clock": resume_clock,
    "request_extension": request_extension, "decide_extension": decide_extension,
    "accept_deficient": accept_deficient, "accept_commitment": accept_commitment,
    "lift_hold": lift_hold, "break_commitment": break_commitment,
    "mark_hold_overdue": mark_hold_overdue, "end_overdue_hold": end_overdue_hold,
    "revoke_approval": revoke_approval,
}

# Operations whose first argument after ``now`` is a task seq (the rest act on the instance).
TASK_OPERATIONS = frozenset({"claim", "release", "accept", "accept_deficient",
                             "accept_commitment", "refuse_intake", "approve", "reject",
                             "vote", "return", "return_to", "request_correction", "transfer",
                             "add_signer", "withdraw_action", "remind", "read_cc"})
