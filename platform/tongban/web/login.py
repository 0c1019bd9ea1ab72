"""Flask-Login wiring: the signed-in user as the web layer keeps it, and how it is loaded."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, UserMixin, current_user
from sqlmodel import Session

from ..accounts import roles_of
from ..models import Role, User
from ..policy import Actor, DepartmentTree, holds
from .database import request_session

login_manager = LoginManager()


def sign_in_first(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """A page for signed-in people: anyone else is sent to sign in, and back here after it (the
    path only, which the sign-in page accepts as a place to return to)."""

    @functools.wraps(view)
    def signed_in_view(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.path))
        return view(*args, **kwargs)

    return signed_in_view


class LoginUser(UserMixin):
    """What Flask-Login keeps for the signed-in user: a detached snapshot, not a live row."""

    def __init__(self, user: User, roles: set[tuple[str, str | None]]):
        self.id = user.id
        self.username = user.username
        self.display_name = user.display_name
        self.language = user.language  # zh, en or None: the interface a sign-in switches to
        self.roles = roles  # (role, department code or None for everywhere)

    def get_id(self) -> str:
        return str(self.id)

    def actor(self, *, draft_tokens: Iterable[str] = (), references: Iterable[str] = ()) -> Actor:
        """This user as the access policy sees them, with what their session holds."""
        return Actor.of(self.id, self.roles, draft_tokens=draft_tokens, references=references)

    def has_role(self, *roles: Role | str, department: str | None = None,
                 tree: DepartmentTree | None = None) -> bool:
        """Holds one of ``roles`` anywhere, or (given a department and the tree) covering it."""
        return holds(self.actor(), {Role(r) for r in roles}, department, tree)


def load_login_user(db_session: Session, user_id: int) -> LoginUser | None:
    user = db_session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    return LoginUser(user, roles_of(db_session, user_id))


def _load_user(user_id: str) -> LoginUser | None:
    return load_login_user(request_session(), int(user_id)) if user_id.isdigit() else None


def _anonymous_session_identity() -> None:
    # Strong session protection takes a session without "_id" (any visitor who has not
    # signed in but has a CSRF token or a draft) for a moved one: it clears keys, which
    # re-signs the cookie and sends a remember-cookie deletion with every response. The
    # visitor's identifier (address and browser, as sign-in records it) ends that; a
    # session that does move from there is still treated as moved.
    if session and "_id" not in session:
        session["_id"] = login_manager._session_identifier_generator()


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_user)
    app.before_request(_anonymous_session_identity)
