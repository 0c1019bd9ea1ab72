"""A minimal Flask app for rendering form partials in tests (Babel + CSRF, like the real app)."""

from __future__ import annotations

import json
from importlib.util import find_spec
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

HERE = Path(__file__).parent
# Found without importing the package, so these tests do not depend on the app factory.
TEMPLATES = Path(find_spec("tongban").submodule_search_locations[0]) / "templates"
CORPUS = Path("/work/shared/corpus")


def make_app(locale: str = "en") -> Flask:
    app = Flask(__name__, template_folder=str(TEMPLATES))
    app.config.update(SECRET_KEY="test", TESTING=True, WTF_CSRF_ENABLED=True)
    Babel(app, locale_selector=lambda: locale)
    CSRFProtect(app)
    return app


@pytest.fixture
def forms_ctx():
    """A request context of a bare Flask app in English (named so as not to shadow the real
    app's fixtures)."""
    app = make_app()
    with app.test_request_context("/"):
        yield app


def fixture_form(name: str) -> dict:
    return json.loads((HERE / name).read_text("utf-8"))
