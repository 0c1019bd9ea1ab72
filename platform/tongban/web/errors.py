"""Error pages: full pages for normal requests, swappable fragments for htmx requests."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from ..i18n import N_

MESSAGES = {
    400: (N_("There is a problem with your request"),
          N_("The page could not handle what was sent. Go back, reload the page and try again.")),
    403: (N_("You do not have permission to see this page"),
          N_("Your account does not have the role this page needs. If you think it should, "
             "contact your administrator.")),
    404: (N_("Page not found"),
          N_("If you typed the web address, check it is correct. If you pasted it, check you "
             "copied the entire address.")),
    405: (N_("There is a problem with your request"),
          N_("This page cannot be used in that way.")),
    409: (N_("This was changed by someone else"),
          N_("The information changed while you were working on it. Reload the page to see "
             "the latest version.")),
    413: (N_("What you sent is too large"),
          N_("The file or form you sent is over the size limit. Choose a smaller file or send "
             "fewer items at once.")),
    415: (N_("There is a problem with your request"),
          N_("This page does not accept data in that format. Go back, reload the page and send "
             "the form again.")),
    422: (N_("There is a problem with what you entered"),
          N_("Check what you entered and try again.")),
    429: (N_("Too many requests"),
          N_("You have made too many requests in a short time. Wait a minute and try again.")),
    500: (N_("Sorry, there is a problem with the service"),
          N_("Try again later. What you entered has not been lost if you saved it.")),
}


def _back_task() -> str:
    """The task a refused post came from (its form's ``back`` field), for the page's way back.
    A body that was refused for its size or shape is never read again to find it."""
    if request.method != "POST" or not request.content_length:
        return ""
    try:
        back = request.form.get("back", "")
    except HTTPException:  # 413 and the like: the body is what was refused
        return ""
    return back if back.isdigit() else ""


def render_error(code: int, detail: str | None = None) -> tuple[str, int]:
    title, body = MESSAGES.get(code, MESSAGES[500])
    template = "errors/_error.html" if request.headers.get("HX-Request") else "errors/error.html"
    back = _back_task() if code != 413 else ""
    return render_template(template, code=code, title=_(title), body=detail or _(body),
                           back_task=back), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_exc: CSRFError) -> ResponseReturnValue:
        return render_error(400, _("The form expired or was not sent from this site. Go back, "
                                   "reload the page and send it again. Nothing was saved."))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> ResponseReturnValue:
        code = exc.code or 500
        if code not in MESSAGES:
            return exc
        detail = getattr(exc, "tongban_detail", None)
        response, status = render_error(code, detail)
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            return response, status, {"Allow": ", ".join(exc.valid_methods)}
        return response, status

    @app.errorhandler(InternalServerError)
    def _internal(_exc: InternalServerError) -> ResponseReturnValue:
        return render_error(500)
