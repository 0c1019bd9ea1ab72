"""The access policy seen from a request: who is asking, the department tree, role checks.

The rules themselves are in :mod:`tongban.policy`; this module only describes the request's
visitor to them. Anonymous users asked to sign in go to the login page, the wrong role gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import abort, g, session
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..models import Role
from ..policy import ANONYMOUS, Action, Actor, DepartmentTree, Target, holds, permits
from .database import request_session
from .login import login_manager

P = ParamSpec("P")
R = TypeVar("R")


def current_actor(*, draft_token: str | None = None) -> Actor:
    """The visitor with the drafts and applications their session holds; ``draft_token`` is
    one presented in the address (a resume link)."""
    tokens = session.get("draft_tokens", [])
    references = session.get("references", [])
    if current_user.is_authenticated:
        actor = current_user.actor(draft_tokens=tokens, references=references)
    elif tokens or references:
        actor = Actor.of(None, draft_tokens=tokens, references=references)
    else:
        actor = ANONYMOUS
    return actor.holding(draft_token=draft_token)


def department_tree() -> DepartmentTree:
    """Read once per request, however many checks ask."""
    if "department_tree" not in g:
        g.department_tree = DepartmentTree.load(request_session())
    tree: DepartmentTree = g.department_tree
    return tree


def allowed(action: Action, target: Target, *, draft_token: str | None = None) -> bool:
    return permits(current_actor(draft_token=draft_token), action, target, department_tree())


def require_role(
        *roles: Role) -> Callable[[Callable[P, R]], Callable[P, R | ResponseReturnValue]]:
    """The view needs one of ``roles`` in some department; which one is the view's own check."""
    def decorate(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not holds(current_actor(), roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate
