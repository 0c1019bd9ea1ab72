"""The application journey on the server: pinned definitions, page posts, uploads, submission.

Web handlers call these functions; everything that decides what happens to answers lives here.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from .applications import save_answers
from .forms import coerce, paths, state
from .forms.definition import FormDefinition, load_form
from .forms.display import parent_field
from .forms.errors import FieldError
from .forms.fields import Field
from .forms.uploads import UploadPolicy, UploadRejected, store_upload
from .models import DefinitionVersion, Draft, StoredUpload

MB = 1024 * 1024
DEFAULT_DOCUMENT_TYPES = ("pdf", "jpeg", "png")
DEFAULT_IMAGE_TYPES = ("jpeg", "png", "heic", "webp")


@dataclass(frozen=True)
class Pinned:
    """The exact service and form versions a draft or application started with."""

    service: DefinitionVersion
    form_version: DefinitionVersion
    form: FormDefinition


_PINNED: dict[tuple[str, int, int], Pinned] = {}
_PINNED_LIMIT = 256


def pinned(engine: Engine, service_version_id: int, form_version_id: int) -> Pinned:
    """The pinned versions, compiled. Version rows never change, so the compiled result is
    kept per (database engine, version ids): a request does no parsing and no query for them,
    and opens no session to find them."""
    cache_key = (engine, service_version_id, form_version_id)
    found = _PINNED.get(cache_key)
    if found is not None:
        return found
    with Session(engine, expire_on_commit=False) as session:
        service = session.get(DefinitionVersion, service_version_id)
        form_version = session.get(DefinitionVersion, form_version_id)
        if service is None or form_version is None:
            raise LookupError("a pinned definition version is missing")
        session.expunge(service)
        session.expunge(form_version)
    form = load_form(form_version.content, name=f"{form_version.code}@{form_version.version}")
    result = Pinned(service, form_version, form)
    if len(_PINNED) >= _PINNED_LIMIT:
        _PINNED.pop(next(iter(_PINNED)))
    _PINNED[cache_key] = result
    return result


def upload_policy(fld: Field) -> UploadPolicy:
    """Per-question types and size: ui `accept` / `max_size_mb`, else a sensible default."""
    media = str(fld.schema.get("contentMediaType", ""))
    default_types = DEFAULT_IMAGE_TYPES if media.startswith("image/") else DEFAULT_DOCUMENT_TYPES
    accept = fld.ui.get("accept") or default_types
    max_mb = fld.ui.get("max_size_mb") or (10 if media.startswith("image/") else 5)
    return UploadPolicy(accept, int(float(max_mb) * MB))


@dataclass
class PageResult:
    errors: list[FieldError] = field(default_factory=list)
    raw: dict[str, list[str]] = field(default_factory=dict)
    action: str | None = None
    changed_items: bool = False
    picking_region: bool = False
    """A region picker's "选择下一级" was pressed: show the page again with the next list."""
    rejected: bool = False
    state: state.FormState | None = None
    upload_errors: dict[str, str] = field(default_factory=dict)
    answers: dict[str, Any] = field(default_factory=dict)
    """The answers to save: the draft's with this page's accepted answers."""
    uploads: list[StoredUpload] = field(default_factory=list)
    """Rows for the files this post stored, saved with the answers."""


