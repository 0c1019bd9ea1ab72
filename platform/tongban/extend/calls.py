"""Calling one plugin's hook implementation on its own, with a time limit: what the core does
wherever a plugin's failure must not become the caller's (health checks, application events).

pluggy calls every implementation of a hook in one loop and stops at the first exception; here
each implementation runs in a daemon thread of its own, all at once, so one that raises is
reported and one that hangs is left behind after the limit (a daemon thread never keeps the
process alive).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import pluggy


@dataclass(frozen=True)
class Outcome:
    """What one call did: ``ok`` with its ``value``, or ``error`` in words."""

    plugin: str
    ok: bool
    value: Any = None
    error: str = ""


class _Call:
    """One function running in a daemon thread of its own."""

    def __init__(self, function: Callable[[], Any], plugin: str) -> None:
        self.plugin = plugin
        self.box: dict[str, Any] = {}
        self.thread = threading.Thread(target=self._run, args=(function,),
                                       name=f"plugin-call-{plugin}", daemon=True)
        self.thread.start()

    def _run(self, function: Callable[[], Any]) -> None:
        try:
            self.box["value"] = function()
        except BaseException as exc:  # noqa: BLE001 - whatever a plugin raises is reported
            self.box["error"] = f"{type(exc).__name__}: {exc}"[:2000]

    def outcome(self, timeout: float, limit: float) -> Outcome:
        self.thread.join(max(timeout, 0.0))
        if self.thread.is_alive():
            return Outcome(self.plugin, False, error=f"no answer within {limit:g} s (time limit)")
        if "error" in self.box:
            return Outcome(self.plugin, False, error=self.box["error"])
        return Outcome(self.plugin, True, value=self.box.get("value"))


def call_with_limit(function: Callable[[], Any], timeout: float, *, plugin: str = "") -> Outcome:
    """Run ``function()`` in a daemon thread; give up after ``timeout`` seconds."""
    return _Call(function, plugin).outcome(timeout, timeout)


def implementations(manager: pluggy.PluginManager, hook: str) -> Iterator[pluggy.HookImpl]:
    """The implementations of ``hook``, in the order the plugins were registered."""
    caller: pluggy.HookCaller = getattr(manager.hook, hook)
    yield from caller.get_hookimpls()


def call_each(manager: pluggy.PluginManager, hook: str, kwargs: dict[str, Any],
              timeout: float) -> list[Outcome]:
    """Every implementation of ``hook`` called on its own with the arguments it asks for, all
    at once: the whole takes at most ``timeout`` seconds, however many plugins hang."""
    calls = [_Call(partial(impl.function, **{name: kwargs[name] for name in impl.argnames}),
                   impl.plugin_name)
             for impl in implementations(manager, hook)]
    deadline = time.monotonic() + timeout
    return [call.outcome(deadline - time.monotonic(), timeout) for call in calls]
