"""Flow files and the department catalogue: checked with file:line, published all or nothing,
pinned by drafts and applications (issue 11, item 1, and its bad input)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from tongban import PROJECT_ROOT
from tongban.applications import start_draft, submit
from tongban.definitions import load_directory, publish
from tongban.definitions.publish import current_version
from tongban.demo import DEMO_ACCOUNTS
from tongban.models import Application, AuditEvent, DefinitionVersion, Department, Draft, saved_id

from .definition_files import edit

FLOW = "workflow_definitions/flows/residence-points.yaml"
CATALOGUE = "workflow_definitions/departments.yaml"


def _line_of(root: Path, relative: str, needle: str) -> int:
    lines = (root / relative).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def _problems(root: Path) -> list[str]:
    return [str(p) for p in load_directory(root).problems]


# --- the shipped files --------------------------------------------------------------------


def test_every_demo_service_names_a_checked_flow() -> None:
    result = load_directory(PROJECT_ROOT)
    assert result.problems == []
    assert set(result.flows) == {"residence-points", "urban-event-report", "household-transfer",
                                 "enterprise-credit", "birth-certificate", "newborn-household",
                                 "social-security-card"}
    for code, service in result.services.items():
        assert service.content["flow"] == code
    assert result.departments is not None


def test_the_catalogue_has_district_offices_under_the_right_bureaus() -> None:
    catalogue = load_directory(PROJECT_ROOT).departments
    assert catalogue is not None
    entries = {e["code"]: e for e in catalogue.content["departments"]}
    for bureau in ("sh-gaj", "sh-rsj", "sh-cgj", "sh-mzj"):
        assert bureau in entries and "parent" not in entries[bureau]
    for bureau in ("sh-gaj", "sh-rsj", "sh-cgj"):
        regions = {e["region"] for e in entries.values() if e.get("parent") == bureau}
        assert {"310115", "310101", "310104", "310106"} <= regions
    assert entries["sh-rsj-pudong"]["region"] == "310115"
    assert entries["sh-gaj-huangpu"]["name"]["zh"] == "上海市公安局黄浦分局"


def test_the_demo_flows_have_the_shapes_the_issue_asks_for() -> None:
    flows = load_directory(PROJECT_ROOT).flows
    points = flows["residence-points"].content["nodes"]
    assert points["intake"]["kind"] == "intake" and "correction" in points["intake"]["operations"]
    assert points["publicity"]["status"] == "publicizing"
    assert points["publicity"]["deadline"] == {"natural_days": 7}
    assert points["objection_raised"]["branches"][0] == {
        "when": {"!!": [{"var": "vars.messages.objection"}]}, "to": "objection_review",
        "label": {"zh": "公示期内收到异议", "en": "An objection received during the notice"}}
    urban = flows["urban-event-report"].content["nodes"]
    assert urban["dispatch"]["branches"][0]["when"]["=="][0] == {"var": "answers.event.category"}
    assert urban["closed"]["outcome"] == "completed" and urban["rating"]["type"] == "cc"
    household = flows["household-transfer"].content["nodes"]
    assert household["joint_review"]["next"] == ["police", "hr", "district"]
    assert household["joint_done"]["split"] == "joint_review"
    assert household["origin_reply"]["type"] == "wait"


def test_every_role_the_demo_flows_need_has_a_demo_user_in_xuhui() -> None:
    """Each human node of the demo flows, acted out for 徐汇区 (310104), has a demo account that
    holds its role in its department or a department above it; each node that falls back to a
    department admin has one; and nodes exclusive with each other have two different people."""
    result = load_directory(PROJECT_ROOT)
    assert result.departments is not None
    entries = {e["code"]: e for e in result.departments.content["departments"]}

    def ancestors(code: str) -> set[str]:
        found = {code}
        while entries[code].get("parent"):
            code = entries[code]["parent"]
            found.add(code)
        return found

    def holders(role: str, department: str) -> set[str]:
        return {username for username, _name, roles in DEMO_ACCOUNTS
                for held_role, held in roles
                if held_role.value == role and (held is None or held in ancestors(department))}

    def department_of(spec: str | dict[str, str]) -> str:
        if isinstance(spec, str):
            return spec
        return next(code for code, e in entries.items()
                    if e.get("parent") == spec["under"] and e.get("region") == "310104")

    for flow in result.flows.values():
        people: dict[str, set[str]] = {}
        for node_id, node in flow.content["nodes"].items():
            if "who" not in node:
                continue
            department = department_of(node["who"]["department"])
            people[node_id] = holders(node["who"]["role"], department)
            assert people[node_id], (flow.code, node_id)
            if node.get("when_empty") == "department_admin":
                spec = node["who"]["department"]
                bureau = spec["under"] if isinstance(spec, dict) else spec
                assert holders("department_admin", bureau), (flow.code, node_id)
        for node_id, node in flow.content["nodes"].items():
            for other in node.get("exclusive_with", []):
                assert len(people[node_id] | people[other]) >= 2, (flow.code, node_id, other)


# --- bad flow files: the issue's list, exact messages, nothing published ---------------------

BAD_FLOWS = [
    # (what, old, new, line needle, expected problem without the file and line)
    ("dangling edge", "    next: score_reached\n", "    next: score_reachd\n",
     "next: score_reachd",
     ':11: at /nodes/intake/next node "intake" leads to "score_reachd", which is not a node of '
     "this flow; expected one of: completed, initial_review, intake, municipal_review, "
     "objection_raised, objection_review, publicity, refusal_review, refused, score_reached, "
     "start"),
    ("unreachable node", "  completed: {type: end",
     "  orphan: {type: end, outcome: rejected}\n  completed: {type: end", "orphan:",
     ':3: at /nodes/orphan node "orphan" cannot be reached from the start node "start": no path '
     "leads to it; expected every node on a path from the start"),
    ("gateway without default", "    default: completed\n", "", "objection_raised:",
     ':3: at /nodes/objection_raised exclusive gateway "objection_raised" has no default; '
     'expected "default: <node id>", the node taken when no branch condition holds'),
    ("unknown role", "role: counter_clerk", "role: clerk", "role: clerk",
     ':17: at /nodes/intake/who/role unknown role "clerk"; expected one of: counter_clerk, '
     "department_admin, platform_admin, reviewer"),
]


@pytest.mark.parametrize(("what", "old", "new", "needle", "expected"), BAD_FLOWS,
                         ids=[row[0] for row in BAD_FLOWS])
def test_a_bad_flow_file_is_reported_at_its_line_and_nothing_is_published(
        defs_copy: Path, cli, session: Session, what: str, old: str, new: str, needle: str,  # type: ignore[no-untyped-def]
        expected: str) -> None:
    edit(defs_copy, FLOW, old, new)
    line = _line_of(defs_copy, FLOW, needle)
    assert _problems(defs_copy) == [f"{FLOW}:{line}{expected}"]
    result = cli("defs", "publish", str(defs_copy), "--author", "ops")
    assert result.exit_code == 1
    assert f"{FLOW}:{line}{expected}" in result.output
    assert "1 problem(s) found; nothing was published." in result.output
    assert session.scalar(select(func.count()).select_from(DefinitionVersion)) == 0
    assert session.scalar(select(func.count()).select_from(Department)) == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_publish_refuses_a_set_with_a_bad_flow_and_stores_nothing(
        defs_copy: Path, session: Session) -> None:
    edit(defs_copy, FLOW, "role: counter_clerk", "role: clerk")
    with pytest.raises(ValueError, match="1 problem"):
        publish(session, load_directory(defs_copy), author="ops")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(DefinitionVersion)) == 0


def test_defs_check_shows_flow_problems(defs_copy: Path, cli) -> None:  # type: ignore[no-untyped-def]
    edit(defs_copy, FLOW, "    default: completed\n", "")
    result = cli("defs", "check", str(defs_copy))
    assert result.exit_code == 1
    line = _line_of(defs_copy, FLOW, "objection_raised:")
    assert (f'{FLOW}:{line}:3: at /nodes/objection_raised exclusive gateway "objection_raised" '
            "has no default" in result.output)


MORE_GRAPH_PROBLEMS = [
    ("join without split", "household-transfer",
     "joint_done: {type: join, split: joint_review, next: origin_reply}",
     "joint_done: {type: join, next: origin_reply}", "joint_done:",
     'join "joint_done" does not name its split; expected "split: <node id>" naming the '
     "parallel or inclusive gateway it closes"),
    ("join naming a task", "household-transfer", "split: joint_review", "split: intake",
     "split: intake",
     'join "joint_done" names "intake" as its split, but it is a task node; expected a '
     "parallel or inclusive gateway"),
    ("join naming nothing", "household-transfer", "split: joint_review", "split: nowhere",
     "split: nowhere",
     'join "joint_done" names the split "nowhere", which is not a node of this flow; expected '
     "a parallel or inclusive gateway"),
    ("unknown department", "residence-points", "who: {role: reviewer, department: sh-rsj}",
     "who: {role: reviewer, department: sh-rjs}", "sh-rjs",
     'unknown department "sh-rjs" (did you mean "sh-rsj"?); expected a department of '
     "workflow_definitions/departments.yaml"),
    ("district_of under unknown", "urban-event-report", "under: sh-lhsrj}", "under: sh-lhj}",
     "under: sh-lhj}",
     'unknown department "sh-lhj" (did you mean "sh-lhsrj"?); expected a department of '
     "workflow_definitions/departments.yaml"),
    ("district_of under a bureau without district offices", "household-transfer",
     "{district_of: transfer.to_district, under: sh-gaj}}\n    when_empty: department_admin\n"
     "    operations:\n      - accept",
     "{district_of: transfer.to_district, under: sh-mzj}}\n    when_empty: department_admin\n"
     "    operations:\n      - accept", "under: sh-mzj",
     'department "sh-mzj" has no district office below it; expected a department with '
     "sub-departments that have a region in workflow_definitions/departments.yaml"),
    ("JsonLogic the engine cannot parse", "urban-event-report",
     '{"==": [{var: answers.event.category}, environment]}',
     '{"equalz": [{var: answers.event.category}, environment]}', "equalz",
     'the condition of branch 1 of "dispatch" is not JsonLogic the platform can run: unknown '
     "operator 'equalz' at /equalz"),
    ("condition reading outside answers and vars", "urban-event-report",
     "{var: answers.event.category}, environment", "{var: event.category}, environment",
     "{var: event.category}, environment",
     'the condition of branch 1 of "dispatch" reads "event.category"; expected a path under '
     "answers. (a form answer), vars. (flow data) or points. (the score of a service with "
     "rules)"),
    ("a part of the score that does not exist", "residence-points",
     "{var: points.eligible}", "{var: points.passed}", "points.passed",
     'the condition of branch 1 of "score_reached" reads "points.passed"; expected one of: '
     "points.total, points.eligible, points.grade"),
    ("the score in the flow of a service without rules", "urban-event-report",
     "{var: answers.event.category}, environment", "{var: points.total}, 100",
     "{var: points.total}, 100",
     'the condition reads "points.total", but service "urban-event-report" names no rule set, '
     'so its applications have no score; expected "rules: <rule set id>" in the service or a '
     "condition without points"),
    ("a var naming a question the form does not have", "urban-event-report",
     "{var: answers.event.category}, environment", "{var: answers.event.categry}, environment",
     "answers.event.categry",
     'the answer "event.categry" (did you mean "event.category"?) is not a question of the form '
     '"urban-event-report" that service "urban-event-report" uses; expected a question key of '
     "that form"),
    ("district_of naming a question the form does not have", "urban-event-report",
     "{district_of: location.region, under: sh-cgj}}\n    when_empty: department_admin       #",
     "{district_of: location.district, under: sh-cgj}}\n    when_empty: department_admin       #",
     "location.district",
     'the answer "location.district" (did you mean "location.region"?) is not a question of '
     'the form "urban-event-report" that service "urban-event-report" uses; expected a '
     "question key of that form"),
    ("vars.services of a node that is not a service", "residence-points",
     "{var: vars.messages.objection}", "{var: vars.services.intake.objection}",
     "vars.services.intake",
     'the condition of branch 1 of "objection_raised" reads vars.services.intake; expected '
     "vars.services.<node id> of a service node of this flow"),
    ("two start nodes", "residence-points", "  start: {type: start, next: intake}",
     "  start: {type: start, next: intake}\n  again: {type: start, next: intake}", "again:",
     'a second start node ("again"; the first is "start"); expected exactly one node with '
     "type: start"),
    ("a code that is not the file name", "residence-points", "code: residence-points",
     "code: residence-point", "code: residence-point",
     'the flow code "residence-point" differs from the file name; expected "residence-points" '
     "(one file per flow: flows/<code>.yaml)"),
    ("unknown key", "residence-points", "    status: publicizing",
     "    status: publicizing\n    stauts: publicizing", "stauts:",
     'unknown key "stauts"; expected one of: deadline, exclusive_with, kind, mode, n_of_m, '
     "name, next, operations, resubmit, same_approver, sign, status, type, vote, when_empty, who"),
    ("a deadline in two units", "residence-points", "deadline: {natural_days: 7}",
     "deadline: {natural_days: 7, hours: 3}", "natural_days: 7, hours: 3",
     'the deadline of node "publicity" names both natural_days and hours; expected exactly one '
     "of: hours, natural_days, preset, working_days, working_hours"),
    ("a who in no known form", "residence-points",
     "who: {role: reviewer, department: sh-rsj}\n    exclusive_with: [initial_review]",
     "who: {team: reviewers}\n    exclusive_with: [initial_review]", "who: {team",
     "expected who acts: a role within a department, a named user, named users, or a person "
     "chosen from an allowed set"),
    ("a node that is not a mapping", "residence-points",
     "  completed: {type: end, name: {zh: 办结, en: Completed}, outcome: approved}",
     "  completed: end", "completed: end", "expected a mapping of keys, found text"),
    ("an unknown node type", "residence-points", "type: exclusive", "type: gatway",
     "type: gatway", 'expected one of: "start", "task", "exclusive", "inclusive", "parallel", '
     '"join", "service", "wait", "cc", "end"'),
    ("chosen by the applicant without the answer naming the person", "residence-points",
     "who: {role: reviewer, department: sh-rsj}\n    exclusive_with: [initial_review]",
     "who: {chosen_by: applicant, from: {role: reviewer, department: sh-rsj}}\n"
     "    exclusive_with: [initial_review]", "chosen_by: applicant",
     'missing required key "field"'),
    ("n_of_m without that mode", "residence-points", "    status: publicizing",
     "    status: publicizing\n    n_of_m: {count: 2}", "n_of_m:",
     '"n_of_m" is only allowed with mode: n_of_m'),
]


@pytest.mark.parametrize(("what", "flow", "old", "new", "needle", "message"), MORE_GRAPH_PROBLEMS,
                         ids=[row[0] for row in MORE_GRAPH_PROBLEMS])
def test_each_graph_check_names_the_line_and_what_is_expected(
        defs_copy: Path, what: str, flow: str, old: str, new: str, needle: str,
        message: str) -> None:
    file = f"workflow_definitions/flows/{flow}.yaml"
    edit(defs_copy, file, old, new)
    result = load_directory(defs_copy)
    assert [(p.file, p.line, p.message) for p in result.problems] == [
        (file, _line_of(defs_copy, file, needle), message)]
    assert flow not in result.flows


def _write_flow(root: Path, body: str) -> None:
    (root / "workflow_definitions/flows/residence-points.yaml").write_text(body, "utf-8")


def test_a_loop_with_no_way_out_is_reported_once_at_the_loop(defs_copy: Path) -> None:
    _write_flow(defs_copy, """code: residence-points
