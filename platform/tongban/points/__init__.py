"""The rules engine: scorecards, ledgers, explanation, simulation (issue 13)."""
