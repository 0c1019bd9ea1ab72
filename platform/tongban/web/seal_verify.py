"""The public verification page (/verify, no sign-in): anyone holding a sealed decision or
licence types its verification code or hands in the file, and reads whether the seal holds,
who sealed it and when. Works without JavaScript; the check itself is tongban.seals."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from .. import seals
from ..extend.manager import material_storage, signers_of
from ..i18n import N_
from .database import request_session

bp = Blueprint("seal_verify", __name__, url_prefix="/verify")

# What each verdict means to the person reading it: a heading and one sentence.
VERDICTS = {
    "valid": (N_("The seal is valid"),
              N_("The document has not changed since it was sealed, and the seal was used by "
                 "a holder it lists, within its period of validity.")),
    "tampered": (N_("The document has been changed"),
                 N_("The document or its seal changed after sealing. Do not rely on it: ask "
                    "the issuing department for the original.")),
    "expired": (N_("The seal had expired"),
                N_("The seal was used outside its period of validity. Do not rely on the "
                   "document: ask the issuing department.")),
    "not_allowed": (N_("The signer may not use this seal"),
                    N_("The certificate that sealed the document is not one the seal lists as "
                       "allowed to use it. Do not rely on the document.")),
    "unknown": (N_("The seal cannot be confirmed"),
                N_("We cannot tell who sealed this: it carries no seal we recognise, or the "
                   "verification code is not one we issued. Check what you typed, or ask "
                   "the issuing department.")),
}


def _page(*, errors: dict[str, str] | None = None, outcome: seals.Outcome | None = None,
          code: str = "", status: int = 200) -> ResponseReturnValue:
    errors = errors or {}
    summary = [{"text": text, "href": f"#{field}"} for field, text in errors.items()]
    heading, meaning = VERDICTS[outcome.verdict] if outcome else ("", "")
    return render_template("verify/index.html", errors=errors, summary=summary,
                           outcome=outcome, heading=_(heading) if heading else "",
                           meaning=_(meaning) if meaning else "", code=code,
                           shown_code=seals.shown_code), status


@bp.get("", strict_slashes=False)
def index() -> ResponseReturnValue:
    code = request.args.get("code", "").strip()
    if not code:
        return _page()
    return _check_code(code)


def _check_code(typed: str) -> ResponseReturnValue:
    code = seals.normal_code(typed)
    if code is None:
        return _page(errors={"code": _("Enter the verification code as it is printed on the "
                                       "document: 16 letters and digits")},
                     code=typed[:40], status=422)
    outcome = seals.check_code(request_session(), signers_of(), material_storage(), code)
    return _page(outcome=outcome, code=seals.shown_code(code))


@bp.post("", strict_slashes=False)
def check() -> ResponseReturnValue:
    typed = request.form.get("code", "").strip()
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        content = upload.read()
        if not content:
            return _page(errors={"file": _("The selected file is empty")}, code=typed[:40],
                         status=422)
        outcome = seals.check_file(request_session(), signers_of(), content)
        return _page(outcome=outcome)
    if typed:
        return _check_code(typed)
    return _page(errors={"code": _("Enter a verification code or choose a file")}, status=422)
