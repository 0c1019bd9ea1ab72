"""The audit trail: append an event inside the caller's transaction; verify the keyed hash chain.

Each row carries an HMAC-SHA256, under a key kept outside the database, of its content and of the
previous row's HMAC. Someone who can write to the database but does not hold the key can neither
change a row nor recompute the chain after it. A checkpoint (the head's seq and hash, with an HMAC
of them) kept elsewhere also catches a chain cut short or rewritten by someone who holds the key.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update
from sqlmodel import Session, col

from .models import AuditEvent, AuditHead, utcnow

KEY_FILE = "audit_key"
MIN_KEY_LENGTH = 32
CHECKPOINT_FORMAT = "tongban-audit-checkpoint/1"


class AuditKeyMissing(RuntimeError):
    """The audit key is not configured or its file is missing or unusable."""


class KeySource:
    """Where one application's audit key comes from: the AUDIT_KEY setting, else the key file in
    the instance folder. The file is made (mode 600) only when an event is first written, never
    by a check: a check that made a new key would report a lost key as a tampered chain."""

    def __init__(self, value: str | None, path: Path):
        self._value = value.encode("utf-8") if value is not None else None
        self.path = path
        self._lock = threading.Lock()

    def key(self, *, create: bool) -> bytes:
        if self._value is not None:
            return self._value
        with self._lock:
            if self._value is None:
                self._value = self._read_or_create(create)
        return self._value

    def _read_or_create(self, create: bool) -> bytes:
        if not self.path.exists():
            if not create:
                raise AuditKeyMissing(
                    f"No audit key: set TONGBAN_AUDIT_KEY or restore the key file {self.path}. "
                    "The chain can only be checked with the key it was written with.")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Another worker may make it first (O_EXCL): then its key is the one read below.
            with contextlib.suppress(FileExistsError):
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="ascii") as handle:
                    handle.write(secrets.token_hex(32))
        text = self.path.read_text(encoding="utf-8").strip()
        if len(text) < MIN_KEY_LENGTH:
            raise AuditKeyMissing(f"The audit key file {self.path} holds fewer than "
                                  f"{MIN_KEY_LENGTH} characters; restore the key it was made with.")
        return text.encode("utf-8")


# The key belongs to the engine so that domain code, the CLI and the tests append through any
# Session on it without passing the key around or reaching into Flask.
_key_sources: weakref.WeakKeyDictionary[Engine, KeySource] = weakref.WeakKeyDictionary()


def use_key(engine: Engine, source: KeySource) -> None:
    """Sign and check this engine's audit chain with the key from ``source``."""
    _key_sources[engine] = source


def init_app(app: Any) -> None:
    """Take the key from the app's AUDIT_KEY setting or its instance folder's key file."""
    use_key(app.extensions["tongban.engine"],
            KeySource(app.config.get("AUDIT_KEY"), Path(app.instance_path) / KEY_FILE))


def _key(session: Session, *, create: bool) -> bytes:
    source = _key_sources.get(session.get_bind().engine)
    if source is None:
        raise AuditKeyMissing("No audit key is configured for this database engine "
                              "(tongban.audit.use_key was not called for it).")
    return source.key(create=create)


