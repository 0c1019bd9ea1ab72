"""Form page speed against a bare Flask page served the same way, in the same run.

Serves the platform with gunicorn (2 sync workers) on SQLite, loads it with wrk (2 threads,
20 connections) and prints requests/s, p95 latency and the ratio of each to the `hello` baseline:

    .venv/bin/python bench/forms.py [--seconds 15]

Floors: GET form page >= 0.4x and POST with the draft saved >= 0.3x of hello.

Endpoints: GET hello (baseline); GET the sign-in page (for scale: what the layout every page
shares costs, with no database); GET a form page of a saved draft, as its applicant first
sees it (no answers yet: the page comes from the kept blank page); POST a valid page of that
draft (coerce, logic, validation, draft saved in the database, redirect); GET the same page
again, now showing the posted answers (drawn afresh on every view).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
USER_AGENT = "tongban-bench/1"
"""One browser: the session is bound to the address and User-Agent that made it."""
VENV_BIN = Path(sys.executable).parent
LUA = """
wrk.method = "{method}"
wrk.body = "{body}"
{content_type}wrk.headers["Cookie"] = "{cookie}"
wrk.headers["User-Agent"] = "{user_agent}"
done = function(summary, latency, requests)
  io.write(string.format("BENCH rps=%.1f p95_ms=%.2f errors=%d\\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(95) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server did not start: {url}")


def prepare_draft(base: str) -> tuple[str, str, str]:
    """Start an anonymous urban-event report over HTTP; return page URL, cookie, CSRF token."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    html = opener.open(base + "/services/urban-event-report").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    data = urllib.parse.urlencode({"csrf_token": token}).encode()
    response = opener.open(base + "/services/urban-event-report/start", data=data)
    event_page = response.geturl()
    location_page = event_page.rsplit("/", 1)[0] + "/location"
    opener.open(location_page).read()  # the session as a browser holds it from here on
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return location_page, cookie, token


def run_wrk(url: str, seconds: int, method: str = "GET", body: str = "",
            cookie: str = "") -> tuple[float, float, int]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        # A form's Content-Type on posts only: a browser's GET carries no body and no type.
        content_type = ('wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
                        if method == "POST" else "")
        script.write(LUA.format(method=method, body=body, cookie=cookie, user_agent=USER_AGENT,
                                content_type=content_type))
    try:
        out = subprocess.run(["wrk", "-t2", "-c20", f"-d{seconds}s", "-s", script.name, url],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    match = re.search(r"BENCH rps=([\d.]+) p95_ms=([\d.]+) errors=(\d+)", out)
    if match is None:
        raise SystemExit("wrk printed no result:\n" + out)
    return float(match.group(1)), float(match.group(2)), int(match.group(3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: run scripts/ensure-test-deps.sh")

    instance = Path(tempfile.mkdtemp(prefix="tongban-bench-"))
    env = {**os.environ, "TONGBAN_INSTANCE_PATH": str(instance)}
    subprocess.run([str(VENV_BIN / "tongban"), "demo"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level",
         "warning", "bench.wsgi:app"], env=env, cwd=ROOT)
    try:
        wait_until_up(base + "/__bench/hello")
        page_url, cookie, token = prepare_draft(base)
        body = urllib.parse.urlencode({
            "csrf_token": token, "location.region": "310104",
            "location.address": "漕溪北路 100 号门口"})
        print(f"gunicorn 2 sync workers, wrk -t2 -c20 -d{args.seconds}s, SQLite in {instance}")
        results = {
            "GET hello (baseline)": run_wrk(base + "/__bench/hello", args.seconds),
            "GET hello, with the session cookie": run_wrk(base + "/__bench/hello", args.seconds,
                                                          cookie=cookie),
            # For scale: the page layout alone (header, CSRF token, session), no database.
            "GET sign-in page (layout only)": run_wrk(base + "/login", args.seconds,
                                                      cookie=cookie),
            "GET form page": run_wrk(page_url, args.seconds, cookie=cookie),
            "POST valid page (draft saved)": run_wrk(page_url, args.seconds, "POST", body,
                                                     cookie),
            # The same page once it shows answers (after the posts above): drawn afresh on
            # every view, where the first view comes from the kept blank page.
            "GET form page with answers": run_wrk(page_url, args.seconds, cookie=cookie),
        }
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(instance, ignore_errors=True)
    base_rps, base_p95, _ = results["GET hello (baseline)"]
    print(f"{'endpoint':34} {'req/s':>9} {'p95 ms':>8} {'errors':>7} {'ratio':>6}")
    for name, (rps, p95, errors) in results.items():
        print(f"{name:34} {rps:9.1f} {p95:8.2f} {errors:7d} {rps / base_rps:6.2f}")
    with_cookie = results["GET hello, with the session cookie"][0]
    print("Against hello with the same session cookie (what a browser sends to every URL): "
          + ", ".join(f"{name} {results[name][0] / with_cookie:.2f}x"
                      for name in ("GET form page", "POST valid page (draft saved)",
                                   "GET form page with answers")))
    # Floors, not targets: what the pages must not fall below. They are met by design
    # (caching what is immutable, fewer queries), never by bypassing the pool, the ORM
    # session, CSRF or sessions (issue 10).
    floors = {"GET form page": 0.4, "POST valid page (draft saved)": 0.3}
    for name, floor in floors.items():
        ratio = results[name][0] / base_rps
        verdict = "above" if ratio >= floor else "BELOW"
        print(f"{name}: {ratio:.2f}x of hello (floor {floor}x) -> {verdict} the floor")


if __name__ == "__main__":
    main()
