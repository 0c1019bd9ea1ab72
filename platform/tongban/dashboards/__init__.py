"""Dashboards for administrators: volumes, backlog, handling time against the legal limit,
corrections, reasons for return and the urban-management closed loop (figures.py: one aggregate
query each), and a generated history to show them on (history.py)."""
