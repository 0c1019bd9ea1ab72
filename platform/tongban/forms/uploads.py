"""Answers to upload questions: check a file's real type and size, and store it safely.

Each upload question has an ``UploadPolicy`` (allowed types, size limit). ``store_upload``
streams the file to disk under a generated name and returns what was stored; anything else
raises ``UploadRejected`` with a message for the citizen. ``open_stored`` reads a stored file
back by the name ``store_upload`` gave it, and nothing else.

Why a signature table of our own and not puremagic: we only ever need a yes or no for a
handful of allow-listed types. puremagic answers a different question (what might this be?)
with a ranked list of guesses (a PDF also scores as FDF, a Windows executable first as
``.flt``) that moves between releases. Six signatures read from the file formats' own
specifications are easy to audit here, and nothing outside the table can pass.

The content decides the type. The file name and the browser's Content-Type are never
trusted: a correctly typed file with a wrong extension (phones and chat apps rename files)
is accepted, and its display name gets the right extension so a download opens in the right
program. Stored files have no extension and live outside ``static``, so nothing serves or
runs them directly (ASVS 5.2.2, 5.3.1, 5.3.2).

The size limit here is per question; a ``Quota`` adds what the draft (and, for visitors who
are not signed in, their address) may still store, so that nobody can fill the disk one
allowed file at a time. The request as a whole is capped earlier by ``MAX_CONTENT_LENGTH``.

The answer to an upload question is the public id of a stored file; ``unknown_file_answers``
finds answers that are not the id of an upload of this draft for that question (a forged id,
another applicant's file), which the journey refuses on every page post and at submit.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, Protocol

from babel.lists import format_list

from tongban.forms import paths
from tongban.i18n import N_

if TYPE_CHECKING:
    from tongban.forms.definition import FormDefinition

CHUNK_BYTES = 64 * 1024
# Enough for every signature below, including HEIF's list of compatible brands.
SNIFF_BYTES = 64
INCOMING_DIR = ".incoming"
DISPLAY_NAME_MAX = 120

MSG_SELECT = N_("Select a file")
MSG_EMPTY = N_("The selected file is empty")
MSG_TYPE = N_("The selected file must be a %(types)s")
MSG_TOO_LARGE = N_("The selected file must be smaller than %(limit)s")
MSG_UNKNOWN = N_("The file for this question was not found. Upload the file again")
MSG_DRAFT_FULL = N_("The files of one application can add up to %(limit)s. Upload a smaller "
                    "file")
MSG_ADDRESS_FULL = N_("Without signing in, files of up to %(limit)s a day can be uploaded. Sign "
                      "in, or try again tomorrow")

Reason = Literal["missing", "empty", "too_large", "type", "executable", "unknown", "quota",
                 "storage"]


class UploadRejected(ValueError):
    """A file the question does not accept.

    ``message`` is the English msgid, with ``%(name)s`` placeholders filled from ``params``
    by ``render``. ``reason`` is for the audit log: ``executable`` is told apart from any
    other wrong ``type`` there, but the citizen sees the same words for both, because the
    fix is the same.
    """

    def __init__(self, message: str, reason: Reason, **params: Any) -> None:
        self.message = message
        self.reason = reason
        self.params = params
        super().__init__(self.render())

    def render(self, translate: Callable[[str], str] = str, locale: str = "en_GB") -> str:
        """The message in ``locale``: pass ``flask_babel.gettext`` and the request locale.

        Lists of type names are joined the locale's way ("PDF, JPG or PNG", "PDF、JPG或PNG").
        """
        values = {
            name: format_list(list(value), style="or", locale=locale)
            if isinstance(value, tuple)
            else value
            for name, value in self.params.items()
        }
        return translate(self.message) % values


# --------------------------------------------------------------------------- types


def _is_heif(head: bytes) -> bool:
    # ISO base media file: box size, 'ftyp', major brand, minor version, compatible brands.
    if head[4:8] != b"ftyp":
        return False
    major = head[8:12]
    if major in {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}:
        return True
    # 'mif1' alone also starts AVIF files; require a HEVC brand among the compatible ones.
    box_end = min(int.from_bytes(head[0:4], "big"), len(head))
    compatible = {head[i : i + 4] for i in range(16, box_end - 3, 4)}
    return major in {b"mif1", b"msf1"} and bool(compatible & {b"heic", b"heix"})


@dataclass(frozen=True)
class FileKind:
    label: str  # as shown to citizens, the same in every language
    mime: str
    extensions: tuple[str, ...]  # the first is used when a display name needs one
    matches: Callable[[bytes], bool]


KINDS: dict[str, FileKind] = {
    "pdf": FileKind("PDF", "application/pdf", (".pdf",), lambda h: h.startswith(b"%PDF-")),
    "jpeg": FileKind(
        "JPG",
        "image/jpeg",
        (".jpg", ".jpeg", ".jpe", ".jfif"),
        lambda h: h.startswith(b"\xff\xd8\xff"),
    ),
    "png": FileKind("PNG", "image/png", (".png",), lambda h: h.startswith(b"\x89PNG\r\n\x1a\n")),
    "webp": FileKind(
        "WebP", "image/webp", (".webp",), lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP"
    ),
    "gif": FileKind("GIF", "image/gif", (".gif",), lambda h: h[:6] in {b"GIF87a", b"GIF89a"}),
    "heic": FileKind("HEIC", "image/heic", (".heic", ".heif"), _is_heif),
}
ALIASES = {"jpg": "jpeg", "heif": "heic"}

# Programs for Windows (MZ), Linux (ELF), macOS (Mach-O, fat binaries; CAFEBABE is also a
# Java class), and scripts. Recorded as 'executable' so the audit log can flag them.
EXECUTABLE_SIGNATURES = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",
)


def sniff(head: bytes) -> str | None:
    """The name of the known kind whose signature ``head`` starts with, if any."""
    for name, kind in KINDS.items():
        if kind.matches(head):
            return name
    return None


@dataclass(frozen=True)
class UploadPolicy:
    """What one upload question accepts: kinds by name (see ``KINDS``) and a size limit."""

    accept: tuple[str, ...]
    max_bytes: int

    def __init__(self, accept: Iterable[str], max_bytes: int) -> None:
        names: list[str] = []
        for raw in accept:
            name = ALIASES.get(raw.strip().lower(), raw.strip().lower())
            if name not in KINDS:
                known = ", ".join(sorted([*KINDS, *ALIASES]))
                raise ValueError(f"unknown upload type {raw!r}: expected one of {known}")
            if name not in names:
                names.append(name)
        if not names:
            raise ValueError("an upload question must accept at least one file type")
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
            raise ValueError(f"max_bytes must be a whole number above 0, not {max_bytes!r}")
        object.__setattr__(self, "accept", tuple(names))
        object.__setattr__(self, "max_bytes", max_bytes)

    def type_error(self, reason: Reason) -> UploadRejected:
        labels = tuple(dict.fromkeys(KINDS[name].label for name in self.accept))
        return UploadRejected(MSG_TYPE, reason, types=labels)

    def size_error(self) -> UploadRejected:
        return UploadRejected(MSG_TOO_LARGE, "too_large", limit=format_size(self.max_bytes))


def format_size(size: int) -> str:
    """A limit as people read it (1 MB = 1024 KB), rounded down so it never overstates."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            value = math.floor(size / scale * 10) / 10
            return f"{int(value) if value.is_integer() else value} {unit}"
    return f"{size} B"


