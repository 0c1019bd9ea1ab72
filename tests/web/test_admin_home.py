"""The administration home page (/admin): every administrator reaches it from the header, and
it links only to pages this build has, each of which opens; the password policy is for
platform administrators alone."""

from __future__ import annotations

import re

from ..conftest import Personas


def _links(html: str) -> list[str]:
    main = html.split('id="main-content"', 1)[1]
    return re.findall(r'<li><a href="(/admin[^"]*)">', main)


def test_every_administrator_reaches_a_home_page_whose_links_all_open(personas: Personas) -> None:
    admin = personas.as_("admin")
    assert 'href="/admin"' in admin.get("/review").get_data(as_text=True)
    html = admin.get("/admin").get_data(as_text=True)
    assert "<h1 class=\"tb-heading-l\">管理后台</h1>" in html
    links = _links(html)
    assert {"/admin/services", "/admin/users", "/admin/incidents", "/admin/security",
            "/admin/dashboards"} <= set(links)
    for link in links:
        assert admin.get(link).status_code == 200, link
    assert admin.get("/admin/").status_code == 200


def test_a_department_admin_sees_no_platform_settings(personas: Personas) -> None:
    deptadmin = personas.as_("deptadmin")
    links = _links(deptadmin.get("/admin").get_data(as_text=True))
    assert "/admin/services" in links and "/admin/security" not in links


def test_every_link_a_department_admin_is_offered_opens(personas: Personas) -> None:
    """The measure's walk: the working-day calendars (platform administrators only) were
    offered to a department administrator and answered 403."""
    deptadmin = personas.as_("deptadmin")
    main = deptadmin.get("/admin").get_data(as_text=True).split('id="main-content"', 1)[1]
    links = re.findall(r'<li><a href="(/[^"]*)">', main)
    assert "/admin/services" in links and "/admin/calendars" not in links
    assert {link: deptadmin.get(link).status_code for link in links} == dict.fromkeys(links, 200)


def test_citizens_and_reviewers_are_kept_out(personas: Personas) -> None:
    assert personas.as_("citizen").get("/admin").status_code == 403
