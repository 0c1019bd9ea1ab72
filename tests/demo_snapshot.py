"""The demo's rows, loaded once per test run and copied into each test's database.

`load_demo` reads and checks every shipped definition (ruamel.yaml, about half a second) and
hashes a password with argon2; the `demo` fixture needs it in most page tests. The result is the
same rows every time, so one load per run is kept and each test's fresh database gets a copy:
on SQLite by INSERT ... SELECT from the attached file, on PostgreSQL by COPY of the captured
table data and the sequences' positions. The audit chain is keyed, so the test's app gets the
key file the rows were written with. The copy is taken only into a database that is still empty
(as `database_url` made it) by an app with no audit key yet; anything else falls back to a real
`load_demo`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine, MetaData, create_engine, text

from tongban import PROJECT_ROOT, audit, create_app
from tongban.demo import load_demo

# Rows a migrated database holds before any test writes (the audit chain's head).
_PRESET = {"alembic_version", "audit_head"}


@dataclass
class DemoSnapshot:
    backend: str
    tables: list[str]  # every table but alembic_version, parents before children
    filled: list[str] = field(default_factory=list)  # the tables with demo rows, same order
    audit_key: bytes = b""  # the content of the audit key file the rows were signed with
    sqlite_path: str = ""
    copies: dict[str, bytes] = field(default_factory=dict)  # PostgreSQL: COPY text per table
    sequences: dict[str, int] = field(default_factory=dict)  # PostgreSQL: last value per sequence

    def restore_into(self, app: Flask) -> bool:
        """Copy the demo rows into the app's database and its audit key into its instance
        folder, if both are still empty; False (nothing done) otherwise."""
        engine = app.extensions["tongban.engine"]
        key_file = Path(app.instance_path) / audit.KEY_FILE
        if (Path(app.config["DEFINITIONS_DIR"]) != PROJECT_ROOT
                or app.config.get("AUDIT_KEY") is not None or key_file.exists()
                or not self._empty(engine)):
            return False
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_bytes(self.audit_key)
        key_file.chmod(0o600)
        if self.backend == "sqlite":
            self._restore_sqlite(engine)
        else:
            self._restore_postgres(engine)
        return True

    def _empty(self, engine: Engine) -> bool:
        counted = [f'(SELECT count(*) FROM "{t}")' for t in self.tables if t not in _PRESET]
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT " + " + ".join(counted))).scalar()
            head = connection.execute(text("SELECT last_seq FROM audit_head")).scalar()
        return rows == 0 and head == 0

    def _restore_sqlite(self, engine: Engine) -> None:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("ATTACH DATABASE ? AS demo", (self.sqlite_path,))
            cursor.execute("BEGIN")
            cursor.execute("PRAGMA defer_foreign_keys = ON")
            for table in self.filled:
                cursor.execute(f'DELETE FROM main."{table}"')
                cursor.execute(f'INSERT INTO main."{table}" SELECT * FROM demo."{table}"')
            cursor.execute("COMMIT")
            cursor.execute("DETACH DATABASE demo")
            cursor.close()
        finally:
            raw.close()

    def _restore_postgres(self, engine: Engine) -> None:
        raw = engine.raw_connection()
        try:
            connection: Any = raw.driver_connection
            with connection.cursor() as cursor:
                for table in self.filled:
                    cursor.execute(f'DELETE FROM "{table}"')
                    with cursor.copy(f'COPY "{table}" FROM STDIN') as copy:
                        copy.write(self.copies[table])
                for sequence, value in self.sequences.items():
                    cursor.execute("SELECT setval(%s, %s, true)", (sequence, value))
            connection.commit()
        finally:
            raw.close()


def _app_config(database_url: str, tmp_path: Path) -> dict[str, object]:
    return {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret-key",
            "DEFINITIONS_DIR": str(PROJECT_ROOT), "UPLOAD_DIR": str(tmp_path / "uploads")}


def _load(database_url: str, tmp_path: Path) -> bytes:
    """Load the demo; return the audit key it was signed with."""
    app = create_app(_app_config(database_url, tmp_path), instance_path=tmp_path / "instance")
    with app.app_context():
        load_demo(app.extensions["tongban.engine"], PROJECT_ROOT)
    app.extensions["tongban.engine"].dispose()  # SQLite: the last close folds the WAL in
    return (Path(app.instance_path) / audit.KEY_FILE).read_bytes()


def _ordered_tables(engine: Engine) -> list[str]:
    metadata = MetaData()
    metadata.reflect(engine)
    return [t.name for t in metadata.sorted_tables if t.name != "alembic_version"]


def take_sqlite(path: str, tmp_path: Path) -> DemoSnapshot:
    """``path``: a migrated, empty SQLite file of the snapshot's own, loaded here."""
    url = f"sqlite:///{path}"
    key = _load(url, tmp_path)
    engine = create_engine(url)
    try:
        tables = _ordered_tables(engine)
        with engine.connect() as connection:
            filled = [t for t in tables
                      if connection.execute(text(f'SELECT count(*) FROM "{t}"')).scalar()]
    finally:
        engine.dispose()
    return DemoSnapshot("sqlite", tables, filled, audit_key=key, sqlite_path=path)


def take_postgres(url: str, tmp_path: Path) -> DemoSnapshot:
    """``url``: a migrated, empty PostgreSQL database of the snapshot's own, loaded here and
    read back."""
    key = _load(url, tmp_path)
    engine = create_engine(url)
    try:
        tables = _ordered_tables(engine)
        snapshot = DemoSnapshot("postgresql", tables, audit_key=key)
        raw = engine.raw_connection()
        try:
            connection: Any = raw.driver_connection
            with connection.cursor() as cursor:
                for table in tables:
                    with cursor.copy(f'COPY (SELECT * FROM "{table}") TO STDOUT') as copy:
                        data = b"".join(bytes(chunk) for chunk in copy)
                    if data:
                        snapshot.filled.append(table)
                        snapshot.copies[table] = data
                cursor.execute("SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename),"
                               " last_value FROM pg_sequences WHERE last_value IS NOT NULL")
                snapshot.sequences = dict(cursor.fetchall())
            connection.rollback()
        finally:
            raw.close()
    finally:
        engine.dispose()
    return snapshot