def _canonical(event: AuditEvent) -> bytes:
    payload = {
        "seq": event.seq,
        "occurred_at": event.occurred_at.isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": event.before,
        "after": event.after,
        "request_id": event.request_id,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def _keyed_digest(event: AuditEvent, key: bytes) -> str:
    return hmac.new(key, _canonical(event), hashlib.sha256).hexdigest()


def _unkeyed_digest(event: AuditEvent) -> str:
    """The scheme before the key: rows written then are recognised, never written any more."""
    return hashlib.sha256(_canonical(event)).hexdigest()


def record(session: Session, *, action: str, object_type: str, object_id: Any,
           actor_id: int | None = None, actor_name: str = "system",
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
           request_id: str = "") -> AuditEvent:
    """Append one event. Commits nothing: it belongs to the caller's transaction."""
    key = _key(session, create=True)  # before any write: no key, nothing changed
    session.flush()
    # Bumping the head row takes a row lock (PostgreSQL) / the write lock (SQLite), so two
    # concurrent transactions can never both extend the chain from the same tip.
    session.execute(update(AuditHead).where(col(AuditHead.id) == 1)
                    .values(last_seq=col(AuditHead.last_seq) + 1))
    head = session.execute(select(col(AuditHead.last_seq), col(AuditHead.last_hash))
                           .where(col(AuditHead.id) == 1)).one()
    event = AuditEvent(
        seq=head.last_seq, occurred_at=utcnow(), actor_id=actor_id, actor_name=actor_name,
        action=action, object_type=object_type, object_id=str(object_id),
        before=before, after=after, request_id=request_id, prev_hash=head.last_hash,
        row_hash="",
    )
    event.row_hash = _keyed_digest(event, key)
    session.add(event)
    session.execute(update(AuditHead).where(col(AuditHead.id) == 1)
                    .values(last_hash=event.row_hash))
    return event


@dataclass(frozen=True)
class Entry:
    """One event for :func:`record_many` (the keyword arguments of :func:`record`)."""

    action: str
    object_type: str
    object_id: Any
    actor_id: int | None = None
    actor_name: str = "system"
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    request_id: str = ""


def record_many(session: Session, entries: list[Entry]) -> list[AuditEvent]:
    """Append several events in order with one bump of the head: the same chain as calling
    :func:`record` for each, in fewer statements (a flow transition writes several)."""
    if not entries:
        return []
    key = _key(session, create=True)
    session.flush()
    session.execute(update(AuditHead).where(col(AuditHead.id) == 1)
                    .values(last_seq=col(AuditHead.last_seq) + len(entries)))
    head = session.execute(select(col(AuditHead.last_seq), col(AuditHead.last_hash))
                           .where(col(AuditHead.id) == 1)).one()
    seq, prev_hash = head.last_seq - len(entries), head.last_hash
    events = []
    for entry in entries:
        seq += 1
        event = AuditEvent(
            seq=seq, occurred_at=utcnow(), actor_id=entry.actor_id,
            actor_name=entry.actor_name, action=entry.action, object_type=entry.object_type,
            object_id=str(entry.object_id), before=entry.before, after=entry.after,
            request_id=entry.request_id, prev_hash=prev_hash, row_hash="")
        event.row_hash = prev_hash = _keyed_digest(event, key)
        events.append(event)
    session.add_all(events)
    session.execute(update(AuditHead).where(col(AuditHead.id) == 1)
                    .values(last_hash=prev_hash))
    return events


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_seq: int | None = None
    reason: str = ""
    unkeyed: int = 0  # rows at the start written before the key (see `rekey`)

    @property
    def ok(self) -> bool:
        return self.broken_seq is None and self.unkeyed == 0


@dataclass(frozen=True)
class Checkpoint:
    """The head of the chain at one moment, signed with the audit key."""

    seq: int
    hash: str
    occurred_at: str
    taken_at: str
    mac: str = ""

    def _fields(self) -> dict[str, Any]:
        return {"format": CHECKPOINT_FORMAT, "seq": self.seq, "hash": self.hash,
                "occurred_at": self.occurred_at, "taken_at": self.taken_at}

    def signed(self, key: bytes) -> Checkpoint:
        return Checkpoint(self.seq, self.hash, self.occurred_at, self.taken_at,
                          self._mac(key))

    def _mac(self, key: bytes) -> str:
        canonical = json.dumps(self._fields(), sort_keys=True, separators=(",", ":"))
        return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()

    def to_json(self) -> str:
        return json.dumps({**self._fields(), "mac": self.mac}, indent=2) + "\n"


class BadCheckpoint(ValueError):
    """A checkpoint file that cannot be read or whose HMAC does not match the key."""


def verify(session: Session, checkpoint: Checkpoint | None = None) -> ChainReport:
    """Walk the chain in order and report the first row that does not fit.

    With a checkpoint, the row it names must still be there with the same hash."""
    key = _key(session, create=False) if checkpoint is not None else None
    prev_hash, expected_seq, checked, unkeyed = "", 1, 0, 0
    for event in session.scalars(select(AuditEvent).order_by(col(AuditEvent.seq))):
        if event.seq != expected_seq:
            return ChainReport(checked, expected_seq, f"row {expected_seq} is missing", unkeyed)
        if event.prev_hash != prev_hash:
            return ChainReport(checked, event.seq, "its link to the previous row is broken",
                               unkeyed)
        if key is None:  # looked up on the first row: an empty chain needs no key
            key = _key(session, create=False)
        if not hmac.compare_digest(_keyed_digest(event, key), event.row_hash):
            if _unkeyed_digest(event) != event.row_hash:
                reason = "its content was changed after it was written"
                if checked == unkeyed:  # no row has matched the key yet
                    reason += ", or the audit key is not the one the chain was written with"
                return ChainReport(checked, event.seq, reason, unkeyed)
            if checked > unkeyed:  # an unkeyed row after keyed ones was never written by us
                return ChainReport(checked, event.seq,
                                   "it was rewritten by someone without the audit key", unkeyed)
            unkeyed += 1
        if checkpoint is not None and event.seq == checkpoint.seq \
                and not hmac.compare_digest(event.row_hash, checkpoint.hash):
            return ChainReport(checked, event.seq,
                               f"it differs from the checkpoint taken at {checkpoint.taken_at}: "
                               "the chain was rewritten back past the checkpoint", unkeyed)
        prev_hash, expected_seq, checked = event.row_hash, expected_seq + 1, checked + 1
    if checkpoint is not None and checked < checkpoint.seq:
        return ChainReport(checked, checked + 1,
                           f"the chain ends before event {checkpoint.seq} of the checkpoint taken "
                           f"at {checkpoint.taken_at}: events were removed", unkeyed)
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_seq != checked or head.last_hash != prev_hash):
        return ChainReport(checked, checked + 1, "rows at the end of the chain are missing",
                           unkeyed)
    return ChainReport(checked, unkeyed=unkeyed)


