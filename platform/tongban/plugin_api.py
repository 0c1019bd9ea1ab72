"""The one module plugin authors import: the hook marker and the types hooks exchange.

A plugin is a module or class whose functions are marked ``@hookimpl`` and named after the
specifications in :mod:`tongban.extend.hookspecs` (documented in docs/plugins.md). Everything
else in ``tongban`` is private to the core and may change without notice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, Literal, Protocol, TypeVar

import pluggy

PROJECT = "tongban"
ENTRY_POINT_GROUP = "tongban.plugins"   # third-party plugins announce themselves here

hookimpl = pluggy.HookimplMarker(PROJECT)

Texts = Mapping[str, str]   # {"zh": ..., "en": ...}


# --- health -------------------------------------------------------------------------------

@dataclass(frozen=True)
class HealthReport:
    """A plugin's answer to "are you working?". ``state`` is ``ok``, ``degraded`` (working,
    with a problem an admin should see: a source answering slowly, transient failures) or
    ``down`` (a permanent error: wrong credentials, a missing table). ``detail`` is for the
    administrator, in English or Chinese; never a secret."""

    state: Literal["ok", "degraded", "down"]
    detail: str = ""
    checked_at: datetime | None = None


# --- connectors (data exchange with other departments' systems) ---------------------------

class ConnectorError(Exception):
    """A connector call that did not succeed. ``transient`` says whether trying again later
    may succeed (a timeout, a refused connection, HTTP 503) or not (bad credentials, a query
    the source rejects): the core retries only transient failures, a bounded number of times,
    and shows permanent ones in plugin health."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class QueryProblem:
    """A problem with a connector's options or queries in a definition: ``path`` is the place
    inside the connector's block (keys and indexes), which the core turns into file:line."""

    path: tuple[str | int, ...]
    message: str


@dataclass(frozen=True)
class FetchResult:
    """What one query returned: ``rows`` as mappings of column (or JSON field) to value, at
    most the query's row limit. ``source`` names the system in words (e.g. the department's
    register); the core adds the time, the query id and the person asked about as provenance."""

    rows: list[dict[str, Any]]
    source: str = ""


class Connector(Protocol):
    """An open connection to one external system, made by :attr:`ConnectorType.open` from
    validated options. Implementations must be safe to call from several threads."""

    def fetch(self, query_id: str, query: Mapping[str, Any], params: Mapping[str, Any], *,
              timeout: float) -> FetchResult:
        """Run the definition's query ``query`` (already validated against
        :attr:`ConnectorType.query_schema`) with ``params`` bound by name, never formatted
        into the query text. Raise :class:`ConnectorError` on failure; give up after
        ``timeout`` seconds with a transient error."""
        ...

    def health(self) -> HealthReport:
        """A cheap check that the system answers (e.g. ``SELECT 1``)."""
        ...

    def close(self) -> None:
        """Release pools and sockets (the app is shutting down or the options changed)."""
        ...


@dataclass(frozen=True)
class ConnectorType:
    """A kind of connector a plugin offers, named in a service's ``connectors:`` block by
    ``id`` (``sql``, ``http``). ``options_schema`` and ``query_schema`` are JSON Schemas the
    core validates a definition against at load; ``check`` adds what a schema cannot say
    (a parameter the query uses but does not declare, SQL that is built from strings) and
    returns problems, empty when all is well. ``open`` makes a :class:`Connector` from valid
    options and the app's settings (secrets come from settings, never from definitions)."""

    id: str
    title: Texts
    options_schema: Mapping[str, Any]
    query_schema: Mapping[str, Any]
    open: Callable[[Mapping[str, Any], Mapping[str, Any]], Connector]
    check: Callable[[Mapping[str, Any], Mapping[str, Mapping[str, Any]]], list[QueryProblem]] = \
        field(default=lambda options, queries: [])


# Pieces a connector type's schemas and ``open`` share: names, form fields, texts in both
# languages, and the settings an option names (secrets live in CONNECTOR_SETTINGS only).

SETTING_NAME = "^[A-Za-z_][A-Za-z0-9_]*$"
"""The pattern of a key in CONNECTOR_SETTINGS, a query parameter or a result column."""

FIELD_PATH = "^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$"
"""The pattern of a form field a query reads or fills (``applicant.id_number``)."""

TEXTS_SCHEMA: Mapping[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["zh", "en"],
    "properties": {"zh": {"type": "string", "minLength": 1},
                   "en": {"type": "string", "minLength": 1}}}
"""A JSON Schema for words in both languages (a department's name, a query's title)."""


