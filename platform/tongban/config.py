"""Configuration: defaults, then instance/config.py, then TONGBAN_* environment, then a test mapping.

Each setting is declared once with its type; a bad value fails at start naming the setting.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENV_PREFIX = "TONGBAN_"


class ConfigError(RuntimeError):
    """A setting has a value the platform cannot use."""


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true or false")


def _positive_int(value: Any) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("expected a whole number above 0")
    return number


def _non_negative_int(value: Any) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("expected a whole number, 0 or more")
    return number


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected text")
    return value


def _audit_key(value: Any) -> str:
    text = _str(value).strip()
    if len(text) < 32:
        raise ValueError("expected at least 32 characters (for example 64 hex digits)")
    return text


def _time_zone(value: Any) -> str:
    name = _str(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone such as Asia/Shanghai") from None
    return name


def _choice(*allowed: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = _str(value)
        if text not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}")
        return text

    return parse


def _base_url(value: Any) -> str:
    parts = urlsplit(_str(value).strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query \
            or parts.fragment:
        raise ValueError("expected an address such as https://tongban.example.gov.cn")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _queue_url(value: Any) -> str:
    text = _str(value).strip()
    parts = urlsplit(text)
    if parts.scheme == "sqlite" and text.startswith("sqlite:///") and len(text) > len("sqlite:///"):
        return text
    if parts.scheme in ("redis", "rediss") and parts.hostname:
        return text
    raise ValueError('expected "sqlite:///path/to/queue.db" or "redis://HOST:PORT/DB"')


def _host_list(value: Any) -> list[str]:
    names = value.split(",") if isinstance(value, str) else list(value)
    hosts = [_str(name).strip().lower() for name in names if _str(name).strip()]
    if not hosts:
        raise ValueError("expected at least one host name")
    return hosts


def _code_list(value: Any) -> tuple[str, ...]:
    """Comma-separated codes (or a list of them); empty means none."""
    names = value.split(",") if isinstance(value, str) else list(value)
    return tuple(code for code in (_str(name).strip() for name in names) if code)


def _register_query(value: Any) -> str:
    """Empty, or service/connector/query: the three codes of a connector query."""
    text = _str(value).strip()
    if text and (text.count("/") != 2 or not all(text.split("/"))):
        raise ValueError("expected service/connector/query (three codes), or nothing")
    return text


def _rate_limit(value: Any) -> str:
    from limits import parse_many  # Flask-Limiter's own parser: what it accepts, we accept

    text = _str(value)
    try:
        parse_many(text)
    except ValueError:
        raise ValueError('expected limits such as "10 per 15 minutes;100 per day"') from None
    return text


def _connector_settings(value: Any) -> dict[str, str]:
    """``{name: value}`` that connector options name (a database URL with its password):
    JSON in the environment, so the secret stays out of the service definitions."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError('expected JSON such as {"population_register_url": "mysql+pymysql://..."}') \
                from None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str)
                                                 for k, v in value.items()):
        raise ValueError("expected a mapping of names to text")
    return dict(value)


# The local twin of another department's registers (tongban_sql_connector.demo_registers):
# a MariaDB database with no password, for `make run` and the tests. Production sets
# TONGBAN_CONNECTOR_SETTINGS to the real registers' URLs.
DEMO_CONNECTOR_SETTINGS = {
    "demo_registers_url": "mysql+pymysql://root@127.0.0.1:3306/tongban_demo_registers",
    # The e-licence twin (python -m tongban_http_connector.twin) and its development token.
    "elicence_url": "http://127.0.0.1:8701/api/v1",
    "elicence_token": "demo-elicence-token",
}


