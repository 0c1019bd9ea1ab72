"""Data from other departments' systems: a service's ``connectors:`` block (checked at load
against the plugin's connector type), the open connectors of an app, and the calls that prefill
a draft or verify an application, each cached with its provenance and audited.

The core knows connector types only through the plugin manager; it never imports a plugin.
"""

from __future__ import annotations

from .calls import Outcome, Owner, run_query
from .check import check_connectors
from .prefill import prefill_draft, prefill_notes, provenance, seed_person
from .registry import ConnectorRegistry, health_by_plugin, health_reports, init_app, registry
from .verify import VerifyRow, verification

__all__ = ["ConnectorRegistry", "Outcome", "Owner", "VerifyRow", "check_connectors",
           "health_by_plugin", "health_reports", "init_app", "prefill_draft", "prefill_notes",
           "provenance", "registry", "run_query", "seed_person", "verification"]
