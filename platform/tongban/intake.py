"""The application journey on the server: pinned definitions, page posts, uploads, submission.

Web handlers call these functions; everything that decides what happens to answers lives here.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, func, inspect, select
from sqlmodel import Session, col

from .applications import save_answers
from .forms import coerce, paths, state
from .forms.definition import FormDefinition, load_form
from .forms.display import parent_field
from .forms.errors import FieldError
from .forms.fields import Field
from .forms.uploads import (
    Quota,
    UploadPolicy,
    UploadRejected,
    address_full,
    draft_full,
    file_answers,
    store_upload,
    unknown_file,
    unknown_file_answers,
)
from .materials.library import MSG_STORAGE_DOWN, MaterialStorageFailed, put_bytes
from .models import DefinitionVersion, Draft, Material, StoredUpload, utcnow
from .plugin_api import MaterialStorage

MB = 1024 * 1024
DEFAULT_DOCUMENT_TYPES = ("pdf", "jpeg", "png")
DEFAULT_IMAGE_TYPES = ("jpeg", "png", "heic", "webp")


@dataclass(frozen=True)
class Pinned:
    """The exact service and form versions a draft or application started with."""

    service: DefinitionVersion
    form_version: DefinitionVersion
    form: FormDefinition


_PINNED: dict[tuple[Engine, int, int], Pinned] = {}
_PINNED_LIMIT = 256


def pinned(session: Session, service_version_id: int, form_version_id: int) -> Pinned:
    """The pinned versions, compiled. Version rows never change, so the compiled result is
    kept per (database engine, version ids): a request does no parsing and no query for them
    once a version has been read. Read with the caller's session (a request holds one pooled
    connection, never two) into objects of their own, outside that session, since the result
    is shared by every request that follows."""
    engine = session.get_bind()
    if not isinstance(engine, Engine):  # a Session bound to a Connection has no engine to key on
        raise TypeError("pinned() caches per database engine: pass a Session bound to an Engine")
    cache_key = (engine, service_version_id, form_version_id)
    found = _PINNED.get(cache_key)
    if found is not None:
        return found
    columns = inspect(DefinitionVersion).columns
    rows = {row.id: DefinitionVersion(**row._mapping) for row in session.execute(
        select(*columns).where(columns.id.in_([service_version_id, form_version_id])))}
    service, form_version = rows.get(service_version_id), rows.get(form_version_id)
    if service is None or form_version is None:
        raise LookupError("a pinned definition version is missing")
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


@dataclass(frozen=True)
class DraftFiles:
    """What reading a page post needs to know of the files already stored, read beforehand
    (:func:`draft_files`) so that :func:`read_page` touches no database."""

    uploads: tuple[StoredUpload, ...]
    """The draft's stored files."""
    max_draft_bytes: int
    address: str | None = None
    """The client address new uploads are recorded with."""
    address_room: int | None = None
    """Bytes the address may still store today; None when the uploader is signed in."""
    max_address_bytes: int = 0
    offers: Mapping[str, list[Material]] = field(default_factory=dict)
    """Question key -> the applicant's valid stored materials of the type it names."""
    storage: MaterialStorage | None = None
    """Where a file for a question naming a material type is also put (the material library's
    storage); None: such files stay in the upload area only."""

    def ids(self) -> dict[str, str]:
        """Public id -> the question (field key) each file was uploaded for."""
        return {u.public_id: u.field_key for u in self.uploads}