def _token_map(value: Any) -> dict[str, str]:
    """``{token: sender}``; from the environment as JSON (``{"s3cret...": "police-system"}``)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError('expected JSON such as {"TOKEN": "sender name"}') from None
    if not isinstance(value, Mapping):
        raise ValueError('expected a mapping such as {"TOKEN": "sender name"}')
    tokens: dict[str, str] = {}
    for token, sender in value.items():
        if not isinstance(token, str) or len(token) < 32:
            raise ValueError("each token needs at least 32 characters")
        if not isinstance(sender, str) or not sender.strip():
            raise ValueError(f"the token ending {token[-4:]} names no sender")
        tokens[token] = sender.strip()
    return tokens


def _rating_level(value: Any) -> int:
    level = _positive_int(value)
    if level > 5:
        raise ValueError("expected a level from 1 to 5")
    return level


def _positive_number(value: Any) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError("expected a number above 0")
    return number


def _plugin_list(value: Any) -> tuple[object, ...]:
    """Plugin objects, or (from the environment) comma-separated module names to import."""
    import importlib

    if isinstance(value, str):
        names = [name.strip() for name in value.split(",") if name.strip()]
        try:
            return tuple(importlib.import_module(name) for name in names)
        except ImportError as exc:
            raise ValueError(f"cannot import plugin module {exc.name!r}") from None
    if isinstance(value, list | tuple):
        return tuple(value)
    raise ValueError("expected a list of plugin modules or objects")


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    parse: Callable[[Any], Any]
    doc: str


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", None, _str,
            "SQLAlchemy URL; default: SQLite file tongban.sqlite3 in the instance folder"),
    Setting("SECRET_KEY", None, _str,
            "Signing key (CSRF tokens); default: generated once into instance/secret_key"),
    Setting("AUDIT_KEY", None, _audit_key,
            "HMAC key of the audit chain, kept outside the database (at least 32 characters); "
            "default: generated once into instance/audit_key on the first audit event"),
    Setting("HOST", "127.0.0.1", _str, "Address run.py serves on"),
    Setting("PORT", 5000, _positive_int, "Port run.py serves on"),
    Setting("DEFAULT_LOCALE", "zh_CN", _choice("zh_CN", "en"), "Interface language by default"),
    Setting("TIME_ZONE", "Asia/Shanghai", _time_zone,
            "Zone in which pages show times and date questions take \"today\""),
    Setting("MAX_CONTENT_LENGTH", 20 * 1024 * 1024, _positive_int,
            "Largest request body in bytes (uploads included)"),
    Setting("MAX_FORM_PARTS", 1000, _positive_int, "Most fields or files in one form POST"),
    Setting("SESSION_IDLE_MINUTES", 480, _positive_int,
            "Minutes of inactivity before a session ends (at most 480)"),
    Setting("SESSION_ABSOLUTE_HOURS", 12, _positive_int,
            "Hours after sign-in (or a session's start) when it ends however active it is"),
    Setting("SESSION_COOKIE_SECURE", False, _bool,
            "Send the session cookie over HTTPS only (always on when BASE_URL is https)"),
    Setting("BASE_URL", None, _base_url,
            "Public address absolute links are built from; default: http://HOST:PORT"),
    Setting("TRUSTED_HOSTS", None, _host_list,
            "Comma-separated host names requests may name; default: BASE_URL's host, "
            "127.0.0.1 and localhost"),
    Setting("LOGIN_ALERT_FAILURES", 10, _positive_int,
            "Wrong passwords in a row after which an account is flagged in the audit trail"),
    Setting("RATELIMIT_STORAGE_URI", "memory://", _str,
            "Where rate-limit counters live: memory:// (one process) or redis://HOST:PORT/DB"),
    Setting("LOGIN_RATE_LIMIT_ADDRESS", "30 per minute;300 per hour", _rate_limit,
            "Sign-in attempts from one address"),
    Setting("LOGIN_RATE_LIMIT_ACCOUNT", "10 per 15 minutes", _rate_limit,
            "Failed sign-ins for one account from one address"),
    Setting("START_RATE_LIMIT", "30 per minute;300 per hour", _rate_limit,
            "Applications started by one account (or one address when signed out)"),
    Setting("SUBMIT_RATE_LIMIT", "30 per minute;300 per hour", _rate_limit,
            "Applications submitted by one account (or one address when signed out)"),
    Setting("SELF_CHECK_RATE_LIMIT", "30 per minute;300 per hour", _rate_limit,
            "Points self-checks (public calculator) from one account or address"),
    Setting("DEFINITIONS_DIR", None, _str,
            "Folder holding workflow_definitions/ and form_definitions/; default: the checkout"),
    Setting("UPLOAD_DIR", None, _str, "Where uploaded files are stored; default: instance/uploads"),
    Setting("UPLOAD_MAX_BYTES_PER_DRAFT", 50 * 1024 * 1024, _positive_int,
            "Most bytes of files one application in progress may hold"),
    Setting("UPLOAD_MAX_BYTES_PER_ADDRESS_PER_DAY", 200 * 1024 * 1024, _positive_int,
            "Most bytes of files visitors who are not signed in may store from one address "
            "in 24 hours"),
    Setting("QUEUE_URL", None, _queue_url,
            "The background job queue (timers, service calls): sqlite:///FILE (one machine) or "
            "redis://HOST:PORT/DB (several worker machines); default: SQLite file queue.db in "
            "the instance folder"),
    Setting("TIMER_LEASE_SECONDS", 60, _positive_int,
            "Seconds a worker holds a claimed timer; a timer still claimed after that (its "
            "worker died) is handed to another worker"),
    Setting("TIMER_MAX_ATTEMPTS", 5, _positive_int,
            "Tries of a timer whose handler fails before it is marked failed (an incident)"),
    Setting("TIMER_BATCH", 50, _positive_int,
            "Timers a worker fires in one transaction on PostgreSQL (one guard statement, one "
            "commit; a batch where a handler fails is fired again a savepoint each); 1 fires "
            "each in its own. A batch holds its rows' and the audit chain's locks until it "
            "commits (docs/operations.md). SQLite always fires each in its own"),
    Setting("SQL_ECHO", False, _bool, "Log every SQL statement"),
    Setting("PLUGINS", (), _plugin_list,
            "Plugins to register besides the installed ones: module names, comma-separated "
            "(the test kit passes plugin objects)"),
    Setting("PLUGIN_ENTRY_POINTS", True, _bool,
            "Load the plugins installed as packages (entry-point group tongban.plugins); off "
            "runs the core with the PLUGINS setting's plugins only"),
    Setting("PLUGIN_TIMEOUT_SECONDS", 5.0, _positive_number,
            "Time limit of one plugin's health check or application-event call"),
    Setting("MATERIAL_STORAGE", "local", _str,
            "The material storage plugin's id (the built-in local_storage plugin offers local)"),
    Setting("MATERIAL_DIR", None, _str,
            "Where the local material storage keeps files; default: instance/materials"),
    Setting("S3_BUCKET", "tongban-materials", _str,
            "The bucket the S3-compatible material storage (MATERIAL_STORAGE = s3) keeps files in"),
    Setting("S3_ENDPOINT_URL", None, _str,
            "The S3-compatible service's address (MinIO, a cloud's object storage); unset: AWS"),
    Setting("S3_REGION", "us-east-1", _str, "The S3-compatible service's region name"),
    Setting("S3_ACCESS_KEY_ID", None, _str,
            "The S3 access key id; unset: the usual AWS sources (environment, instance role)"),
    Setting("S3_SECRET_ACCESS_KEY", None, _str,
            "The S3 secret key (give it by environment, never in a file in the repository)"),
    Setting("SIGNER", "null", _str,
            "The document signer plugin's id (the null_signer plugin offers null, for "
            "development: a content hash, no key)"),
    Setting("SEAL_DIR", None, _str,
            "Where the e-seal plugins (ofd_seal, pdf_seal) keep their test-only demo CA, "
            "certificates, keys and seals; default: instance/seals"),
    Setting("COUNTER_WINDOWS", ("A", "B", "C"), _code_list,
            "Comma-separated letters of the service centre's counter windows: each has its own "
            "queue numbers (A001, B001, ...)"),
    Setting("DECISION_SIGNERS", (), _code_list,
            "Comma-separated ids of the signers that seal each decision document (one file "
            "each: ofd-seal, pdf-seal); empty: decisions are not sealed"),
    Setting("VERIFY_RATE_LIMIT", "30 per minute;300 per hour", _rate_limit,
            "Checks on the public verification page (/verify) from one address"),
    Setting("PROGRESS_RATE_LIMIT", "10 per minute;100 per hour", _rate_limit,
            "Look-ups on the public progress page (/progress) from one address"),
    Setting("SMTP_HOST", "127.0.0.1", _str, "The mail server the email notification channel sends through"),
    Setting("SMTP_PORT", 25, _positive_int, "The mail server's port"),
    Setting("MAIL_FROM", "noreply@tongban.localhost", _str, "The sender address of notification emails"),
    Setting("SMS_TWIN_LOG", None, _str,
            "Where the SMS gateway twin appends the messages it takes (JSON lines); unset: "
            "only logged"),
    Setting("NOTIFY_MAX_ATTEMPTS", 5, _positive_int,
            "Tries of a notification that fails transiently before it is marked failed"),
    Setting("NOTIFY_BACKOFF_SECONDS", 30, _positive_number,
            "Wait before the second try of a notification; doubles with each try"),
    Setting("DASHBOARD_CLOSED_LOOP_SERVICES", ("urban-event-report",), _code_list,
            "Comma-separated codes of the event-report services whose closed loop (report to "
            "close, on time, reopened) the dashboards show"),
    Setting("RATING_DEFAULT_AFTER_DAYS", 7, _positive_int,
            "Days after an application is finished when, nobody having rated it, it gets the "
            "default rating (好差评; docs/ratings.md)"),
    Setting("RATING_DEFAULT_DAY_KIND", "natural", _choice("natural", "working"),
            "How RATING_DEFAULT_AFTER_DAYS counts: natural days or working days (the "
            "service's calendar)"),
    Setting("RATING_DEFAULT_LEVEL", 3, _rating_level,
            "The default rating: 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意"),
    Setting("RATING_FOLLOW_UP_WORKING_DAYS", 5, _positive_int,
            "Working days the department has to call back (回访) and answer a real-name 差评"),
    Setting("FLOW_MESSAGE_TOKENS", {}, _token_map,
            "Bearer tokens of the systems that may post flow messages, with the sender each "
            "names: {token: sender} (JSON in the environment; tokens of at least 32 characters)"),
    Setting("LEDGER_TOKENS", {}, _token_map,
            "Bearer tokens of the systems that post points-ledger events or redeem rewards, "
            "with the ledger source each is: {token: source} (JSON in the environment; tokens "
            "of at least 32 characters)"),
    Setting("CONNECTOR_SETTINGS", DEMO_CONNECTOR_SETTINGS, _connector_settings,
            "Values that service connectors name by key, such as a register's database URL: "
            "{name: value} (JSON in the environment; docs/connectors.md)"),
    Setting("CONNECTOR_RETRY_SECONDS", 60, _non_negative_int,
            "Seconds before a connector call that failed is tried again by a page"),
    Setting("COUNTER_REGISTER", "household-transfer/population/person", _register_query,
            "The service connector query (service/connector/query) a counter clerk's look-up "
            "reads a person's name from by ID number; empty: the clerk types it, unverified "
            "(docs/counter.md)"),
)


def _instance_file_values(instance_path: Path) -> dict[str, Any]:
    path = instance_path / "config.py"
    if not path.exists():
        return {}
    namespace: dict[str, Any] = {"__file__": str(path)}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    return {k: v for k, v in namespace.items() if k.isupper()}


def _secret_key(instance_path: Path) -> str:
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


def load(instance_path: Path, project_root: Path,
         test_config: Mapping[str, Any] | None = None,
         environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Resolve every setting; raise ConfigError naming the first bad one."""
    environ = os.environ if environ is None else environ
    layers: list[tuple[str, Mapping[str, Any]]] = [
        ("instance/config.py", _instance_file_values(instance_path)),
        ("environment", {k[len(ENV_PREFIX):]: v for k, v in environ.items()
                         if k.startswith(ENV_PREFIX)}),
        ("test configuration", dict(test_config or {})),
    ]
    resolved: dict[str, Any] = {}
    known = {s.name for s in SETTINGS}
    for setting in SETTINGS:
        value, origin = setting.default, "default"
        for origin_name, layer in layers:
            if setting.name in layer:
                value, origin = layer[setting.name], origin_name
        if value is not None:
            try:
                value = setting.parse(value)
            except (TypeError, ValueError) as exc:
                source = ENV_PREFIX + setting.name if origin == "environment" else setting.name
                raise ConfigError(f"Setting {source} (from {origin}) is invalid: {exc}") from None
        resolved[setting.name] = value

    if resolved["SESSION_IDLE_MINUTES"] > 480:
        raise ConfigError("Setting SESSION_IDLE_MINUTES is invalid: at most 480 (8 hours)")
    if resolved["DATABASE_URL"] is None:
        instance_path.mkdir(parents=True, exist_ok=True)
        resolved["DATABASE_URL"] = f"sqlite:///{instance_path / 'tongban.sqlite3'}"
    if resolved["QUEUE_URL"] is None:
        instance_path.mkdir(parents=True, exist_ok=True)
        resolved["QUEUE_URL"] = f"sqlite:///{instance_path / 'queue.db'}"
    if resolved["SECRET_KEY"] is None:
        resolved["SECRET_KEY"] = _secret_key(instance_path)
    if resolved["DEFINITIONS_DIR"] is None:
        resolved["DEFINITIONS_DIR"] = str(project_root)
    if resolved["MATERIAL_DIR"] is None:
        resolved["MATERIAL_DIR"] = str(instance_path / "materials")
    if resolved["SEAL_DIR"] is None:
        resolved["SEAL_DIR"] = str(instance_path / "seals")
    if resolved["UPLOAD_DIR"] is None:
        resolved["UPLOAD_DIR"] = str(instance_path / "uploads")
    if resolved["BASE_URL"] is None:
        resolved["BASE_URL"] = f"http://{resolved['HOST']}:{resolved['PORT']}"
    base_host = urlsplit(resolved["BASE_URL"]).hostname or ""
    if resolved["TRUSTED_HOSTS"] is None:
        resolved["TRUSTED_HOSTS"] = list(dict.fromkeys([base_host, "127.0.0.1", "localhost"]))
    # Behind https, cookies never travel in the clear and browsers are told to stay on https.
    https = resolved["BASE_URL"].startswith("https://")
    resolved["SESSION_COOKIE_SECURE"] = resolved["SESSION_COOKIE_SECURE"] or https
    resolved["HSTS"] = https

    # Flask settings derived from ours; tests may still pass Flask's own keys.
    flask_settings: dict[str, Any] = {
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": resolved["SESSION_COOKIE_SECURE"],
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": resolved["SESSION_COOKIE_SECURE"],
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=resolved["SESSION_IDLE_MINUTES"]),
        "SESSION_REFRESH_EACH_REQUEST": True,
        "MAX_FORM_MEMORY_SIZE": 500 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_HEADERS_ENABLED": True,
        "BABEL_DEFAULT_LOCALE": resolved["DEFAULT_LOCALE"],
        "BABEL_DEFAULT_TIMEZONE": resolved["TIME_ZONE"],
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
    }
    resolved.update(flask_settings)
    for key, value in (test_config or {}).items():
        if key not in known:
            resolved[key] = value
    return resolved
