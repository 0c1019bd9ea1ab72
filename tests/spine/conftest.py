"""Fixtures of the spine tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tongban import PROJECT_ROOT
from tongban.workflow import timers

from . import timer_handlers
from .flow_world import World, build


@pytest.fixture
def defs_copy(tmp_path: Path) -> Path:
    """workflow_definitions/ and form_definitions/ copied into a folder of the test's own."""
    root = tmp_path / "defs"
    for folder in ("workflow_definitions", "form_definitions"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder)
    return root


@pytest.fixture
def timer_world(app: Flask) -> Iterator[World]:
    """The flow world with the timer test handlers registered; afterwards every ``test.*``
    handler is gone again, those a test added of its own too."""
    timer_handlers.register()
    yield build(app.extensions["tongban.engine"])
    for kind in [kind for kind in timers.HANDLERS if kind.startswith("test.")]:
        del timers.HANDLERS[kind]
