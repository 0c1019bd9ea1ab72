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
# The public conformance corpus sits beside the repository, in shared/corpus (read-only).
CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"


def require_corpus() -> Path:
    """The corpus folder, or a failure that says where it was looked for."""
    if not (CORPUS / "rjsf").is_dir() or not (CORPUS / "jsonforms").is_dir():
        pytest.fail(f"{CORPUS} is missing: the shared corpus (rjsf/, jsonforms/) must sit "
                    "beside the repository, as ../shared/corpus", pytrace=False)
    return CORPUS


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
