"""The plugin API's helpers for signers whose keys live in files: made once on first use, and
made at start only when the settings name the signer."""

from __future__ import annotations

import threading
import time

from tongban.plugin_api import MadeOnFirstUse, signer_in_use


def test_the_value_is_made_once_when_many_threads_ask_at_the_same_moment() -> None:
    made: list[int] = []

    def make() -> dict[str, int]:
        made.append(1)
        time.sleep(0.05)  # long enough for every other thread to be waiting at the lock
        return {"key": len(made)}

    lazy = MadeOnFirstUse(make)
    start = threading.Barrier(8)
    seen: list[dict[str, int]] = []

    def ask() -> None:
        start.wait()
        seen.append(lazy.get())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert made == [1]
    assert len(seen) == 8 and all(value is seen[0] for value in seen)


def test_nothing_is_made_until_it_is_asked_for() -> None:
    lazy = MadeOnFirstUse(lambda: 1 / 0)
    assert isinstance(lazy, MadeOnFirstUse)  # making it would have raised


def test_a_signer_is_in_use_when_signer_or_decision_signers_names_it() -> None:
    assert signer_in_use({"SIGNER": "ofd-seal"}, "ofd-seal")
    assert signer_in_use({"DECISION_SIGNERS": ["ofd-seal", "pdf-seal"]}, "pdf-seal")
    assert not signer_in_use({"SIGNER": "null", "DECISION_SIGNERS": None}, "pdf-seal")
    assert not signer_in_use({}, "ofd-seal")
