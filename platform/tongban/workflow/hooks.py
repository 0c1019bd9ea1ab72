"""What a ``service`` node calls: hooks by name, run by the worker outside any transaction.

The registry holds the built-in ``noop``, the test double ``test.double`` and the calls
plugins offer (``tongban_service_hooks``, registered by the plugin manager at app start with
:func:`register_offered`). A hook takes the outbox row's payload and returns a JSON-able result; it
raises :class:`HookFailed` (or any exception) when the call did not succeed, and the worker
retries it with backoff.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Hook = Callable[[dict[str, Any]], dict[str, Any]]


class HookFailed(Exception):
    """The call did not succeed this time; the message is kept on the outbox row."""


class UnknownHook(LookupError):
    """A flow names a hook nobody registered."""


_registry: dict[str, Hook] = {}
_owners: dict[str, str] = {}  # name -> the plugin that offered it (the core's have none)


def register(name: str, hook: Hook) -> None:
    """Make ``hook`` callable by the name flows give it; a name is registered once."""
    if name in _registry and _registry[name] is not hook:
        raise ValueError(f"a hook named {name!r} is already registered")
    _registry[name] = hook


def register_offered(plugin: str, name: str, hook: Hook) -> None:
    """Register a call ``plugin`` offers. The same plugin offering it again (a second app in
    one process) replaces its own; a name the core or another plugin holds is refused."""
    if name in _registry and _owners.get(name) != plugin:
        holder = _owners.get(name)
        raise ValueError(f"plugin {plugin!r} offers a service hook named {name!r}, which "
                         + (f"plugin {holder!r} offers too" if holder else "is the core's"))
    _registry[name] = hook
    _owners[name] = plugin


def owner(name: str) -> str | None:
    """The plugin that offered ``name``; None for the core's own."""
    return _owners.get(name)


def get(name: str) -> Hook:
    try:
        return _registry[name]
    except KeyError:
        raise UnknownHook(f"no hook named {name!r} is registered") from None


def names() -> list[str]:
    return sorted(_registry)


def noop(payload: dict[str, Any]) -> dict[str, Any]:
    """Does nothing and succeeds: the twin of a system that is not connected yet."""
    return {}


@dataclass
class TestDouble:
    """A hook whose behaviour a test sets: succeed, fail the first N calls, or always fail.
    Every call is recorded with its payload."""

    __test__ = False  # not a pytest test class despite its name

    fail_times: int = 0
    always_fail: bool = False
    result: dict[str, Any] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def configure(self, *, fail_times: int = 0, always_fail: bool = False,
                  result: dict[str, Any] | None = None) -> TestDouble:
        """Forget earlier calls and behave as told from the next call on."""
        with self._lock:
            self.fail_times, self.always_fail = fail_times, always_fail
            self.result = dict(result or {})
            self.calls = []
        return self

    def __call__(self, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.calls.append(payload)
            attempt = len(self.calls)
            failing = self.always_fail or attempt <= self.fail_times
            result = dict(self.result)
        if failing:
            raise HookFailed(f"test double failed on call {attempt}")
        return result


test_double = TestDouble()

register("noop", noop)
register("test.double", test_double)
