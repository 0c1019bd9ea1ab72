"""Issue 13 items 3 (public) and 4: the public rules pages and the self-check calculator, no
sign-in, in Chinese and English."""

from __future__ import annotations

import re
from datetime import date

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import csrf_token


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_scratch(demo: Flask, client: FlaskClient) -> None:
    for path in ("/points", "/points/enterprise-credit", "/points/sh-residence-points",
                 "/points/enterprise-credit/check", "/points/sh-residence-points/check"):
        r = client.get(path)
        print(path, r.status_code)
        print(_text(r.get_data(as_text=True))[:3000])
    token = csrf_token(client, "/points/enterprise-credit/check")
    r = client.post("/points/enterprise-credit/check", data={"csrf_token": token,
        "enterprise.established_on:year": "2016", "enterprise.established_on:month": "5",
        "enterprise.established_on:day": "20", "compliance.tax_rating": "B",
        "compliance.penalties": "1", "action": "continue"})
    print(r.status_code, _text(r.get_data(as_text=True))[:3000])
    assert False
