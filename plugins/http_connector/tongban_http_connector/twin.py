"""The e-licence (电子证照) API twin, for development and tests: a small Flask app that answers
like a licence-sharing service — a person's licences by ID number (居民身份证, 学历证书), an
enterprise's business licence (营业执照) by unified social credit code — behind a token header.
Tests switch its behaviour: slow answers, a 5xx once, every token refused.

    python -m tongban_http_connector.twin [--port 8701] [--token demo-elicence-token]
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, make_server

TOKEN_HEADER = "X-Auth-Token"
DEMO_TOKEN = "demo-elicence-token"
DEMO_PORT = 8701
PREFIX = "/api/v1"

ZHANG_SAN = "31010419900307123X"     # tongban's demo citizen, as in the demo registers
LI_SI = "310101198805120028"
DEMO_USCC = "91310104MA1FL5LX3J"      # 上海示例科技有限公司, the demo enterprise account

PEOPLE: dict[str, dict[str, Any]] = {
    ZHANG_SAN: {"name": "张三", "licences": [
        {"licenceType": "resident_id", "licenceName": "居民身份证", "licenceNumber": ZHANG_SAN,
         "issuer": "上海市公安局徐汇分局", "issueDate": "2016-03-07", "validUntil": "2036-03-07"},
        {"licenceType": "education", "licenceName": "学历证书", "licenceNumber": "102691201205001234",
         "issuer": "华东师范大学", "issueDate": "2012-06-30", "validUntil": None,
         "details": {"level": "本科", "major": "计算机科学与技术"}},
    ]},
    LI_SI: {"name": "李四", "licences": [
        {"licenceType": "resident_id", "licenceName": "居民身份证", "licenceNumber": LI_SI,
         "issuer": "上海市公安局黄浦分局", "issueDate": "2018-05-12", "validUntil": "2038-05-12"},
    ]},
}

ENTERPRISES: dict[str, dict[str, Any]] = {
    DEMO_USCC: {"uscc": DEMO_USCC, "name": "上海示例科技有限公司", "legalRepresentative": "张三",
                "establishedOn": "2016-05-20", "registeredCapital": "1000万元人民币",
                "entityType": "有限责任公司（自然人投资或控股）", "status": "存续",
                "address": "上海市徐汇区漕溪北路1号", "issuer": "上海市徐汇区市场监督管理局"},
    "91310115MA1K4B2C7Y": {"uscc": "91310115MA1K4B2C7Y", "name": "上海浦江物流有限公司",
                           "legalRepresentative": "李四", "establishedOn": "2019-11-08",
                           "registeredCapital": "500万元人民币", "entityType": "有限责任公司",
                           "status": "存续", "address": "上海市浦东新区张江路100号",
                           "issuer": "上海市浦东新区市场监督管理局"},
}


@dataclass
class Behaviour:
    """What the twin does next; tests change it between calls (one lock for all fields)."""

    token: str = DEMO_TOKEN
    delay: float = 0.0                       # seconds before each answer
    fail_next: list[int] = field(default_factory=list)   # statuses to answer once each, in order
    refuse_all: bool = False                 # every token refused (401)
    requests: list[dict[str, Any]] = field(default_factory=list)   # what was asked, in order
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_once(self, *statuses: int) -> None:
        with self.lock:
            self.fail_next.extend(statuses)

    def reset(self) -> None:
        with self.lock:
            self.delay, self.refuse_all = 0.0, False
            self.fail_next.clear()
            self.requests.clear()


def _error(status: int, message: str) -> Response:
    response = jsonify({"code": str(status), "message": message, "data": None})
    response.status_code = status
    return response


def make_app(behaviour: Behaviour | None = None) -> Flask:
    behaviour = behaviour or Behaviour()
    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # the default provider has it
    app.extensions["elicence_twin"] = behaviour

    @app.before_request
    def _behave() -> Response | None:
        with behaviour.lock:
            behaviour.requests.append({
                "method": request.method, "path": request.path,
                "raw_uri": request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI", ""),
                "args": request.args.to_dict(), "token": request.headers.get(TOKEN_HEADER),
                "json": request.get_json(silent=True)})
            failure = behaviour.fail_next.pop(0) if behaviour.fail_next else None
            delay, refuse = behaviour.delay, behaviour.refuse_all
        if delay:
            time.sleep(delay)
        if failure is not None:
            return _error(failure, "simulated failure")
        if refuse or request.headers.get(TOKEN_HEADER) != behaviour.token:
            return _error(401, "invalid token")
        return None

    @app.get(f"{PREFIX}/health")
    def health() -> Response:
        return jsonify({"status": "UP"})

    @app.get(f"{PREFIX}/persons/<id_number>/licences")
    def licences(id_number: str) -> Response:
        person = PEOPLE.get(id_number)
        wanted = request.args.get("type")
        found = [] if person is None else [
            item for item in person["licences"] if wanted in (None, "", item["licenceType"])]
        return jsonify({"code": "0", "message": "ok", "data": {
            "holder": None if person is None else {"idNumber": id_number, "name": person["name"]},
            "licences": found}})

    @app.get(f"{PREFIX}/enterprises/<uscc>/business-licence")
    def business_licence(uscc: str) -> Response:
        return jsonify({"code": "0", "message": "ok", "data": ENTERPRISES.get(uscc)})

    @app.post(f"{PREFIX}/licences/verify")
    def verify() -> Response:
        asked = request.get_json(silent=True) or {}
        person = PEOPLE.get(str(asked.get("holderId", "")))
        numbers = {item["licenceNumber"] for item in (person or {}).get("licences", ())}
        return jsonify({"code": "0", "message": "ok",
                        "data": {"valid": asked.get("licenceNumber") in numbers}})

    return app


@dataclass
class RunningTwin:
    behaviour: Behaviour
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{PREFIX}"


@contextmanager
def serve(port: int = 0, behaviour: Behaviour | None = None) -> Iterator[RunningTwin]:
    """The twin on loopback (port 0: any free port) in a thread, stopped on leaving."""
    behaviour = behaviour or Behaviour()
    try:
        server = make_server("127.0.0.1", port, make_app(behaviour), threaded=True)
    except SystemExit:  # werkzeug exits the process when the port is taken: say so instead
        raise OSError(f"port {port} is in use") from None
    thread = threading.Thread(target=server.serve_forever, name="elicence-twin", daemon=True)
    thread.start()
    try:
        yield RunningTwin(behaviour, server, thread)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=DEMO_PORT)
    parser.add_argument("--token", default=DEMO_TOKEN)
    args = parser.parse_args(argv)
    with serve(args.port, Behaviour(token=args.token)) as twin:
        print(f"e-licence twin on {twin.base_url} (header {TOKEN_HEADER}: {args.token}); Ctrl+C stops")
        try:
            twin.thread.join()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