name: {zh: 测试, en: Test}
nodes:
  start: {type: start, next: a}
  a:
    type: task
    name: {zh: 甲, en: A}
    who: {role: reviewer, department: sh-rsj}
    next: b
  b:
    type: task
    name: {zh: 乙, en: B}
    who: {role: reviewer, department: sh-rsj}
    next: a
  done: {type: end, outcome: approved}
""")
    found = _problems(defs_copy)
    assert found == [
        f'{FLOW}:15:3: at /nodes/done node "done" cannot be reached from the start node "start": '
        "no path leads to it; expected every node on a path from the start",
        f'{FLOW}:5:3: at /nodes/a a loop with no way out: no end node can be reached from "a", '
        '"b"; expected a branch that leads to an end node']


def test_no_start_no_end_split_never_closed_and_fallback_to_a_gateway(defs_copy: Path) -> None:
    _write_flow(defs_copy, """code: residence-points
name: {zh: 测试, en: Test}
nodes:
  fetch: {type: service, hook: noop, fallback: route, next: route}
  route:
    type: exclusive
    branches: [{when: {"==": [1, 1]}, to: fan}]
    default: fan
  fan: {type: parallel, next: [fetch, route]}
""")
    assert _problems(defs_copy) == [
        f"{FLOW}:3:1: at /nodes the flow has no start node; expected exactly one node with "
        "type: start",
        f"{FLOW}:3:1: at /nodes the flow has no end node; expected at least one node with "
        "type: end",
        f'{FLOW}:4:48: at /nodes/fetch/fallback the fallback of service node "fetch" is '
        '"route", an exclusive node; expected a task node (a person does the work the service '
        "could not)",
        f'{FLOW}:9:15: at /nodes/fan/type parallel gateway "fan" is never closed; expected a '
        'join node with "split: fan"']


def test_a_service_naming_an_unknown_flow_is_an_error_at_its_flow_line(defs_copy: Path) -> None:
    service = "workflow_definitions/urban-event-report.yaml"
    edit(defs_copy, service, "flow: urban-event-report", "flow: urban-events")
    result = load_directory(defs_copy)
    line = _line_of(defs_copy, service, "flow: urban-events")
    assert [str(p) for p in result.problems] == [
        f'{service}:{line}:7: at /flow the flow "urban-events" does not exist: expected '
        "workflow_definitions/flows/urban-events.yaml (flows: birth-certificate, "
        "enterprise-credit, household-transfer, newborn-household, residence-points, "
        "social-security-card, urban-event-report)"]
    assert "urban-event-report" not in result.services


# --- the catalogue ------------------------------------------------------------------------

BAD_CATALOGUES = [
    ("unknown parent", "    parent: sh-gaj\n    region: \"310101\"",
     "    parent: sh-gajj\n    region: \"310101\"", "parent: sh-gajj",
     'the parent "sh-gajj" of "sh-gaj-huangpu" is not in the catalogue; expected a department '
     "code listed in this file"),
    ("unknown region", 'region: "310101"', 'region: "319999"', '"319999"',
     'the region "319999" is not a current administrative code; expected a 6-digit GB/T 2260 '
     "code such as 310115 (浦东新区)"),
    ("two offices of a bureau for one region", 'region: "310104"', 'region: "310101"',
     None,
     'departments "sh-gaj-huangpu" and "sh-gaj-xuhui" both serve region 310101 under '
     '"sh-gaj"; expected one district office per region under each department'),
    ("unknown key", "  - code: sh-mzj\n", "  - code: sh-mzj\n    city: shanghai\n", "city:",
     'unknown key "city"; expected one of: code, name, parent, region'),
]


@pytest.mark.parametrize(("what", "old", "new", "needle", "message"), BAD_CATALOGUES,
                         ids=[row[0] for row in BAD_CATALOGUES])
def test_a_bad_catalogue_is_reported_with_its_line(defs_copy: Path, what: str, old: str,
                                                   new: str, needle: str | None,
                                                   message: str) -> None:
    edit(defs_copy, CATALOGUE, old, new)
    result = load_directory(defs_copy)
    messages = [(p.file, p.message) for p in result.problems if p.file == CATALOGUE]
    assert messages == [(CATALOGUE, message)]
    if needle is not None:
        assert result.problems[0].line == _line_of(defs_copy, CATALOGUE, needle)
    assert result.departments is None


def test_a_department_listed_twice_is_refused(defs_copy: Path) -> None:
    path = defs_copy / CATALOGUE
    path.write_text(path.read_text("utf-8") + "  - code: sh-rsj\n    name: {zh: 重复, en: Again}\n",
                    "utf-8")
    problems = load_directory(defs_copy).problems
    assert [p.message for p in problems] == [
        'department "sh-rsj" is listed twice (first as item 18); expected each code once']
    assert problems[0].line == len(path.read_text("utf-8").splitlines()) - 1


# --- publishing -----------------------------------------------------------------------------


def test_publishing_makes_departments_with_parents_and_regions(defs_copy: Path,
                                                               session: Session) -> None:
    publish(session, load_directory(defs_copy), author="ops")
    session.commit()
    rows = {d.code: d for d in session.scalars(select(Department))}
    assert len(rows) == 88
    assert rows["sh-rsj-pudong"].parent_id == rows["sh-rsj"].id
    assert rows["sh-rsj-pudong"].region == "310115"
    assert rows["sh-gaj-jingan"].region == "310106" and rows["sh-gaj"].region is None
    assert rows["sh-cgj-huangpu"].name_zh == "黄浦区城市管理行政执法局"
    catalogue = current_version(session, "departments", "departments")
    assert catalogue is not None and catalogue.version == 1

    edit(defs_copy, CATALOGUE, "name: {zh: 上海市民政局, en: \"Shanghai Municipal Civil Affairs Bureau\"}",
         "name: {zh: 上海市民政局, en: \"Shanghai Civil Affairs Bureau\"}")
    again = publish(session, load_directory(defs_copy), author="ops", comment="shorter name")
    session.commit()
    assert [(v.kind, v.code, v.version) for v in again.created] == [
        ("departments", "departments", 2)]
    session.expire_all()
    assert session.scalars(select(Department).where(Department.code == "sh-mzj")).one().name_en \
        == "Shanghai Civil Affairs Bureau"
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.object_id == "departments@2")).one()
    assert event.after["departments"] == {"created": 0, "updated": 1}


def test_a_service_department_outside_the_catalogue_is_still_created(
        defs_copy: Path, session: Session) -> None:
    service = defs_copy / "workflow_definitions/residence-points.yaml"
    text = service.read_text("utf-8")
    text = text.replace("code: residence-points", "code: points-pilot", 1).replace(
        "  code: sh-rsj\n", "  code: sh-rsj-pilot\n  parent: sh-rsj\n", 1)
    (defs_copy / "workflow_definitions/points-pilot.yaml").write_text(text, "utf-8")
    publish(session, load_directory(defs_copy), author="ops")
    session.commit()
    rows = {d.code: d for d in session.scalars(select(Department))}
    assert rows["sh-rsj-pilot"].parent_id == rows["sh-rsj"].id


def test_a_folder_without_catalogue_or_flows_still_publishes(tmp_path: Path,
                                                             session: Session) -> None:
    for folder in ("workflow_definitions", "form_definitions"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    (tmp_path / CATALOGUE).unlink()
    shutil.rmtree(tmp_path / "workflow_definitions/flows")
    for path in (tmp_path / "workflow_definitions").glob("*.yaml"):
        path.write_text(re.sub(r"\nflow: [a-z-]+", "", path.read_text("utf-8")), "utf-8")
    result = load_directory(tmp_path)
    assert result.problems == [] and result.departments is None and result.flows == {}
    publish(session, result, author="ops")
    session.commit()
    codes = set(session.scalars(select(Department.code)))
    assert codes == {"sh-rsj", "sh-cgj", "sh-gaj", "sh-scjgj", "sh-wjw"}


def _start_and_submit(session: Session, service_code: str) -> tuple[Draft, Application]:
    service = current_version(session, "service", service_code)
    assert service is not None
    form = current_version(session, "form", service.content["form"])
    assert form is not None
    draft = start_draft(session, service, form, user_id=None)
    submitted = submit(session, draft, {}, department_code="sh-rsj", actor_id=None,
                       actor_name="test").application
    return draft, submitted


def test_drafts_pin_the_flow_version_applications_copy_it_and_a_new_version_touches_neither(
        defs_copy: Path, session: Session) -> None:
    publish(session, load_directory(defs_copy), author="ops")
    session.flush()
    first_flow = current_version(session, "flow", "residence-points")
    assert first_flow is not None
    _, application = _start_and_submit(session, "residence-points")
    service = current_version(session, "service", "residence-points")
    form = current_version(session, "form", "residence-points")
    assert service is not None and form is not None
    open_draft = start_draft(session, service, form, user_id=None)
    session.commit()
    assert application.flow_version_id == saved_id(first_flow)
    assert open_draft.flow_version_id == saved_id(first_flow)

    edit(defs_copy, FLOW, "deadline: {natural_days: 7}", "deadline: {natural_days: 10}")
    result = publish(session, load_directory(defs_copy), author="ops", comment="longer notice")
    session.commit()
    assert [(v.kind, v.code, v.version) for v in result.created] == [
        ("flow", "residence-points", 2)]
    session.expire_all()
    assert session.get(Application, application.id).flow_version_id == saved_id(first_flow)  # type: ignore[union-attr]
    assert session.get(Draft, open_draft.id).flow_version_id == saved_id(first_flow)  # type: ignore[union-attr]
    later_draft, later = _start_and_submit(session, "residence-points")
    second = current_version(session, "flow", "residence-points")
    assert second is not None and second.version == 2
    assert later_draft.flow_version_id == later.flow_version_id == saved_id(second)
    assert session.get(Draft, open_draft.id).flow_version_id == saved_id(first_flow)  # type: ignore[union-attr]
    old = session.get(DefinitionVersion, saved_id(first_flow))
    assert old is not None and old.content["nodes"]["publicity"]["deadline"] == {"natural_days": 7}


def test_a_service_without_a_flow_pins_none(defs_copy: Path, session: Session) -> None:
    edit(defs_copy, "workflow_definitions/urban-event-report.yaml", "flow: urban-event-report\n", "")
    publish(session, load_directory(defs_copy), author="ops")
    session.flush()
    draft, application = _start_and_submit(session, "urban-event-report")
    assert draft.flow_version_id is None and application.flow_version_id is None
    _, pinned = _start_and_submit(session, "household-transfer")
    assert pinned.flow_version_id is not None


# --- the docs -------------------------------------------------------------------------------

FLOW_EXAMPLE = re.compile(r"```yaml flow-example\n(.*?)```", re.S)


def test_the_flow_example_in_definitions_md_is_valid(defs_copy: Path) -> None:
    examples = FLOW_EXAMPLE.findall((PROJECT_ROOT / "docs" / "definitions.md").read_text("utf-8"))
    assert len(examples) == 1
    (defs_copy / "workflow_definitions/flows/example-every-node.yaml").write_text(examples[0],
                                                                                  "utf-8")
    edit(defs_copy, "workflow_definitions/residence-points.yaml", "flow: residence-points",
         "flow: example-every-node")
    result = load_directory(defs_copy)
    assert result.problems == []
    nodes = result.flows["example-every-node"].content["nodes"]
    assert {n["type"] for n in nodes.values()} == {
        "start", "task", "exclusive", "inclusive", "parallel", "join", "service", "wait", "cc",
        "end"}


def test_the_flow_example_answers_are_checked_against_the_form(defs_copy: Path) -> None:
    example = FLOW_EXAMPLE.findall((PROJECT_ROOT / "docs" / "definitions.md").read_text("utf-8"))[0]
    flow = "workflow_definitions/flows/example-every-node.yaml"
    (defs_copy / flow).write_text(example, "utf-8")
    edit(defs_copy, "workflow_definitions/household-transfer.yaml", "flow: household-transfer",
         "flow: example-every-node")
    found = {(p.file, p.line, p.message.split(" (did")[0].split(" is not")[0])
             for p in load_directory(defs_copy).problems}
    line = _line_of(defs_copy, flow, "district_of: applicant.work_district")
    assert (flow, line, 'the answer "applicant.work_district"') in found
    assert (flow, _line_of(defs_copy, flow, "answers.social_insurance.months"),
            'the answer "social_insurance.months"') in found