@dataclass(frozen=True)
class Quota:
    """Bytes one more file may still take up, and the refusal when it needs more."""

    room: int
    error: UploadRejected


def draft_full(limit: int) -> UploadRejected:
    return UploadRejected(MSG_DRAFT_FULL, "quota", limit=format_size(limit))


def address_full(limit: int) -> UploadRejected:
    return UploadRejected(MSG_ADDRESS_FULL, "quota", limit=format_size(limit))


def unknown_file() -> UploadRejected:
    return UploadRejected(MSG_UNKNOWN, "unknown")


# --------------------------------------------------------------------------- storing


class FileStorageLike(Protocol):
    """What ``store_upload`` needs from werkzeug's ``FileStorage``."""

    filename: str | None
    stream: IO[bytes]


@dataclass(frozen=True)
class StoredFile:
    id: str
    stored_name: str  # relative to the upload root: "<2 hex>/<id>"; give it to open_stored
    original_name: str  # sanitised, for display and Content-Disposition only
    size: int
    sha256: str
    mime: str
    kind: str


_STORED_NAME = re.compile(r"[0-9a-f]{2}/[A-Za-z0-9_-]{16,64}")


def store_upload(
    file_storage: FileStorageLike | None, policy: UploadPolicy, root_dir: str | os.PathLike[str],
    quota: Quota | None = None,
) -> StoredFile:
    """Check and store one uploaded file; raise ``UploadRejected`` and leave nothing behind
    if it is missing, empty, over the question's limit or the ``quota``, or not an allowed
    type."""
    if file_storage is None or not file_storage.filename:
        raise UploadRejected(MSG_SELECT, "missing")

    root = Path(root_dir)
    incoming = root / INCOMING_DIR
    incoming.mkdir(mode=0o750, parents=True, exist_ok=True)
    file_id = secrets.token_urlsafe(18)
    temp_path = incoming / f"{file_id}.part"

    # 'x': a name collision must fail, never append to or later delete another upload.
    with open(temp_path, "xb") as out:
        try:
            kind, size, digest = _receive(file_storage.stream, policy, out, quota)
        except BaseException:
            out.close()
            temp_path.unlink()
            raise
    stored_name = f"{digest[:2]}/{file_id}"
    final_path = root / stored_name
    try:
        final_path.parent.mkdir(mode=0o750, exist_ok=True)
        os.replace(temp_path, final_path)
        _fsync_dir(final_path.parent)
    except BaseException:
        # The caller never learns this name, so a file left here would be an orphan.
        temp_path.unlink(missing_ok=True)
        final_path.unlink(missing_ok=True)
        raise

    return StoredFile(
        id=file_id,
        stored_name=stored_name,
        original_name=display_name(file_storage.filename, kind),
        size=size,
        sha256=digest,
        mime=KINDS[kind].mime,
        kind=kind,
    )


