"""Fixtures of the spine tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tongban import PROJECT_ROOT


@pytest.fixture
def defs_copy(tmp_path: Path) -> Path:
    """workflow_definitions/ and form_definitions/ copied into a folder of the test's own."""
    root = tmp_path / "defs"
    for folder in ("workflow_definitions", "form_definitions"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder)
    return root