def connector_setting(settings: Mapping[str, Any], name: str, what: str) -> str:
    """The text CONNECTOR_SETTINGS holds under ``name`` (an option such as
    ``database_setting`` names it), or a permanent :class:`ConnectorError` saying that the
    setting has no ``what`` (a database URL, a base URL, a token)."""
    value = settings.get(name)
    if not isinstance(value, str) or not value:
        raise ConnectorError(f"the setting {name!r} (in CONNECTOR_SETTINGS) has no {what}",
                             transient=False)
    return value


def offer_connector_types(*types: ConnectorType) -> Callable[[], list[ConnectorType]]:
    """A plugin module's ``tongban_connector_types`` hook offering ``types``; assign it to
    that name: ``tongban_connector_types = offer_connector_types(SQL)``."""

    def tongban_connector_types() -> list[ConnectorType]:
        return list(types)

    marked: Callable[[], list[ConnectorType]] = hookimpl(tongban_connector_types)
    return marked


# --- notifications ------------------------------------------------------------------------

@dataclass(frozen=True)
class Notification:
    """One message to one recipient, rendered by the core from the event's template in the
    recipient's language. ``key`` is unique per delivery: a channel that is asked twice with
    the same key must deliver once (the worker may retry after a crash)."""

    key: str
    channel: str
    recipient: str          # a user id for site messages, an address or number otherwise
    subject: str
    body: str
    language: str = "zh"
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NotificationChannel:
    """A way to reach people (``site``, ``email``, ``sms``): ``send`` delivers one
    notification or raises :class:`ConnectorError` (transient or not)."""

    id: str
    title: Texts
    send: Callable[[Notification], None]


# --- application events -------------------------------------------------------------------

@dataclass(frozen=True)
class ApplicationEvent:
    """Something that happened to an application, told to plugins after its transaction
    committed: ``kind`` is ``submitted``, ``task_done`` or ``completed``."""

    kind: str
    reference: str
    service: str
    at: datetime
    actor: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    key: str = ""   # unique per event: a plugin told twice (a worker restarted) can tell


# --- service calls (the ``service`` nodes of flows) -----------------------------------------

ServiceCall = Callable[[dict[str, Any]], dict[str, Any]]
"""A named call a flow's ``service`` node makes through the outbox worker: it takes the
node's payload (``{"options": <the node's options>}``) and returns a JSON-able result the
flow may route on; it raises (any exception) when the call did not succeed, and the worker
retries it with the node's backoff."""


# --- materials (the material library) -------------------------------------------------------

@dataclass(frozen=True)
class StoredMaterial:
    """Where a material's bytes went: ``key`` is the storage's own name for them (the core
    keeps it and hands it back to ``get``, ``delete`` and ``url``), ``sha256`` the content
    hash in hex, ``size`` in bytes."""

    key: str
    sha256: str
    size: int
    content_type: str = "application/octet-stream"


class MaterialNotFound(LookupError):
    """``get`` or ``url`` was given a key the storage does not hold (deleted, never put)."""


class MaterialStorage(Protocol):
    """Somewhere material files live (local disk, object storage). ``id`` names it in the
    ``MATERIAL_STORAGE`` setting. Implementations must be safe to call from several threads;
    putting the same bytes twice may return the same key (content addressing)."""

    id: str

    def put(self, data: bytes, *, content_type: str, name: str = "") -> StoredMaterial:
        """Store ``data`` and say where it went; ``name`` is the uploader's file name, a hint
        only (never trusted as a path)."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes stored under ``key``; :class:`MaterialNotFound` when there are none."""
        ...

    def delete(self, key: str) -> None:
        """Forget ``key``; deleting a key that is not there is not an error."""
        ...

    def url(self, key: str, *, expires_in: int) -> str | None:
        """A time-limited address the browser may fetch the bytes from directly (a presigned
        object-storage URL), or None when the core must serve them itself."""
        ...


# --- documents: signing and verification (e-seal) -------------------------------------------

@dataclass(frozen=True)
class Signature:
    """A signature over a document: ``value`` as the signer encodes it (base64 text for
    most), ``signer_id`` the :class:`Signer` that made it, ``signed_by`` the seal or person
    in words, ``algorithm`` for the record."""

    signer_id: str
    value: str
    algorithm: str
    signed_by: str = ""
    signed_at: datetime | None = None