def _receive(stream: IO[bytes], policy: UploadPolicy, out: IO[bytes],
             quota: Quota | None) -> tuple[str, int, str]:
    """Copy ``stream`` to ``out``, stopping as soon as the type or the size is wrong."""
    digest = hashlib.sha256()
    size = 0
    head = b""
    kind: str | None = None
    limit = policy.max_bytes if quota is None else max(0, min(policy.max_bytes, quota.room))
    while True:
        # Never read more than one byte past the limit.
        chunk = stream.read(min(CHUNK_BYTES, limit + 1 - size))
        if not chunk:
            break
        size += len(chunk)
        if kind is None:
            head += chunk
            if len(head) >= SNIFF_BYTES:
                kind = _check_type(head, policy)
        if size > limit:
            raise policy.size_error() if quota is None or size > policy.max_bytes \
                else quota.error
        digest.update(chunk)
        out.write(chunk)
    if size == 0:
        raise UploadRejected(MSG_EMPTY, "empty")
    if kind is None:
        kind = _check_type(head, policy)
    out.flush()
    os.fsync(out.fileno())
    return kind, size, digest.hexdigest()


def _check_type(head: bytes, policy: UploadPolicy) -> str:
    if head.startswith(EXECUTABLE_SIGNATURES):
        raise policy.type_error("executable")
    kind = sniff(head)
    if kind not in policy.accept:
        raise policy.type_error("type")
    return kind


