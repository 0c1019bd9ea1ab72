"""The eligibility pre-check (资格预检) of a service: a few questions from the service file's
``precheck:`` block, judged with the form engine's JsonLogic over the answers and, for a
signed-in person, what the service's registers know. No Flask here: the page is
tongban.web.precheck."""

from .check import check_precheck
from .judge import (
    MAX_TYPED,
    RESULTS,
    Question,
    Verdict,
    carried_answers,
    judge,
    option_token,
    questions,
    read_answers,
)
from .register import RegisterValues, register_values

__all__ = ["MAX_TYPED", "RESULTS", "Question", "RegisterValues", "Verdict", "carried_answers",
           "check_precheck", "judge", "option_token", "questions", "read_answers",
           "register_values"]
