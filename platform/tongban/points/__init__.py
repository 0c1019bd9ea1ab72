"""The rules engine: scorecards and grades (rules), civic and green points ledgers (ledger/)."""
