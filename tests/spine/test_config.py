"""Configuration layers and start-up failures that name the setting."""

from __future__ import annotations

import pytest

from tongban import create_app
from tongban.config import ConfigError


def test_a_bad_environment_value_fails_at_start_naming_the_setting(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TONGBAN_LOGIN_ALERT_FAILURES", "many")
    with pytest.raises(ConfigError, match="Setting TONGBAN_LOGIN_ALERT_FAILURES"):
        create_app(instance_path=tmp_path)


def test_a_session_longer_than_eight_hours_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="SESSION_IDLE_MINUTES"):
        create_app({"SESSION_IDLE_MINUTES": 600}, instance_path=tmp_path)


def test_layers_apply_in_order(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "config.py").write_text("PORT = 6000\nLOGIN_ALERT_FAILURES = 3\nHOST = '0.0.0.0'\n")
    monkeypatch.setenv("TONGBAN_PORT", "7000")
    app = create_app({"HOST": "127.0.0.2"}, instance_path=tmp_path)
    assert app.config["LOGIN_ALERT_FAILURES"] == 3  # instance file
    assert app.config["PORT"] == 7000  # environment beats the instance file
    assert app.config["HOST"] == "127.0.0.2"  # test mapping beats everything


def test_the_secret_key_is_generated_once_into_the_instance_folder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = create_app(instance_path=tmp_path).config["SECRET_KEY"]
    second = create_app(instance_path=tmp_path).config["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_safe_defaults(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = create_app(instance_path=tmp_path).config
    assert config["SESSION_COOKIE_HTTPONLY"] and config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["PERMANENT_SESSION_LIFETIME"].total_seconds() <= 8 * 3600
    assert config["MAX_CONTENT_LENGTH"] > 0
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'tongban.sqlite3'}"


@pytest.mark.parametrize("name,value", [("LOGIN_RATE_LIMIT_ACCOUNT", "lots"),
                                        ("START_RATE_LIMIT", "5 per fortnight"),
                                        ("TRUSTED_HOSTS", " , "),
                                        ("SESSION_ABSOLUTE_HOURS", "0")])
def test_bad_security_settings_stop_the_start_with_their_name(tmp_path, name, value) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=f"Setting {name} "):
        create_app({name: value}, instance_path=tmp_path)


def test_trusted_hosts_may_be_a_comma_separated_list(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app({"TRUSTED_HOSTS": "a.example, B.example"}, instance_path=tmp_path)
    assert app.config["TRUSTED_HOSTS"] == ["a.example", "b.example"]
