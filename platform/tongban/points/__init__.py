"""The rules engine: scorecards, ledgers, explanation, simulation (see docs/points.md)."""
