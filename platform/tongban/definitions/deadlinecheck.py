"""Checks of the time a flow file sets, after its meta-schema passed: a node's ``deadline:``
block, the flow's application ``deadlines:`` and the statutory presets they name.

The meta-schema knows the shape (units, numbers of 1 or more, the timeout actions); these checks
know what goes together: one period, a preset that exists, at most one action that decides the
task, ``accept`` only on an intake task, ``escalate`` with ``escalate_to``, reminder settings
only with ``remind``, an extension with its approver, and start and end events that name nodes
of the flow. Each finding is (path, message), placed by the caller.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from ..workflow.deadline_spec import APPLICATION_EVENTS, DECIDING_ACTIONS, UNITS

PRESETS_FILE = "workflow_definitions/deadline_presets.yaml"
PERIOD_KEYS = tuple(sorted((*UNITS, "preset")))
APPLICATION_ACTIONS = ("remind", "escalate")

Path = list[str | int]
Finding = tuple[Path, str]


def _quote(value: Any) -> str:
    return f'"{value}"'


def check_actions(block: Mapping[str, Any], here: Path, owner: str,
                  preset: Mapping[str, Any] | None, preset_id: str | None,
                  roles: tuple[str, ...], *, intake: bool | None,
                  allowed: tuple[str, ...] | None = None) -> Iterator[Finding]:
    """The timeout actions and their settings, with what the block leaves unsaid taken from
    its preset. ``intake``: whether the owner is an intake task (None: no owner yet, a preset);
    ``allowed``: the only actions the owner may take (application deadlines, service and wait
    nodes)."""
    inherited = preset or {}

    def source(key: str) -> tuple[Path, str]:
        if key in block or preset_id is None:
            return [*here, key], ""
        return [*here, "preset"], f" (from preset {_quote(preset_id)})"

    actions = list(block.get("on_timeout", inherited.get("on_timeout", [])))
    actions_at, actions_from = source("on_timeout")
    deciding = [action for action in actions if action in DECIDING_ACTIONS]
    if len(deciding) > 1:
        yield actions_at, (f"on_timeout of {owner}{actions_from} lists {' and '.join(deciding)}, "
                           "which are mutually exclusive; expected at most one of: "
                           f"{', '.join(sorted(DECIDING_ACTIONS))} (each decides the task)")
    for action in actions:
        if allowed is not None and action not in allowed:
            yield actions_at, (f"on_timeout of {owner}{actions_from} lists {action}, which "
                               f"decides a task; expected only {' or '.join(allowed)} here")
        elif action == "accept" and intake is False:
            yield actions_at, (f"on_timeout of {owner}{actions_from} lists accept (deemed "
                               "accepted), which only an intake task can do; expected accept "
                               "only on a task with kind: intake")
    escalate_to = block.get("escalate_to", inherited.get("escalate_to"))
    if "escalate" in actions and escalate_to is None:
        yield actions_at, (f"on_timeout of {owner}{actions_from} lists escalate, but the "
                           "deadline has no escalate_to; expected \"escalate_to: supervisor\" "
                           "or \"escalate_to: department_admin\"")
    if escalate_to is not None and "escalate" not in actions:
        at, origin = source("escalate_to")
        yield at, (f"the deadline of {owner}{origin} has escalate_to, but its on_timeout does "
                   "not list escalate; expected escalate in on_timeout, or no escalate_to")
    if block.get("remind", inherited.get("remind")) is not None and "remind" not in actions:
        at, origin = source("remind")
        yield at, (f"the deadline of {owner}{origin} has remind settings, but its on_timeout "
                   "does not list remind; expected remind in on_timeout, or no remind settings")
    extension = block.get("extension")
    if extension is not None:
        if "approver" not in extension:
            yield [*here, "extension"], ("an extension needs an approver; expected "
                                         "\"approver: <role>\" beside limit (the role that "
                                         "grants the extra time, such as department_admin)")
        elif extension["approver"] not in roles:
            yield [*here, "extension", "approver"], (
                f"unknown role {_quote(extension['approver'])} for the extension's approver; "
                "expected one of: " + ", ".join(roles))


def check_block(block: Mapping[str, Any], here: Path, owner: str,
                presets: Mapping[str, Mapping[str, Any]], roles: tuple[str, ...], *,
                intake: bool, allowed: tuple[str, ...] | None = None) -> Iterator[Finding]:
    """A node's deadline block or an application deadline: one period or preset, a preset that
    exists, then the actions."""
    named = [key for key in block if key in PERIOD_KEYS]
    if not named:
        yield here, (f"the deadline of {owner} names no period; expected one of: "
                     + ", ".join(PERIOD_KEYS))
        return
    if len(named) > 1:
        yield [*here, named[1]], (f"the deadline of {owner} names both {named[0]} and "
                                  f"{named[1]}; expected exactly one of: "
                                  + ", ".join(PERIOD_KEYS))
        return
    preset_id = block.get("preset")
    preset = None
    if preset_id is not None:
        preset = presets.get(preset_id)
        if preset is None:
            close = difflib.get_close_matches(preset_id, list(presets), n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            yield [*here, "preset"], (f"unknown deadline preset {_quote(preset_id)}{hint}; "
                                      f"expected the id of a preset in {PRESETS_FILE}")
            return
    yield from check_actions(block, here, owner, preset, preset_id, roles, intake=intake,
                             allowed=allowed)


def check_application_deadlines(deadlines: list[Mapping[str, Any]],
                                nodes: Mapping[str, Any],
                                presets: Mapping[str, Mapping[str, Any]],
                                roles: tuple[str, ...]) -> Iterator[Finding]:
    """The flow's top-level deadlines: each block, unique ids, events naming nodes."""
    seen: set[str] = set()
    for index, entry in enumerate(deadlines):
        here: Path = ["deadlines", index]
        owner = f"deadline {_quote(entry['id'])}"
        if entry["id"] in seen:
            yield [*here, "id"], (f"the deadline id {_quote(entry['id'])} is used twice; "
                                  "expected each application deadline id once")
        seen.add(entry["id"])
        yield from check_block(entry, here, owner, presets, roles, intake=False,
                               allowed=APPLICATION_ACTIONS)
        for key in ("starts_on", "ends_on"):
            event = entry[key]
            if event.startswith("node:") and event[5:] not in nodes:
                yield [*here, key], (f"{key} of {owner} names node {_quote(event[5:])}, which is "
                                     "not a node of this flow; expected one of: "
                                     + ", ".join(APPLICATION_EVENTS)
                                     + ", or node:<id> of one of: " + ", ".join(sorted(nodes)))
        if entry["starts_on"] == entry["ends_on"]:
            yield [*here, "ends_on"], (f"{owner} starts and ends on {entry['ends_on']}; expected "
                                       "ends_on to differ from starts_on")
