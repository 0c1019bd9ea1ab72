"""Points ledgers for civic and green points: definitions (kind ``ledger``), double-entry
posting with caps and idempotent event ids, redemption against reward stock, expiry on a
durable timer, statements and totals. See docs/points.md, section "Ledgers"."""

from .accounts import LedgerRefused, link_user, valid_id_number
from .definition import Ledger, UnknownLedger, compile_ledger, latest_ledger, published_ledgers
from .posting import (
    CITIZEN_SOURCE,
    MAX_REWARDS_AT_ONCE,
    Event,
    Posted,
    post_event,
    reason_message,
    redeem,
    stock_left,
)
from .statement import Statement, Totals, person_of_user, statement, statement_day, totals

__all__ = [
    "CITIZEN_SOURCE", "MAX_REWARDS_AT_ONCE", "Event", "Ledger", "LedgerRefused", "Posted",
    "Statement", "Totals", "UnknownLedger", "compile_ledger", "latest_ledger", "link_user",
    "person_of_user", "post_event", "published_ledgers", "reason_message", "redeem",
    "statement", "statement_day", "stock_left", "totals", "valid_id_number",
]
