"""Issue 14 item 8: the department tree from the published catalogue, with users counts."""

from __future__ import annotations

import re

from .staff_world import post, user_named


def _rows(client) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    page = client.get("/admin/departments").get_data(as_text=True)
    return re.findall(r'<span class="tb-indent-(\d)">.*?</span></td>\s*<td><code>([^<]+)</code>'
                      r'</td>\s*<td><a [^>]+>(\d+) ', page, flags=re.S)


def test_the_tree_lists_each_department_under_its_parent_with_its_users(personas) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("admin")
    rows = _rows(client)
    codes = [code for _depth, code, _count in rows]
    assert codes.index("sh-rsj") < codes.index("sh-rsj-xuhui")
    by_code = {code: (int(depth), int(count)) for depth, code, count in rows}
    assert by_code["sh-rsj-xuhui"][0] == by_code["sh-rsj"][0] + 1
    # sh-rsj-xuhui: rsj_xuhui (reviewer) and clerk_xuhui (counter clerk)
    assert by_code["sh-rsj-xuhui"][1] == 2
    assert 'href="/admin/users?department=sh-rsj-xuhui"' in client.get(
        "/admin/departments").get_data(as_text=True)


def test_a_grant_counts_at_once(personas, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("admin")
    before = {code: int(count) for _d, code, count in _rows(client)}["sh-mzj"]
    post(client, f"/admin/users/{user_named(session, 'rsj_city').id}/grants",
         {"role": "reviewer", "department": "sh-mzj"})
    assert {code: int(count) for _d, code, count in _rows(client)}["sh-mzj"] == before + 1


def test_the_page_speaks_english(personas) -> None:  # type: ignore[no-untyped-def]
    from ..conftest import csrf_token

    client = personas.as_("admin")
    client.post("/settings/language", data={"locale": "en",
                                            "csrf_token": csrf_token(client, "/admin/users")})
    page = client.get("/admin/departments").get_data(as_text=True)
    assert "<h1 class=\"tb-heading-l\">Departments</h1>" in page and " users" in page
