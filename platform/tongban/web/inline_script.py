"""The page's one inline script and its hash, which the Content-Security-Policy allows."""

from __future__ import annotations

import base64
import hashlib

from flask import Flask
from markupsafe import Markup

# Marks the page as having JavaScript before it is drawn, so that questions forms.js reveals
# later do not flash up first (forms.css, tb-js). Inline rather than a file, which would cost
# every page a blocking request; the CSP allows exactly this text (headers.py).
JS_ENABLED_SCRIPT = 'document.documentElement.classList.add("tb-js")'
JS_ENABLED_HASH = base64.b64encode(hashlib.sha256(JS_ENABLED_SCRIPT.encode()).digest()).decode()


def init_app(app: Flask) -> None:
    app.jinja_env.globals["js_enabled_script"] = Markup(f"<script>{JS_ENABLED_SCRIPT}</script>")
