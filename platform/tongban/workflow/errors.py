"""The flow engine's refusals: each an HTTP status, a stable code, an English message marked
for translation and the parameters it names. The web layer translates ``message`` and fills
in ``params``; the engine raises them before it changes anything."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


def N_(message: str) -> str:  # the engine stays free of Flask; pybabel extracts N_ by keyword
    return message


class FlowError(Exception):
    """Base of every refusal. ``message % params`` is the English text."""

    status: ClassVar[int] = 400
    code: str
    message: str
    params: Mapping[str, Any]

    def __init__(self, code: str, message: str, **params: Any) -> None:
        self.code = code
        self.message = message
        self.params = params
        super().__init__(self.text())

    def text(self) -> str:
        return self.message % self.params if self.params else self.message


class NotYours(FlowError):
    """The actor may not act on this task (not assigned, not a candidate, four-eyes)."""

    status = 403


class AlreadyHandled(FlowError):
    """The task was done, transferred or cancelled already (``who`` and ``when`` say by whom)."""

    status = 409


class NotActionable(FlowError):
    """The instance is in no state for this operation (withdrawn, ended, window closed)."""

    status = 409


class Invalid(FlowError):
    """The request itself is wrong: a target that never ran, the applicant as a signer, a
    missing comment, a second correction request in the same intake."""

    status = 422


class TooSoon(FlowError):
    """A reminder inside the rate-limit window."""

    status = 429


class Stale(FlowError):
    """Someone else changed the instance first (optimistic lock lost)."""

    status = 409


# Every message the engine can raise, by code: one place for the translators and the tests.
MESSAGES: dict[str, str] = {
    "task_unknown": N_("There is no task %(task)s in this application"),
    "task_not_yours": N_("This task is not assigned to you"),
    "not_candidate": N_("You are not one of the people this task is offered to"),
    "claim_first": N_("Claim this task before you act on it"),
    "claimed_by_other": N_("This task has been claimed by someone else"),
    "own_application": N_("You cannot act on your own application"),
    "four_eyes": N_("You acted on step %(node)s of this application, so you cannot act on this step"),
    "already_holds": N_("You already hold a task on this step; each task here needs a different person"),
    "already_handled": N_("This task was already handled by %(who)s at %(when)s"),
    "task_is_cc": N_("A copy sent for information cannot be approved or rejected"),
    "ended": N_("This application is closed (%(status)s); nothing more can be done on it"),
    "withdrawn": N_("The applicant has withdrawn this application"),
    "awaiting_correction": N_("The applicant has been asked for corrections; wait for them before acting"),
    "correction_closed": N_("There is no open correction request: the correction window has closed"),
    "not_returned": N_("This application has not been returned to the applicant"),
    "someone_acted": N_("The application can no longer be withdrawn: it is already being handled"),
    "next_acted": N_("Your decision can no longer be taken back: the next step has already been acted on"),
    "not_your_action": N_("You can only take back a decision you made yourself"),
    "not_withdrawable": N_("This decision cannot be taken back"),
    "not_applicant": N_("Only the applicant can do this"),
    "wrong_kind": N_("The operation %(operation)s does not apply to a %(kind)s task"),
    "operation_not_allowed": N_("The step %(node)s does not allow %(operation)s"),
    "comment_required": N_("Enter a comment"),
    "reason_required": N_("Enter the reason"),
    "never_ran": N_("The step %(node)s has not run in this application, so nothing can be returned to it"),
    "not_a_task_node": N_("The step %(node)s is not a step people act on"),
    "no_previous": N_("There is no earlier step to return to"),
    "return_to_self": N_("A step cannot return the application to itself"),
    "other_branch": N_("The step %(node)s runs alongside this one, so nothing can be returned to it"),
    "applicant_signer": N_("The applicant cannot be added as a signer"),
    "applicant_transfer": N_("A task cannot be transferred to the applicant"),
    "transfer_to_self": N_("Choose someone other than yourself"),
    "signers_required": N_("Choose at least one person to add"),
    "signer_duplicate": N_("%(user)s already has a task on this step"),
    "where_unknown": N_("Choose where to add the signer: before, after or in parallel"),
    "user_unknown": N_("There is no user %(user)s"),
    "second_correction": N_("Corrections at intake are requested once, with every item at once; "
                            "a second request in the same intake is not allowed"),
    "correction_open": N_("A correction request is already open"),
    "correction_empty": N_("Name at least one question or material to correct"),
    "correction_question_unknown": N_("Only the questions named in the correction request may change "
                                      "(%(questions)s changed)"),
    "choice_outside": N_("%(user)s is not one of the people who may be chosen for step %(node)s"),
    "choice_not_expected": N_("The step %(node)s does not take a chosen approver"),
    "vote_unknown": N_("Vote approve or veto"),
    "token_unknown": N_("There is no waiting service call %(token)s in this application"),
    "not_waiting": N_("No step of this application is waiting for the message %(message)s"),
    "remind_too_soon": N_("A reminder was sent at %(when)s; the next can be sent after %(next)s"),
    "node_unknown": N_("There is no step %(node)s in this flow"),
    "reason_empty": N_("Enter the reason"),
    "stale": N_("Someone else changed this application at the same time; reload and try again"),
    "delegation_window": N_("The delegation must end after it starts"),
    "start_twice": N_("This application's flow has already started"),
    # Deadlines (tongban.workflow.deadlines)
    "no_deadline": N_("There is no time limit %(deadline)s running in this application"),
    "deadline_finished": N_("The time limit %(deadline)s has ended; its clock can no longer change"),
    "not_clock_holder": N_("Only a person handling this application's current step can do this"),
    "clock_already_paused": N_("The clock is already stopped"),
    "clock_not_paused": N_("The clock is running; only a stopped clock can be restarted"),
    "pause_reason_unknown": N_("Choose why the clock stops: hearing, inspection, expert review, "
                               "testing, quarantine or other"),
    "pause_note_required": N_("Say why the clock stops"),
    "expected_days_invalid": N_("The expected number of days must be a whole number above zero"),
    "extension_pending": N_("An extension has already been requested and waits for its approver"),
    "extension_units": N_("Ask for a whole number of days (or hours) above zero"),
    "extension_over_limit": N_("At most %(left)s more can be granted on this time limit; "
                               "%(units)s were asked for"),
    "extension_needs_approver": N_("Name who approves the extension: a person in charge of this "
                                   "department or its administrator"),
    "no_extension_pending": N_("No extension is waiting for a decision"),
    "not_the_approver": N_("Only the person named to approve this extension can decide it"),
    "calendar_not_published": N_("The working-day calendar does not reach that far: %(message)s"),
    # Decisions at intake (docs/counter-intake.md).
    "deficiency_materials_required": N_("Name at least one material the applicant will bring later"),
    "deficiency_due_required": N_("Enter the date by which the missing material must arrive"),
    "deficiency_due_past": N_("The date the missing material is due cannot be before today (%(today)s)"),
    "deficiency_due_far": N_("The date the missing material is due must be within %(days)s days"),
    "commitment_unconfirmed": N_("Tick to confirm that the applicant has signed the commitment"),
    "commitment_not_offered": N_("This service offers no written commitment (告知承诺制)"),
    "credit_barred": N_("The applicant is on the credit bar list (%(reason)s): accepting on a "
                        "commitment or with missing materials is not allowed"),
    "no_hold": N_("No material is waiting to be brought for this application"),
    "not_approved": N_("The application is not approved: there is no approval to revoke"),
    "hold_not_overdue": N_("The promised materials are not overdue: the application cannot be "
                           "ended for them"),
}


def _error(cls: type[FlowError], code: str, **params: Any) -> FlowError:
    return cls(code, MESSAGES[code], **params)


def not_yours(code: str = "task_not_yours", **params: Any) -> FlowError:
    return _error(NotYours, code, **params)


def already_handled(**params: Any) -> FlowError:
    return _error(AlreadyHandled, "already_handled", **params)


def not_actionable(code: str, **params: Any) -> FlowError:
    return _error(NotActionable, code, **params)


def invalid(code: str, **params: Any) -> FlowError:
    return _error(Invalid, code, **params)


def too_soon(**params: Any) -> FlowError:
    return _error(TooSoon, "remind_too_soon", **params)


def stale() -> FlowError:
    return _error(Stale, "stale")
