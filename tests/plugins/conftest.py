"""The plugin tests start the platform through the test kit (tongban.testkit), the way a plugin
author's tests do. The first-party plugins under plugins/ are importable here even before
`make install` has installed them (their folders go on sys.path), but the core is never given
them by import: each test says which plugins the app starts with."""

from __future__ import annotations

import sys

from tongban import PROJECT_ROOT
from tongban.testkit import *  # noqa: F403 - the test kit's fixtures

for folder in sorted((PROJECT_ROOT / "plugins").iterdir()):
    if (folder / "pyproject.toml").exists() and str(folder) not in sys.path:
        sys.path.append(str(folder))