def draft_files(session: Session, draft: Draft, form: FormDefinition, page_id: str, *,
                max_draft_bytes: int, address: str | None = None, anonymous: bool = False,
                max_address_bytes_per_day: int = 0) -> DraftFiles:
    """The draft's stored files and, for an uploader who is not signed in, what their address
    has stored in the last 24 hours. A post to a page without upload questions, in a draft
    whose answers name no file, can store or replace none: nothing is read for it."""
    asks_for_files = any(form.page_of.get(key) == page_id for key in form.file_keys)
    if not asks_for_files and not any(True for _ in file_answers(form, draft.answers)):
        return DraftFiles((), max_draft_bytes, address or "")
    uploads = tuple(session.scalars(select(StoredUpload)
                                    .where(col(StoredUpload.draft_id) == draft.id)))
    room = None
    if anonymous:
        used = session.scalar(select(func.coalesce(func.sum(col(StoredUpload.size)), 0)).where(
            col(StoredUpload.uploaded_from) == (address or ""),
            col(StoredUpload.uploaded_by).is_(None),
            col(StoredUpload.created_at) > utcnow() - timedelta(days=1)))
        room = max_address_bytes_per_day - int(used or 0)
    return DraftFiles(uploads, max_draft_bytes, address or "", room, max_address_bytes_per_day)


def upload_ids(session: Session, draft_id: int | None) -> dict[str, str]:
    """Public id -> field key of the draft's stored files, for :func:`submission_errors`."""
    rows = session.execute(select(col(StoredUpload.public_id), col(StoredUpload.field_key))
                           .where(col(StoredUpload.draft_id) == draft_id))
    return {public_id: field_key for public_id, field_key in rows}


def remove_stored_files(upload_dir: str, stored_names: Iterable[str]) -> None:
    """Delete files whose rows are gone; call only after that removal is committed, so that a
    rolled-back save never leaves a row pointing at no file."""
    root = Path(upload_dir)
    for stored_name in stored_names:
        if stored_name:  # a stored material chosen instead of an upload has no file here
            (root / stored_name).unlink(missing_ok=True)


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
    discarded: list[StoredUpload] = field(default_factory=list)
    """Rows of the draft's files the saved answers no longer name (replaced, or their
    question no longer asked): deleted with the answers."""
    removed_files: list[str] = field(default_factory=list)
    """Stored names of the files to delete from disk once the save is committed
    (:func:`remove_stored_files`): the discarded rows' files, and files this post stored
    that no answer kept."""


