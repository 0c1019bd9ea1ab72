"""Issue 14 item 8: the second sign-in step is throttled per address like sign-in itself."""

from __future__ import annotations

import pytest

from .staff_world import post, signed_in
from .test_two_factor import _enrol, _password_step


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    return {**app_config, "LOGIN_RATE_LIMIT_ADDRESS": "3 per minute"}


def test_codes_from_one_address_are_throttled(app, demo) -> None:  # type: ignore[no-untyped-def]
    _enrol(signed_in(app, "rsj_city"))
    browser, location = _password_step(app)
    assert location == "/login/verify"
    codes = [post(browser, "/login/verify", {"code": "000000"}, page="/login/verify").status_code
             for _ in range(4)]
    assert codes == [422, 422, 422, 429]
