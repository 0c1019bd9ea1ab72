"""Issue 17 item 9: look-ups on the public progress page are throttled per address, GET (a link
with a code) and POST alike; the blank form is not counted."""

from __future__ import annotations

import uuid

import pytest
from flask.testing import FlaskClient

from ..conftest import csrf_token


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    return {**app_config, "RATELIMIT_KEY_PREFIX": f"tongban-test-{uuid.uuid4().hex}",
            "PROGRESS_RATE_LIMIT": "3 per minute"}


def test_the_fourth_look_up_in_a_minute_is_refused_with_the_wait_in_words(
        client: FlaskClient) -> None:
    token = csrf_token(client, "/progress")
    codes = [client.post("/progress/find", data={"csrf_token": token, "by": "reference",
                                                 "reference": "2610-RSJ2-WEBA",
                                                 "name": "张小明"}).status_code,
             client.get("/progress/find?code=2222-2222-2222-2222").status_code,
             client.post("/progress/find", data={"csrf_token": token, "by": "code",
                                                 "code": "3333333333333333"}).status_code]
    assert codes == [422, 422, 422]
    refused = client.get("/progress/find?code=2222-2222-2222-2222")
    assert refused.status_code == 429
    assert "请等待 1 分钟后重试" in refused.get_data(as_text=True).replace("\n", "")
    assert client.get("/progress").status_code == 200  # the blank form is free
