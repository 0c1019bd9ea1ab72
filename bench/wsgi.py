"""The app as the benchmark serves it: the real platform plus a bare `hello` baseline view."""

from __future__ import annotations

from tongban import create_app

app = create_app()


@app.get("/__bench/hello")
def hello() -> str:
    return "hello"