def read_page(draft: Draft, pinned_defs: Pinned, page_id: str, formdata: Any, files: Any, *,
              upload_dir: str, user_id: int | None, translate_upload_error: Callable[[UploadRejected], str],
              stored: DraftFiles) -> PageResult:
    """Read one page's post against the draft: coerce, apply the rules, judge the page.

    Touches no database: the caller saves with :func:`save_page` in a short write
    transaction, so the work of reading a page never holds the database's write lock.
    Uploaded files are stored on disk here, within what ``stored`` says the draft and the
    address may still store; their rows come back in ``PageResult.uploads``. The answer to
    an upload question must name a file of this draft uploaded for that question: any other
    (a forged id, another applicant's file) is refused on that question and not saved.
    Answers that could be read are kept even when others on the page have errors, so nothing
    typed is lost; the page is shown again with what was typed and the errors. A file that
    could not be taken leaves the file saved before in place.
    """
    form = pinned_defs.form
    upload_errors: dict[str, str] = {}
    uploads: list[StoredUpload] = []
    known = stored.ids()
    sizes = {u.public_id: u.size for u in stored.uploads}

    def quota(fld: Field, path: str) -> Quota:
        stored_now = sum(u.size for u in uploads)
        replaced = paths.get_in(draft.answers, paths.split(path))
        # The file this one replaces is deleted when the answers are saved.
        freed = sizes.get(replaced, 0) if known.get(replaced) == fld.key else 0
        room = Quota(stored.max_draft_bytes - (sum(sizes.values()) - freed + stored_now),
                     draft_full(stored.max_draft_bytes))
        if stored.address_room is not None and stored.address_room - stored_now < room.room:
            room = Quota(stored.address_room - stored_now, address_full(stored.max_address_bytes))
        return room

    def refuse(path: str, exc: UploadRejected) -> ValueError:
        upload_errors[path] = translate_upload_error(exc)
        return ValueError(upload_errors[path])

    def store_file(fld: Field, path: str, upload: Any) -> str:
        try:
            kept = store_upload(upload, upload_policy(fld), Path(upload_dir), quota(fld, path))
        except UploadRejected as exc:
            raise refuse(path, exc) from None
        library_copy = None
        if fld.ui.get("material") and stored.storage is not None:
            # Put in the library's storage now, while the person is on the page: a storage
            # that is down is told on this question, the page's other answers are saved.
            local = Path(upload_dir) / kept.stored_name
            try:
                library_copy = put_bytes(stored.storage, local.read_bytes(),
                                         content_type=kept.mime, name=kept.original_name)
            except MaterialStorageFailed:
                local.unlink(missing_ok=True)
                raise refuse(path, UploadRejected(MSG_STORAGE_DOWN, "storage")) from None
        uploads.append(StoredUpload(
            public_id=kept.id, draft_id=draft.id, field_key=fld.key,
            stored_name=kept.stored_name, original_name=kept.original_name,
            size=kept.size, sha256=kept.sha256, mime=kept.mime, uploaded_by=user_id,
            uploaded_from=stored.address,
            storage=stored.storage.id if library_copy and stored.storage else None,
            storage_key=library_copy.key if library_copy else None))
        known[kept.id] = fld.key
        return kept.id

    def use_material(fld: Field, path: str, public_id: str) -> str:
        material = next((m for m in stored.offers.get(fld.key, ()) if m.public_id == public_id),
                        None)
        if material is None:  # not the applicant's, expired, or of another type
            raise refuse(path, unknown_file())
        for upload in [*stored.uploads, *uploads]:
            if upload.material_id == material.id and upload.field_key == fld.key:
                return upload.public_id
        row = StoredUpload(
            public_id=secrets.token_urlsafe(18), draft_id=draft.id, field_key=fld.key,
            stored_name="", original_name=material.original_name, size=material.size,
            sha256=material.sha256, mime=material.mime, uploaded_by=user_id,
            uploaded_from=stored.address, storage=material.storage,
            storage_key=material.storage_key, material_id=material.id)
        uploads.append(row)
        known[row.public_id] = fld.key
        return row.public_id

    result = coerce.coerce_page(form, page_id, formdata, draft.answers, files=files,
                                store_file=store_file, use_material=use_material)
    if result.rejected:
        return PageResult(errors=result.errors, rejected=True)
    unknown = unknown_file_answers(form, result.answers, known)
    for path, key in unknown:
        upload_errors[path] = translate_upload_error(unknown_file())
        result.errors.append(FieldError(path, key, "file", {"detail": upload_errors[path]}))
    answers = without_paths(result.answers, [path for path, _ in unknown])
    answers, changed = coerce.apply_action(form, answers, result.action)
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
        errors += [e for e in without_deferred(
                       state.validate_page(form, page_id, answers, current),
                       deferred_keys(pinned_defs.service.content, draft))
                   if e.path not in seen]
    errors = _most_specific(errors)
    # Only answers that passed are saved; what failed is shown again from the post, not stored.
    failed = [e.path for e in errors if e.path]
    # Nor is a calculated answer made from one that failed (a birth date from a refused ID
    # number): it is left empty until what it is made from is accepted.
    failed += sorted(state.calculated_from(form, failed))
    answers = without_paths(answers, failed)
    _keep_refused_files(answers, draft.answers, errors, known)
    # Files no saved answer names are deleted: nothing else would ever remove them.
    named = {value for _, _, value in file_answers(form, answers) if isinstance(value, str)}
    discarded = [u for u in stored.uploads if u.public_id not in named]
    unused = [u for u in uploads if u.public_id not in named]
    return PageResult(errors=errors, raw=result.raw, action=result.action,
                      changed_items=changed, picking_region=picking, state=current,
                      upload_errors=upload_errors, answers=answers,
                      uploads=[u for u in uploads if u.public_id in named],
                      discarded=discarded,
                      removed_files=[u.stored_name for u in [*discarded, *unused]])


