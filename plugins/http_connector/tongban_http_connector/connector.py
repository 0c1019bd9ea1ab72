"""An open `http` connector: one pooled httpx client per connector block. A call fills the
query's templates from its parameters, sends it with the auth header from the settings, retries
transient failures (time-outs, refused connections, 408/429/5xx except 501 and 505) with
exponential backoff inside the call's time limit, never a 4xx, and maps the JSON answer with
the query's pointers. Errors name the query's path template, never the host, the values or
the token."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from tongban.plugin_api import ConnectorError, FetchResult, HealthReport, connector_setting

from .templates import MissingValue, fill_body, fill_path, fill_text, resolve

DEFAULT_TIMEOUT = 5.0
DEFAULT_RETRIES = 2
DEFAULT_BACKOFF = 0.2
DEFAULT_MAX_ROWS = 100
PERMANENT_5XX = frozenset({501, 505})   # not implemented, version not supported: asking again won't help
TRANSIENT_4XX = frozenset({408, 425, 429})


def is_transient_status(status: int) -> bool:
    return status in TRANSIENT_4XX or (500 <= status < 600 and status not in PERMANENT_5XX)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


class HttpConnector:
    def __init__(self, base_url: str, options: Mapping[str, Any], headers: Mapping[str, str]) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = float(options.get("timeout", DEFAULT_TIMEOUT))
        self.retries = int(options.get("retries", DEFAULT_RETRIES))
        self.backoff = float(options.get("backoff", DEFAULT_BACKOFF))
        self.max_rows = int(options.get("max_rows", DEFAULT_MAX_ROWS))
        self.health_path = str(options.get("health_path", ""))
        self.source = str(options["department"]["zh"])
        # No redirects (one to another host would carry the token there) and no proxy from the
        # environment: department APIs are reached directly on the government network.
        self.client = httpx.Client(headers={"Accept": "application/json", **headers},
                                   follow_redirects=False, trust_env=False,
                                   timeout=self.timeout)

    def _send(self, method: str, url: str, *, params: Mapping[str, Any] | None = None,
              body: Any = None, seconds: float) -> httpx.Response:
        try:
            return self.client.request(method, url, params=params, json=body,
                                       timeout=max(seconds, 0.001))
        except httpx.UnsupportedProtocol as exc:
            raise ConnectorError(f"the base URL is not usable: {exc}", transient=False) from None
        except httpx.TimeoutException:
            raise ConnectorError(f"no answer within {seconds:.1f} s", transient=True) from None
        except httpx.TransportError as exc:
            raise ConnectorError(f"the API could not be reached: {type(exc).__name__}",
                                 transient=True) from None

    def fetch(self, query_id: str, query: Mapping[str, Any], params: Mapping[str, Any], *,
              timeout: float) -> FetchResult:
        method = str(query.get("method", "GET"))
        what = f"{method} {query['path']}"
        url = self.base_url + fill_path(str(query["path"]), params)
        query_string = {key: fill_text(value, params) for key, value in (query.get("query") or {}).items()}
        body = fill_body(query["body"], params) if "body" in query else None
        deadline = time.monotonic() + min(timeout, self.timeout)
        attempt = 0
        while True:
            pause = self.backoff * 2 ** attempt
            try:
                response = self._send(method, url, params=query_string or None, body=body,
                                      seconds=deadline - time.monotonic())
                if response.is_success:
                    return self._rows(what, response, query)
                error = ConnectorError(_status_words(what, response.status_code),
                                       transient=is_transient_status(response.status_code))
                pause = max(pause, _retry_after(response) or 0)
            except ConnectorError as exc:
                error = exc
            if not error.transient or attempt >= self.retries \
                    or time.monotonic() + pause >= deadline:
                raise error
            time.sleep(pause)
            attempt += 1

    def _rows(self, what: str, response: httpx.Response, query: Mapping[str, Any]) -> FetchResult:
        try:
            document = response.json()
        except ValueError:
            raise ConnectorError(f"{what}: the answer is not JSON", transient=False) from None
        if "rows" in query:
            try:
                found = resolve(document, str(query["rows"]))
            except MissingValue:
                found = None
            if found is None:
                items: list[Any] = []
            elif isinstance(found, list):
                items = found
            elif isinstance(found, dict):
                items = [found]
            else:
                raise ConnectorError(f"{what}: the answer at {query['rows']} is neither a list "
                                     "nor an object", transient=False)
        else:
            items = [] if document is None else [document]
        limit = min(int(query.get("max_rows", self.max_rows)), self.max_rows)
        rows = [{pointer: _value(item, pointer) for pointer in query["fields"]}
                for item in items[:limit]]
        return FetchResult(rows=rows, source=self.source)

    def health(self) -> HealthReport:
        now = datetime.now(UTC)
        try:
            response = self._send("GET", self.base_url + self.health_path, seconds=self.timeout)
        except ConnectorError as error:
            return HealthReport("degraded" if error.transient else "down", str(error), now)
        if response.is_success or (not self.health_path and response.status_code == 404):
            return HealthReport("ok", "", now)
        transient = is_transient_status(response.status_code)
        return HealthReport("degraded" if transient else "down",
                            _status_words(f"GET {self.health_path or '/'}", response.status_code), now)

    def close(self) -> None:
        self.client.close()


def _value(item: Any, pointer: str) -> Any:
    try:
        return resolve(item, pointer)
    except MissingValue:
        return None


def _status_words(what: str, status: int) -> str:
    if status in (401, 403):
        return f"{what}: HTTP {status}, the API refused the token (check the token setting)"
    if 300 <= status < 400:
        return f"{what}: HTTP {status}, the API redirects (redirects are not followed)"
    return f"{what}: HTTP {status}"


def open_connector(options: Mapping[str, Any], settings: Mapping[str, Any]) -> HttpConnector:
    """The ConnectorType's ``open``: the base URL is ``settings[options["base_url_setting"]]``,
    the token ``settings[options["auth"]["token_setting"]]``."""
    name = options["base_url_setting"]
    base_url = connector_setting(settings, name, "base URL")
    if not base_url.startswith(("http://", "https://")):
        raise ConnectorError(f"the setting {name!r} is not an http:// or https:// URL",
                             transient=False)
    headers: dict[str, str] = {}
    auth = options.get("auth")
    if auth:
        token = connector_setting(settings, auth["token_setting"], "token")
        headers[auth["header"]] = f"{auth['scheme']} {token}" if auth.get("scheme") else token
    return HttpConnector(base_url, options, headers)