def _fsync_dir(path: Path) -> None:
    # Make the rename durable: the database will soon point at this name.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_stored(root_dir: str | os.PathLike[str], stored_name: str) -> IO[bytes]:
    """Open a file ``store_upload`` stored, for reading. Any other name, including any
    attempt to leave the upload root, raises ``FileNotFoundError``."""
    if not isinstance(stored_name, str) or not _STORED_NAME.fullmatch(stored_name):
        raise FileNotFoundError(f"not a stored upload name: {stored_name!r}")
    root = Path(root_dir).resolve()
    path = (root / stored_name).resolve()
    # The pattern already rules out '..'; this also rules out a symlinked subfolder.
    if not path.is_relative_to(root):
        raise FileNotFoundError(f"not a stored upload name: {stored_name!r}")
    return open(path, "rb")


# --------------------------------------------------------------------------- display names

# Windows refuses these as file names whatever the extension, so a download would fail.
_WINDOWS_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])", re.IGNORECASE)
_EXTENSION_LIKE = re.compile(r"[A-Za-z0-9]{1,5}")
_UNSAFE_CHARACTERS = re.compile(r'[<>:"/\\|?*%\x00-\x1f\x7f]')


def display_name(original: str, kind: str) -> str:
    """The citizen's file name, made safe to show and to offer in a download.

    Path parts, control and bidirectional-override characters (the U+202E trick that shows
    ``exe.pdf`` for ``fdp.exe``) and characters Windows forbids are removed; the extension
    is made to match the real type; the length is capped.
    """
    name = unicodedata.normalize("NFC", original)
    name = re.split(r"[/\\]", name)[-1]
    name = re.sub(r"\s+", " ", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf"})
    # Windows drops trailing dots and spaces; leading ones go with the stem below.
    name = _UNSAFE_CHARACTERS.sub("_", name).strip().rstrip(" .")

    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    extensions = KINDS[kind].extensions
    if f".{extension.lower()}" in extensions:
        extension = f".{extension}"
    elif _EXTENSION_LIKE.fullmatch(extension):
        # "photo.png" that is really a JPEG becomes "photo.jpg".
        extension = extensions[0]
    else:
        # No extension, or a dot that is part of the name ("报告.终稿"): keep it all.
        stem, extension = name, extensions[0]
    stem = stem.strip(" .") or "file"
    if _WINDOWS_RESERVED.fullmatch(stem):
        stem = f"_{stem}"
    return stem[: DISPLAY_NAME_MAX - len(extension)].rstrip(" .") + extension


# --------------------------------------------------------------------------- answers


def file_answers(form: FormDefinition, answers: Any) -> Iterator[tuple[str, str, Any]]:
    """Every answer to an upload question as (instance path, field key, value), items of
    repeatable groups included."""
    for key in form.file_keys:
        yield from _values_at(answers, paths.split(key), "", key)


def _values_at(data: Any, segments: list[str], path: str,
               key: str) -> Iterator[tuple[str, str, Any]]:
    if not segments:
        if data is not None:  # a list here is no file's id either
            yield path, key, data
        return
    if isinstance(data, list):  # keys have no item indexes: every item has the question
        for index, item in enumerate(data):
            yield from _values_at(item, segments, paths.child(path, index), key)
        return
    if isinstance(data, dict) and segments[0] in data:
        yield from _values_at(data[segments[0]], segments[1:],
                              paths.child(path, segments[0]), key)


def unknown_file_answers(form: FormDefinition, answers: Any,
                         uploads: Mapping[str, str]) -> list[tuple[str, str]]:
    """(instance path, field key) of each upload answer that is not the public id of one of
    ``uploads`` (public id -> the field key it was uploaded for) for that same question."""
    return [(path, key) for path, key, value in file_answers(form, answers)
            if not (isinstance(value, str) and uploads.get(value) == key)]