VERDICTS = ("valid", "tampered", "expired", "not_allowed", "unknown")
"""What checking a sealed document can find: ``valid``; ``tampered`` (a byte of the document or
of its seal changed, or the signature does not match); ``expired`` (the seal was used outside
its validity window, or the signer's certificate was not valid then); ``not_allowed`` (the
signer's certificate is not one the seal lists); ``unknown`` (no seal, or one this platform
cannot vouch for: an untrusted CA, an algorithm it does not know)."""


@dataclass(frozen=True)
class Verification:
    """What checking a signature found: ``valid`` and, when not, ``reason`` in words (English,
    for the record), and ``verdict``, one of :data:`VERDICTS` (``tampered`` when a failed
    check does not say). ``sealed_by`` names the seal in words, ``signer`` whose certificate
    used it, ``signed_at`` when (as the signature says)."""

    valid: bool
    reason: str = ""
    verdict: str = ""
    sealed_by: str = ""
    signer: str = ""
    signed_at: datetime | None = None

    def __post_init__(self) -> None:
        verdict = self.verdict or ("valid" if self.valid else "tampered")
        if verdict not in VERDICTS or (verdict == "valid") != self.valid:
            raise ValueError(f"verdict {verdict!r} does not fit valid={self.valid}")
        object.__setattr__(self, "verdict", verdict)


@dataclass(frozen=True)
class DocumentDraft:
    """A document for a signer to lay out and seal (a decision, a notice): the signer renders
    it in its own format (OFD, PDF). ``paragraphs`` are the body's paragraphs in order;
    ``issuer`` the department in words and ``department`` its code (which seal to use);
    ``html`` the same document as a full HTML page, for signers that render HTML."""

    title: str
    paragraphs: tuple[str, ...]
    issuer: str
    issued_on: date
    reference: str = ""
    department: str = ""
    language: str = "zh"
    html: str = ""


@dataclass(frozen=True)
class SealedDocument:
    """A sealed document as the signer made it: the file's bytes, its media type and usual
    file extension, and the :class:`Signature` (who sealed it, when, how)."""

    content: bytes
    media_type: str
    extension: str
    signature: Signature


class Signer(Protocol):
    """A way to sign documents (a decision, a licence) and verify such signatures later.
    ``id`` names it in the ``SIGNER`` setting. A signer keeps its keys to itself: a UKey or
    HSM-backed signer replaces a software one without the core noticing."""

    id: str

    def sign(self, document: bytes, *, purpose: str) -> Signature:
        """Sign ``document`` (the exact bytes given, e.g. a PDF) for ``purpose`` (e.g.
        ``decision``); raise :class:`ConnectorError` when the signing service fails."""
        ...

    def verify(self, document: bytes, signature: Signature) -> Verification:
        """Whether ``signature`` was made by this signer over exactly ``document``."""
        ...

    def seal(self, draft: DocumentDraft, *, purpose: str) -> SealedDocument:
        """Lay ``draft`` out in the signer's format and seal it with the seal of
        ``draft.department`` for ``purpose``; raise :class:`ConnectorError` when the signing
        service fails."""
        ...

    def verify_document(self, document: bytes) -> Verification | None:
        """Check a sealed file someone hands in (the public verification page asks every
        signer): None when the file is not of this signer's kind, else the verdict and who
        sealed it when."""
        ...


def signer_in_use(settings: Mapping[str, Any], signer_id: str) -> bool:
    """Whether the settings seal documents with ``signer_id``: it is ``SIGNER`` or one of
    ``DECISION_SIGNERS``. A signer whose keys are made on first start makes them only then."""
    return settings.get("SIGNER") == signer_id or signer_id in (settings.get("DECISION_SIGNERS")
                                                                  or ())


T = TypeVar("T")


class MadeOnFirstUse(Generic[T]):
    """A value made by ``make`` the first time :meth:`get` is called, once, even when several
    threads ask at the same moment (a signer's key store, read or made under its folder)."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        with self._lock:
            if self._value is None:
                self._value = self._make()
            return self._value


__all__ = ["ENTRY_POINT_GROUP", "FIELD_PATH", "PROJECT", "SETTING_NAME", "TEXTS_SCHEMA",
           "VERDICTS", "ApplicationEvent", "Connector", "ConnectorError", "ConnectorType",
           "DocumentDraft", "FetchResult", "HealthReport", "MadeOnFirstUse", "MaterialNotFound",
           "MaterialStorage",
           "Notification", "NotificationChannel", "QueryProblem", "SealedDocument", "ServiceCall",
           "Signature", "Signer", "StoredMaterial", "Texts", "Verification", "connector_setting",
           "hookimpl", "offer_connector_types", "signer_in_use"]
