"""The job queue's settings: a SQLite file in the instance folder by default, Redis by URL, and
a wrong URL refused at start naming the setting."""

from __future__ import annotations

import pytest
from huey import RedisHuey, SqliteHuey

from tongban import create_app
from tongban.config import ConfigError
from tongban.workflow import queue


def test_the_queue_is_a_sqlite_file_in_the_instance_folder_by_default(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = create_app(instance_path=tmp_path).config
    assert config["QUEUE_URL"] == f"sqlite:///{tmp_path / 'queue.db'}"
    settings = queue.QueueSettings.from_config(config)
    assert (settings.lease.total_seconds(), settings.max_attempts, settings.batch) == (60, 5, 50)
    huey = queue.storage(settings.url)
    assert isinstance(huey, SqliteHuey) and huey.storage.filename == str(tmp_path / "queue.db")


def test_a_redis_url_gives_a_redis_queue(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TONGBAN_QUEUE_URL", "redis://127.0.0.1:6379/3")
    config = create_app(instance_path=tmp_path).config
    assert isinstance(queue.storage(config["QUEUE_URL"]), RedisHuey)


@pytest.mark.parametrize("url", ["postgresql://db/queue", "sqlite://", "redis://", "queue.db"])
def test_a_queue_url_of_another_kind_is_refused_at_start(tmp_path, monkeypatch, url) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TONGBAN_QUEUE_URL", url)
    with pytest.raises(ConfigError) as raised:
        create_app(instance_path=tmp_path)
    assert str(raised.value) == ("Setting TONGBAN_QUEUE_URL (from environment) is invalid: expected "
                                 '"sqlite:///path/to/queue.db" or "redis://HOST:PORT/DB"')


def test_the_timer_batch_comes_from_its_setting_and_must_be_above_zero(  # type: ignore[no-untyped-def]
        tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TONGBAN_TIMER_BATCH", "20")
    assert queue.QueueSettings.from_config(create_app(instance_path=tmp_path).config).batch == 20
    monkeypatch.setenv("TONGBAN_TIMER_BATCH", "0")
    with pytest.raises(ConfigError) as raised:
        create_app(instance_path=tmp_path)
    assert str(raised.value) == ("Setting TONGBAN_TIMER_BATCH (from environment) is invalid: "
                                 "expected a whole number above 0")
