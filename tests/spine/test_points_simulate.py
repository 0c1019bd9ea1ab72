"""`tongban points simulate` and the admin simulation page (issue 13, item 6): a published
version or a draft file over a population file or the stored applications, with the people who
cross the pass mark listed against another version."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from sqlmodel import Session

from tests.conftest import Personas, csrf_token
from tongban.definitions.publish import current_version
from tongban.models import Application, DefinitionVersion, saved_id
from tongban.points import population as pop

SHIPPED = Path(__file__).resolve().parents[2] / "workflow_definitions/rules/sh-residence-points.yaml"
AS_OF = "2026-12-02"


def person(**sections: dict[str, Any]) -> dict[str, Any]:
    """Age 36 (30 points), a bachelor's degree (90), no title, SI below 0.8× (0): 120 points
    plus 3 per full year of the SI months given."""
    answers: dict[str, Any] = {
        "applicant": {"name": "测试", "birth_date": "1990-01-01"},
        "education": {"level": "bachelor_degree"},
        "qualification": {"kind": "none"},
        "social_insurance": {"months": 11, "base_band": "below_0_8"},
        "record": {"serious_crime": False},
    }
    for section, values in sections.items():
        answers[section] = {**answers.get(section, {}), **values}
    return answers


# Totals under the shipped rules on AS_OF, worked by hand:
HAND_MADE = {
    "A 126": person(social_insurance={"months": 24}),          # 120 + 2 years × 3
    "B 135": person(social_insurance={"months": 60}),          # 120 + 5 years × 3
    "C 120": person(),                                         # 120 + 0 years
    "D 83": person(education={"level": "college"},             # 30 + 50 + 1 year × 3
                   social_insurance={"months": 12}),
    "E vetoed": person(social_insurance={"months": 60}, record={"serious_crime": True}),
    "F missing": {"applicant": {"name": "缺", "birth_date": "1990-01-01"},
                  "qualification": {"kind": "none"},
                  "social_insurance": {"months": 60, "base_band": "below_0_8"},
                  "record": {"serious_crime": False}},
}


def raised(tmp_path: Path, threshold: int = 130) -> Path:
    """A draft of the shipped rules with the pass mark raised."""
    text = SHIPPED.read_text(encoding="utf-8").replace("threshold: 120", f"threshold: {threshold}")
    path = tmp_path / "sh-residence-points-draft.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def population_file(tmp_path: Path) -> Path:
    path = tmp_path / "people.json"
    path.write_text(json.dumps(list(HAND_MADE.values()), ensure_ascii=False), encoding="utf-8")
    return path


def store_applications(session: Session, people: dict[str, dict[str, Any]]) -> None:
    service = current_version(session, "service", "residence-points")
    form = current_version(session, "form", "residence-points")
    assert service is not None and form is not None
    for label, answers in people.items():
        session.add(Application(
            reference=f"SIM-{label.split()[0]}", idempotency_key=secrets.token_hex(8),
            service_code="residence-points", service_version_id=saved_id(service),
            form_version_id=saved_id(form), answers=answers, department_code="sh-rsj"))
    session.commit()


def publish_raised(session: Session, threshold: int = 130) -> None:
    """Version 2 of the rule set: the shipped rules with a higher pass mark."""
    current = current_version(session, "rules", "sh-residence-points")
    assert current is not None
    content = json.loads(json.dumps(current.content))
    content["outcome"]["threshold"] = threshold
    session.add(DefinitionVersion(kind="rules", code="sh-residence-points", version=2,
                                  content_hash=secrets.token_hex(8), content=content,
                                  source_path="rules/sh-residence-points.yaml", author="test"))
    session.commit()


def test_a_draft_that_raises_the_pass_mark_lists_who_now_fails(demo: Flask, cli: Any,
                                                               tmp_path: Path) -> None:
    result = cli("points", "simulate", str(raised(tmp_path)), "--population",
                 str(population_file(tmp_path)), "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (f"Simulation of sh-residence-points draft ({tmp_path}/"
                        f"sh-residence-points-draft.yaml) on 6 people ({tmp_path}/people.json), "
                        f"as of {AS_OF}")
    assert "Pass mark: 130" in lines
    assert ("Compared with version 1, pass mark 120 (its counts in brackets in the histogram)"
            in lines)
    tail = lines[lines.index("Scored:        5"):]
    assert tail == [
        "Scored:        5",
        "Passed:        1 (16.7%); 3 under version 1",
        "Vetoed:        1",
        "Missing input: 1 (education 1)",
        "Total changed: 0",
        "Now pass (crossing the pass mark): 0",
        "Now fail (crossing the pass mark): 2",
        "    #1 测试: 126 (pass) → 126 (fail)",
        "    #3 测试: 120 (pass) → 120 (fail)",
    ]
    histogram = [re.sub(r"│[█▏▎▍▌▋▊▉ ]*", "| ", line).strip() for line in lines if "│" in line]
    assert histogram == ["80–89 | 1 (was 1)", "90–99 | 0 (was 0)", "100–109 | 0 (was 0)",
                         "110–119 | 0 (was 0)", "120–129 | 2 (was 2)",
                         "130–139 | 2 (was 2) ◀ pass mark"]


def test_an_older_version_against_a_newer_one_lists_who_now_passes(
        demo: Flask, cli: Any, session: Session, tmp_path: Path) -> None:
    publish_raised(session)
    result = cli("points", "simulate", "sh-residence-points@1", "--against", "2",
                 "--population", str(population_file(tmp_path)), "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("Simulation of sh-residence-points "
                                                    "version 1 on 6 people")
    assert ("Now pass (crossing the pass mark): 2\n"
            "    #1 测试: 126 (fail) → 126 (pass)\n"
            "    #3 测试: 120 (fail) → 120 (pass)\n"
            "Now fail (crossing the pass mark): 0\n") in result.output


def test_the_current_version_is_compared_with_nothing_and_draws_a_chart(
        demo: Flask, cli: Any, tmp_path: Path) -> None:
    chart = tmp_path / "chart.svg"
    people = tmp_path / "people.csv"
    pop.write(pop.generate(200, 9), people)
    result = cli("points", "simulate", "sh-residence-points", "--population", str(people),
                 "--as-of", AS_OF, "--svg", str(chart))
    assert result.exit_code == 0, result.output
    assert "Compared with" not in result.output and "Now fail" not in result.output
    assert "Scored:        200" in result.output
    assert f"Chart written to {chart}." in result.output
    drawn = chart.read_text(encoding="utf-8")
    assert drawn.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert "<title id=\"chart-title\">sh-residence-points version 1: distribution of totals" \
           "</title>" in drawn


def test_stored_applications_are_scored_as_stored(demo: Flask, cli: Any, session: Session,
                                                  tmp_path: Path) -> None:
    store_applications(session, {k: HAND_MADE[k] for k in ("A 126", "B 135", "C 120")})
    result = cli("points", "simulate", str(raised(tmp_path)), "--from-applications",
                 "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert "on 3 people (stored applications)" in result.output.splitlines()[0]
    assert ("Now fail (crossing the pass mark): 2\n"
            "    SIM-A: 126 (pass) → 126 (fail)\n"
            "    SIM-C: 120 (pass) → 120 (fail)\n") in result.output


def test_a_draft_with_problems_is_listed_by_line_and_nothing_runs(demo: Flask, cli: Any,
                                                                  tmp_path: Path) -> None:
    draft = raised(tmp_path)
    draft.write_text(draft.read_text(encoding="utf-8").replace(
        "{min: 44, max: 44, points: 29}", "{min: 43, max: 44, points: 29}"), encoding="utf-8")
    line = next(number for number, text in enumerate(
        draft.read_text(encoding="utf-8").splitlines(), start=1) if "min: 43, max: 44" in text)
    result = cli("points", "simulate", str(draft), "--population",
                 str(population_file(tmp_path)))
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith(f"{draft}:{line}:")
    assert result.output.splitlines()[-1] == "1 problem(s) found; nothing was simulated."
    assert "Simulation of" not in result.output


def test_bad_requests_get_one_clear_line(demo: Flask, cli: Any, tmp_path: Path) -> None:
    people = str(population_file(tmp_path))
    cases = [
        (["unknown-rules", "--population", people],
         'Error: no rule set "unknown-rules" is published'),
        (["sh-residence-points@7", "--population", people],
         'Error: rule set "sh-residence-points" has no published version 7'),
        (["sh-residence-points@x", "--population", people],
         'Error: "x" is not a version number; expected ID@NUMBER'),
        ([str(tmp_path / "absent.yaml"), "--population", people],
         f"Error: {tmp_path}/absent.yaml: no such file"),
        (["sh-residence-points", "--population", people, "--against", "latest"],
         'Error: --against "latest": expected a version number, "current" or "none"'),
    ]
    for args, message in cases:
        result = cli("points", "simulate", *args)
        assert (result.exit_code, result.output.strip()) == (1, message), args
    both = cli("points", "simulate", "sh-residence-points", "--population", people,
               "--from-applications")
    assert both.exit_code == 2
    assert "Give either --population FILE or --from-applications." in both.output


def test_the_population_command_writes_the_same_people_for_the_same_seed(
        cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    result = cli("points", "population", "--count", "25", "--seed", "4", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (f"Wrote 25 applicant(s) (seed 4, ages on 2026-07-01) "
                                     f"to {out}.")
    assert json.loads(out.read_text(encoding="utf-8")) == pop.generate(25, 4)


# --- The admin page ---------------------------------------------------------------------------


def post(client: Any, **fields: str) -> Any:
    data = {"csrf_token": csrf_token(client, "/admin/points/simulate"), "source": "published",
            "rules": "sh-residence-points", "people": "generated", "count": "50", "seed": "1",
            "as_of": AS_OF, "against": "current", **fields}
    return client.post("/admin/points/simulate", data=data)


def test_the_admin_page_simulates_a_pasted_draft_on_stored_applications(
        personas: Personas, session: Session, tmp_path: Path) -> None:
    store_applications(session, {k: HAND_MADE[k] for k in ("A 126", "B 135", "C 120")})
    client = personas.as_("admin")
    page = client.get("/admin/points/simulate")
    assert page.status_code == 200
    assert "<h1 class=\"tb-heading-l\">" in page.get_data(as_text=True)
    response = post(client, source="draft", text=raised(tmp_path).read_text(encoding="utf-8"),
                    people="applications")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert html.count("SIM-A") == 1 and html.count("SIM-C") == 1 and "SIM-B" not in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and "<desc id=\"chart-desc\">" in html
    # The pass row gives both versions' share of the same people.
    pass_row = re.search(r"<tr><th scope=\"row\">达标</th>(.*?)</tr>", html)
    assert pass_row is not None
    assert len(re.findall(r"\(\d+\.\d%\)", pass_row.group(1))) == 2, pass_row.group(1)


def test_the_admin_page_scores_generated_people(personas: Personas) -> None:
    response = post(personas.as_("deptadmin"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "50" in html and "<table" in html


def test_the_admin_page_refuses_a_citizen(personas: Personas) -> None:
    assert personas.as_("citizen").get("/admin/points/simulate").status_code == 403


def test_bad_input_on_the_admin_page_is_explained_and_nothing_runs(personas: Personas,
                                                                    tmp_path: Path) -> None:
    client = personas.as_("admin")
    client.post("/settings/language", data={
        "csrf_token": csrf_token(client, "/admin/points/simulate"), "locale": "en"})
    cases = [
        ({"count": "abc"}, "Enter a whole number of people from 1 to 20,000."),
        ({"count": "20001"}, "Enter a whole number of people from 1 to 20,000."),
        ({"seed": "-1"}, "Enter the seed as a whole number, 0 or more."),
        ({"as_of": "2026-13-01"},
         "Enter the day to score on as YYYY-MM-DD, for example 2026-07-01."),
        ({"rules": "nope"}, "Choose a published rule set."),
        ({"source": "draft", "text": "  "}, "Paste a draft rules file in YAML or choose a file."),
    ]
    for fields, message in cases:
        response = post(client, **fields)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, fields
        assert message in html, fields
        assert 'id="result"' not in html