def _keep_refused_files(answers: Any, previous: Any, errors: list[FieldError],
                        known: Mapping[str, str]) -> None:
    """Put back the saved file of each upload question whose new file was refused: a refused
    replacement changes nothing, and the page and check answers both show the file kept."""
    for error in errors:
        if error.code != "file" or not error.path or not isinstance(answers, dict):
            continue
        segments = paths.split(error.path)
        before = paths.get_in(previous, segments)
        if not isinstance(before, str) or known.get(before) != error.key:
            continue
        node: Any = answers
        for segment in segments[:-1]:
            if isinstance(node, list) and paths.is_index(segment) and int(segment) < len(node):
                node = node[int(segment)]
            elif isinstance(node, dict):
                node = node.setdefault(segment, {})
            else:
                break
        else:
            if isinstance(node, dict):
                node[segments[-1]] = before


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
    """Store what :func:`read_page` accepted, in the caller's unit of work
    (``db.unit_of_work(session)``, which commits; the caller then removes ``result.removed_files``):
    the rows of new uploads, the deletion of files no answer names any more, and the answers."""
    session.add_all(result.uploads)
    if result.discarded:
        session.execute(delete(StoredUpload).where(
            col(StoredUpload.id).in_([u.id for u in result.discarded])))
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
    # Items of a list go last first, so removing one does not move the next one to remove.
    for path in sorted(failed, key=lambda p: [int(s) if s.isdigit() else -1 for s in p.split(".")],
                       reverse=True):
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
        elif isinstance(parent, list) and segments[-1].isdigit() \
                and int(segments[-1]) < len(parent):  # a refused item of a repeatable question
            del parent[int(segments[-1])]
    return result


def deferred_keys(service: Mapping[str, Any], draft: Draft) -> frozenset[str]:
    """The questions of the required materials a counter clerk marked 容缺 on this draft
    (their service's ``form_field``): left empty, they do not block it. Only a clerk's draft:
    an applicant's own still must give every required material."""
    if draft.clerk_id is None or not draft.deferred_materials:
        return frozenset()
    chosen = set(draft.deferred_materials)
    return frozenset(str(m["form_field"]) for m in service.get("materials") or ()
                     if m.get("code") in chosen and m.get("form_field"))


def without_deferred(errors: list[FieldError], deferred: frozenset[str]) -> list[FieldError]:
    """``errors`` but an empty answer to a question deferred at the counter."""
    if not deferred:
        return errors
    return [e for e in errors if not (e.code == "required" and e.key in deferred)]


def submission_errors(form: FormDefinition, answers: Any, uploads: Mapping[str, str],
                      current: state.FormState | None = None,
                      deferred: frozenset[str] = frozenset()) -> list[FieldError]:
    """Everything that stops an application being submitted: the form's own checks, and
    upload answers that are not a file of this draft for that question (``uploads``: public
    id -> field key, see :func:`upload_ids`). Every submit path checks this. ``deferred``:
    the questions a clerk marked 容缺 (:func:`deferred_keys`), whose emptiness is no error."""
    current = current or state.evaluate(form, answers)
    errors = without_deferred(state.validate_submission(form, current.answers, current),
                              deferred)
    errors += [FieldError(path, key, "file", {"detail": ""})
               for path, key in unknown_file_answers(form, current.answers, uploads)]
    return errors


def first_page_with_errors(form: FormDefinition, answers: Any,
                           uploads: Mapping[str, str],
                           deferred: frozenset[str] = frozenset()) -> str | None:
    for error in submission_errors(form, answers, uploads, deferred=deferred):
        if error.key is not None and error.key in form.page_of:
            return form.page_of[error.key]
    return None
