"""The eligibility pre-check (资格预检) of a service: a few questions from the service file's
``precheck:`` block, judged with the form engine's JsonLogic over the answers and, for a
signed-in person, what the service's registers know. No Flask here: the page is
tongban.web.precheck."""

from .check import check_precheck
from .judge import (
    RESULTS,
    Question,
    Verdict,
    carried_answers,
    judge,
    questions,
    read_answers,
)
from .register import register_values

__all__ = ["RESULTS", "Question", "Verdict", "carried_answers", "check_precheck", "judge",
           "questions", "read_answers", "register_values"]
