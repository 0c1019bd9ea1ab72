"""Tongban (通办): a low-code platform for government services.

`create_app` is the one application factory; nothing here touches the database at import time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def create_app(test_config: Mapping[str, Any] | None = None,
               instance_path: str | os.PathLike[str] | None = None) -> Flask:
    from . import audit, config, connectors, db, i18n, localtime
    from .extend import manager as plugins
    from .web import init_web

    instance = Path(instance_path or os.environ.get("TONGBAN_INSTANCE_PATH")
                    or PROJECT_ROOT / "instance").resolve()
    app = Flask(__name__, instance_path=str(instance), instance_relative_config=True)
    app.config.update(config.load(instance, PROJECT_ROOT, test_config))

    db.init_app(app)
    audit.init_app(app)
    i18n.init_app(app)
    localtime.init_app(app)
    plugins.init_app(app)
    connectors.init_app(app)
    init_web(app)
    plugins.register_blueprints(app)  # after the core's pages: a clash stops the start
    return app
