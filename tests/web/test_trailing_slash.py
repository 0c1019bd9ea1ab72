"""A section's front page answers with or without a trailing slash (people type /review/ and
/points/ as often as /review and /points); every other page keeps Flask's strict rule."""

from __future__ import annotations

from ..conftest import Personas


def test_the_inbox_and_the_points_pages_accept_a_trailing_slash(personas: Personas) -> None:
    client = personas.client
    assert client.get("/points/").status_code == 200
    assert client.get("/points").status_code == 200
    reviewer = personas.as_("rsj_xuhui")
    for path in ("/review", "/review/"):
        response = reviewer.get(path)
        assert response.status_code == 200, path
