"""The points engine (issue 13)."""