def take_checkpoint(session: Session) -> Checkpoint:
    """The signed head of an intact, fully keyed chain; ValueError with the reason otherwise."""
    report = verify(session)
    if not report.ok:
        raise ValueError(describe(report))
    key = _key(session, create=False)
    last = session.scalars(select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(1)).first()
    unsigned = Checkpoint(
        seq=last.seq if last else 0, hash=last.row_hash if last else "",
        occurred_at=last.occurred_at.isoformat(timespec="microseconds") if last else "",
        taken_at=utcnow().isoformat(timespec="seconds"))
    return unsigned.signed(key)


def read_checkpoint(session: Session, text: str) -> Checkpoint:
    """Parse a checkpoint file and check its HMAC with the audit key."""
    try:
        data = json.loads(text)
        if data.get("format") != CHECKPOINT_FORMAT:
            raise BadCheckpoint(f"not a checkpoint file (format should be {CHECKPOINT_FORMAT})")
        checkpoint = Checkpoint(seq=int(data["seq"]), hash=str(data["hash"]),
                                occurred_at=str(data["occurred_at"]),
                                taken_at=str(data["taken_at"]), mac=str(data["mac"]))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        if isinstance(exc, BadCheckpoint):
            raise
        raise BadCheckpoint(f"the checkpoint file cannot be read ({exc})") from None
    expected = checkpoint.signed(_key(session, create=False)).mac
    if not hmac.compare_digest(expected, checkpoint.mac):
        raise BadCheckpoint("the checkpoint file was changed, or made with another audit key")
    return checkpoint


def rekey(session: Session, *, actor_name: str) -> int:
    """Sign a chain whose first rows predate the audit key with the key, once; return how many
    rows were unkeyed. Only a chain that is otherwise intact is signed, and the rekey is itself
    an event. The caller commits."""
    key = _key(session, create=True)
    session.flush()
    # Take the head row's lock first, so that no event is appended while the chain is rewritten.
    session.execute(update(AuditHead).where(col(AuditHead.id) == 1)
                    .values(last_seq=col(AuditHead.last_seq)))
    report = verify(session)
    if report.broken_seq is not None:
        raise ValueError(describe(report))
    if report.unkeyed == 0:
        return 0
    old_head = session.execute(select(col(AuditHead.last_hash)).where(col(AuditHead.id) == 1)).scalar_one()
    prev_hash = ""
    for event in session.scalars(select(AuditEvent).order_by(col(AuditEvent.seq))):
        event.prev_hash = prev_hash
        event.row_hash = prev_hash = _keyed_digest(event, key)
    session.flush()
    session.execute(update(AuditHead).where(col(AuditHead.id) == 1).values(last_hash=prev_hash))
    record(session, action="audit.rekey", object_type="audit_chain", object_id="head",
           actor_name=actor_name, before={"unkeyed_events": report.unkeyed,
                                          "head_hash": old_head})
    return report.unkeyed


def describe(report: ChainReport) -> str:
    """One line for an operator."""
    if report.broken_seq is not None:
        return (f"Audit chain BROKEN at event {report.broken_seq}: {report.reason} "
                f"({report.checked} event(s) before it are intact).")
    if report.unkeyed:
        return (f"Audit chain NOT KEYED: its first {report.unkeyed} of {report.checked} event(s) "
                "carry no HMAC (written before the audit key was introduced, or rewritten by "
                "someone without it). Check them, then run `tongban audit rekey` once.")
    return f"Audit chain intact: {report.checked} event(s) checked."