def read_page(draft: Draft, pinned_defs: Pinned, page_id: str, formdata: Any, files: Any, *,
              upload_dir: str, user_id: int | None, translate_upload_error: Any) -> PageResult:
    """Read one page's post against the draft: coerce, apply the rules, judge the page.

    Touches no database: the caller saves with :func:`save_page` in a short write
    transaction, so the work of reading a page never holds the database's write lock.
    Uploaded files are stored on disk here; their rows come back in ``PageResult.uploads``.
    Answers that could be read are kept even when others on the page have errors, so nothing
    typed is lost; the page is shown again with what was typed and the errors.
    """
    form = pinned_defs.form
    upload_errors: dict[str, str] = {}
    uploads: list[StoredUpload] = []

    def store_file(fld: Field, path: str, upload: Any) -> str:
        try:
            stored = store_upload(upload, upload_policy(fld), Path(upload_dir))
        except UploadRejected as exc:
            upload_errors[path] = translate_upload_error(exc)
            raise ValueError(upload_errors[path]) from None
        uploads.append(StoredUpload(
            public_id=stored.id, draft_id=draft.id, field_key=fld.key,
            stored_name=stored.stored_name, original_name=stored.original_name,
            size=stored.size, sha256=stored.sha256, mime=stored.mime, uploaded_by=user_id))
        return stored.id

    result = coerce.coerce_page(form, page_id, formdata, draft.answers, files=files,
                                store_file=store_file)
    if result.rejected:
        return PageResult(errors=result.errors, rejected=True)
    answers, changed = coerce.apply_action(form, result.answers, result.action)
    current = state.evaluate(form, answers)
    # The server is the authority: values of fields the rules hide are never kept.
    answers = current.answers
    # A region picker asking for its next list is not an attempt to go on: nothing is judged.
    picking = coerce.region_action(form, result.action) is not None
    # An answer that could not be read is no error when its question is not asked: a page
    # without JavaScript shows questions that answers on it may make unnecessary.
    errors = [] if picking else [e for e in result.errors if asked(form, current, e)]
    if not changed and not picking and result.action not in ("save",):
        seen = {e.path for e in errors}
        errors += [e for e in state.validate_page(form, page_id, answers, current)
                   if e.path not in seen]
    errors = _most_specific(errors)
    # Only answers that passed are saved; what failed is shown again from the post, not stored.
    failed = [e.path for e in errors if e.path]
    # Nor is a calculated answer made from one that failed (a birth date from a refused ID
    # number): it is left empty until what it is made from is accepted.
    failed += sorted(state.calculated_from(form, failed))
    return PageResult(errors=errors, raw=result.raw, action=result.action,
                      changed_items=changed, picking_region=picking, state=current,
                      upload_errors=upload_errors, answers=without_paths(answers, failed),
                      uploads=uploads)


def asked(form: FormDefinition, current: state.FormState, error: FieldError) -> bool:
    """Whether the question ``error`` is about is asked, given the answers after the rules:
    not hidden by a rule or a skipped page, and (for a field of a schema branch) in a branch
    that applies."""
    if not error.key:
        return True
    if current.is_hidden(form, error.key):
        return False
    variants = form.fields.get(error.key) or []
    segments = paths.split(error.path)
    if not variants or not variants[0].conditions or any(paths.is_index(s) for s in segments):
        return True
    parent = parent_field(form, segments)
    parent_value = paths.get_in(current.answers, segments[:-1])
    return any(c.name == segments[-1] for c in parent.active_children(parent_value))


def save_page(session: Session, draft: Draft, pinned_defs: Pinned, page_id: str,
              result: PageResult) -> None:
    """Store what :func:`read_page` accepted: the rows of new uploads and the answers, in the
    caller's unit of work (``db.transaction()``, which commits)."""
    session.add_all(result.uploads)
    save_answers(session, draft, result.answers, page_id, pinned_defs.service.content)


def _most_specific(errors: list[FieldError]) -> list[FieldError]:
    """Drop "required" on a group when a question inside it already has its own error."""
    paths_with_errors = [e.path for e in errors]
    return [e for e in errors if not (e.code.startswith("required") and e.path and any(
        other.startswith(e.path + ".") for other in paths_with_errors))]


def without_paths(answers: Any, failed: list[str]) -> Any:
    """A copy of answers with the values at the failed instance paths removed."""
    if not failed:
        return answers
    result = copy.deepcopy(answers)
    for path in failed:
        segments = path.split(".")
        parent = result
        for segment in segments[:-1]:
            parent = (parent[int(segment)] if isinstance(parent, list) and segment.isdigit()
                      and int(segment) < len(parent) else
                      parent.get(segment) if isinstance(parent, dict) else None)
            if parent is None:
                break
        if isinstance(parent, dict):
            parent.pop(segments[-1], None)
    return result


def first_page_with_errors(form: FormDefinition, answers: Any) -> str | None:
    current = state.evaluate(form, answers)
    for error in state.validate_submission(form, answers, current):
        if error.key is not None and error.key in form.page_of:
            return form.page_of[error.key]
    return None
