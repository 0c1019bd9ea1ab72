"""Fixtures of the e-seal tests: one demo key store per run (made like the first start of
`make run`), and the platform started with both seal plugins. Importing seal_plugins puts the
plugins' folders on the import path before the test modules import them."""

from __future__ import annotations

from pathlib import Path

import pytest

from .. import seal_plugins


@pytest.fixture(scope="session")
def seal_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("seals")


@pytest.fixture
def app_config(app_config: dict[str, object], seal_dir: Path, tmp_path: Path) -> dict[str, object]:
    return {**app_config, **seal_plugins.settings(seal_dir, tmp_path / "materials")}
