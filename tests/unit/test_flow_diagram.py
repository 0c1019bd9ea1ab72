"""Flow diagrams: Graphviz's SVG of a flow with names, shapes and the current node marked, an
image with a title, kept per version; the steps in words as its text alternative."""

from __future__ import annotations

import base64
import copy
import re
import xml.etree.ElementTree as ET

import graphviz
import pytest

from tongban.workflow import diagram
from tongban.workflow.diagram import (
    GraphvizMissing,
    condition_words,
    diagram_img,
    diagram_steps,
    diagram_svg,
    require_graphviz,
)

try:
    from .flow_diagram_fixtures import POINTS
except ImportError:  # rootdir-relative imports
    from flow_diagram_fixtures import POINTS  # type: ignore[no-redef]

SVG = "{http://www.w3.org/2000/svg}"


def node_groups(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {g.get("id", "").removeprefix("flow-node-"): g for g in root.iter(f"{SVG}g")
            if "tb-flow-node" in (g.get("class") or "")}


def text_of(element: ET.Element) -> str:
    return "\n".join(t.text or "" for t in element.iter(f"{SVG}text"))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_node_is_drawn_with_its_name_in_the_language(lang: str) -> None:
    svg = str(diagram_svg(POINTS, lang=lang))
    groups = node_groups(svg)
    assert set(groups) == set(POINTS["nodes"])
    for node_id, node in POINTS["nodes"].items():
        if "name" in node:
            assert node["name"][lang] in text_of(groups[node_id]), node_id
    names = {"zh": ("开始", "结束", "并行", "汇合", "条件分支"),
             "en": ("Start", "End", "In parallel", "Join", "Decision")}[lang]
    for nid, name in zip(("start", "done", "split", "join", "route"), names, strict=True):
        assert name in text_of(groups[nid]), nid


def test_shapes_follow_the_node_type() -> None:
    groups = node_groups(str(diagram_svg(POINTS, lang="en")))
    assert groups["start"].find(f"{SVG}ellipse") is not None
    assert len(groups["done"].findall(f"{SVG}ellipse")) == 2          # double circle
    assert groups["route"].find(f"{SVG}polygon") is not None          # diamond
    assert len(groups["split"].findall(f"{SVG}polygon")) == 2        # double diamond
    assert groups["intake"].find(f"{SVG}path") is not None            # rounded box
    for nid in ("start", "done", "route", "split", "intake", "hr"):
        assert f"tb-flow-node--{POINTS['nodes'][nid]['type']}" in groups[nid].get("class", "")


@pytest.mark.parametrize(("lang", "marker"), [("zh", "【当前】"), ("en", "[current]")])
def test_the_current_node_has_a_thick_border_and_a_word_not_only_colour(lang: str, marker: str) -> None:
    svg = str(diagram_svg(POINTS, frozenset({"initial"}), lang))
    groups = node_groups(svg)
    current = groups["initial"]
    assert "tb-flow-node--current" in current.get("class", "")
    assert marker in text_of(current)
    shape = current.find(f"{SVG}path")
    assert shape is not None and float(shape.get("stroke-width", "1")) >= 3
    for nid, group in groups.items():
        if nid != "initial":
            assert marker not in text_of(group)
            assert "tb-flow-node--current" not in group.get("class", "")
            for drawn in group:
                assert float(drawn.get("stroke-width", "1")) < 3, nid


def test_two_current_nodes_are_both_marked() -> None:
    groups = node_groups(str(diagram_svg(POINTS, frozenset({"police", "hr"}), "en")))
    assert {nid for nid, g in groups.items() if "[current]" in text_of(g)} == {"police", "hr"}


def test_the_svg_is_an_image_with_a_title() -> None:
    svg = str(diagram_svg(POINTS, frozenset({"initial"}), "zh"))
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None and title.get("id") == root.get("aria-labelledby")
    assert title.text == "办理流程图：居住证积分审批（当前步骤：区级初审）"
    # Graphviz's own titles ("intake->route") are gone: the image has one name.
    assert len(list(root.iter(f"{SVG}title"))) == 1
    assert "<!--" not in svg and not svg.startswith("<?xml")
    assert str(diagram_svg(POINTS, lang="en")).count("<title") == 1
    assert "Flow diagram: Residence points approval</title>" in str(diagram_svg(POINTS, lang="en"))


def test_branch_conditions_label_the_edges() -> None:
    root = ET.fromstring(str(diagram_svg(POINTS, lang="en")))
    edge_texts = [text_of(g) for g in root.iter(f"{SVG}g") if g.get("class") == "edge"]
    assert "answers.points_total ≥ 120" in edge_texts
    assert "otherwise" in edge_texts and "if it fails" in edge_texts


def test_drawings_are_kept_per_content_language_and_current(monkeypatch: pytest.MonkeyPatch) -> None:
    flow = copy.deepcopy(POINTS)
    flow["code"] = "kept-test"
    calls = []
    real_pipe = graphviz.Digraph.pipe

    def counting_pipe(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real_pipe(self, *args, **kwargs)

    monkeypatch.setattr(graphviz.Digraph, "pipe", counting_pipe)
    first = diagram_svg(flow, frozenset({"intake"}), "zh")
    assert diagram_svg(copy.deepcopy(flow), frozenset({"intake"}), "zh") is first
    assert len(calls) == 1
    diagram_svg(flow, frozenset({"intake"}), "en")
    diagram_svg(flow, frozenset({"route"}), "zh")
    assert len(calls) == 3
    changed = copy.deepcopy(flow)
    changed["nodes"]["intake"]["name"]["zh"] = "受理（新）"
    assert "受理（新）" in diagram_svg(changed, frozenset({"intake"}), "zh")
    assert len(calls) == 4


def test_steps_in_order_with_branches_in_words() -> None:
    assert diagram_steps(POINTS, "en", frozenset({"initial"})) == [
        "Start",
        "Counter intake",
        "Decision: the first condition that holds decides: if answers.points_total ≥ 120, go to "
        "Municipal review; otherwise go to District review",
        "Municipal review (all must approve), then go to In parallel",
        "District review (current step)",
        "In parallel: at the same time, Police check, Social insurance lookup",
        "Police check, then go to Join",
        "Social insurance lookup, then go to Join; if it fails: Manual entry",
        "Manual entry",
        "Join (waits for the branches from In parallel)",
        "End: approved",
    ]
    zh = diagram_steps(POINTS, "zh", frozenset({"initial"}))
    assert zh[2] == ("条件分支：按顺序取第一个成立的条件：若 answers.points_total ≥ 120，转到 市级复审；"
                     "否则转到 区级初审")
    assert zh[4] == "区级初审（当前步骤）"
    assert zh[-1] == "结束：批准"


def test_steps_of_a_long_chain_and_a_loop() -> None:
    nodes = {"start": {"type": "start", "next": "t0"}}
    for i in range(300):
        nodes[f"t{i}"] = {"type": "task", "name": {"zh": f"第{i}步", "en": f"Step {i}"},
                          "next": f"t{i + 1}" if i < 299 else "end"}
    nodes["end"] = {"type": "end", "outcome": "completed"}
    steps = diagram_steps({"name": {"zh": "长"}, "nodes": nodes}, "en")
    assert steps == ["Start", *[f"Step {i}" for i in range(300)], "End: completed"]
    loop = {"nodes": {
        "start": {"type": "start", "next": "check"},
        "check": {"type": "task", "name": {"en": "Check"}, "next": "gate"},
        "gate": {"type": "exclusive", "branches": [{"when": {"==": [{"var": "answers.ok"}, False]},
                                                    "to": "check"}], "default": "end"},
        "end": {"type": "end", "outcome": "completed"},
    }}
    assert diagram_steps(loop, "en") == [
        "Start", "Check",
        "Decision: the first condition that holds decides: if answers.ok = false, go to Check; "
        "otherwise go to End",
        "End: completed"]
    assert set(node_groups(str(diagram_svg(loop, lang="en")))) == set(loop["nodes"])


@pytest.mark.parametrize(("rule", "words"), [
    ({">": [{"var": "answers.amount"}, 100]}, "answers.amount > 100"),
    ({"==": [{"var": "answers.kind"}, "a"]}, "answers.kind = “a”"),
    ({"and": [{"<=": [{"var": "x"}, 1]}, {"or": [{"!": {"var": "y"}}, {"in": [{"var": "z"}, [1, 2]]}]}]},
     "x ≤ 1 and (not y or z is one of [1, 2])"),
    ({"some_op": [1]}, '{"some_op": [1]}'),
    (True, "true"),
])
def test_conditions_in_words(rule: object, words: str) -> None:
    assert condition_words(rule, "en") == words


def test_no_graphviz_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(GraphvizMissing, match=r"apt-get install graphviz"):
        require_graphviz()
    flow = copy.deepcopy(POINTS)
    flow["code"] = "never-drawn"
    with pytest.raises(GraphvizMissing):
        diagram_svg(flow)


def test_graphviz_is_present_here() -> None:
    assert re.fullmatch(r"\d+(\.\d+)*", require_graphviz())
    assert diagram.CACHE_SIZE > 0


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    lighter, darker = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_every_label_has_enough_contrast_with_what_is_behind_it() -> None:
    """axe cannot tell the colour behind SVG text on an SVG shape; the SVG's own colours can."""
    root = ET.fromstring(str(diagram_svg(POINTS, frozenset({"initial"}), "zh")))
    checked = 0
    for group in root.iter(f"{SVG}g"):
        kind = group.get("class") or ""
        if "tb-flow-node" in kind:
            shape = next(e for e in group if e.tag != f"{SVG}text")
            behind = shape.get("fill", "")
        elif kind == "edge":
            behind = "#ffffff"  # edge labels sit on the page (the SVG's background is transparent)
        else:
            continue
        for text in group.iter(f"{SVG}text"):
            ink = text.get("fill", "#000000")
            assert contrast(ink, behind) >= 4.5, (group.get("id"), ink, behind)
            checked += 1
    assert checked >= 15


def test_pages_get_the_drawing_as_an_image_whose_alt_is_its_title() -> None:
    image = str(diagram_img(POINTS, frozenset({"initial"}), "zh"))
    found = re.fullmatch(r'<img class="tb-flow-diagram__svg" src="data:image/svg\+xml;base64,'
                         r'([A-Za-z0-9+/=]+)" alt="([^"]+)" width="(\d+)" height="(\d+)">', image)
    assert found is not None, image[:200]
    svg = base64.b64decode(found.group(1)).decode("utf-8")
    assert svg == str(diagram_svg(POINTS, frozenset({"initial"}), "zh"))
    assert found.group(2) == "办理流程图：居住证积分审批（当前步骤：区级初审）"
    width_pt = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1))
    assert int(found.group(3)) == round(width_pt * 4 / 3)
    again = diagram_img(POINTS, frozenset({"initial"}), "zh")
    assert again is diagram_img(POINTS, frozenset({"initial"}), "zh")
    quoted = copy.deepcopy(POINTS)
    quoted["name"] = {"zh": '名称 "引号" & <尖括号>'}
    assert 'alt="办理流程图：名称 &#34;引号&#34; &amp; &lt;尖括号&gt;"' in str(diagram_img(quoted))


def test_a_branch_label_stands_for_its_condition_in_the_drawing_and_the_steps() -> None:
    flow = {"code": "labelled", "name": {"zh": "标注", "en": "Labelled"}, "nodes": {
        "start": {"type": "start", "next": "route"},
        "route": {"type": "exclusive", "default": "done", "branches": [
            {"when": {"==": [{"var": "answers.kind"}, "a"]}, "to": "done",
             "label": {"zh": "甲类事项", "en": "Kind A"}}]},
        "done": {"type": "end", "outcome": "approved"}}}
    steps_zh, steps_en = diagram_steps(flow, "zh"), diagram_steps(flow, "en")
    assert any("若 甲类事项" in step for step in steps_zh)
    assert any("if Kind A" in step for step in steps_en)
    assert not any("answers.kind" in step for step in steps_zh + steps_en)
    assert "甲类事项" in str(diagram_svg(flow, lang="zh"))


def test_a_step_with_a_deadline_shows_its_period_in_the_drawing() -> None:
    from tongban.workflow.diagram import deadline_words

    assert deadline_words({"deadline": {"working_days": 5}}, "zh") == "5 个工作日"
    assert deadline_words({"deadline": {"preset": "licence_decision"}}, "en") == \
        "20 working days (+10)"
    assert deadline_words({"deadline": {"preset": "no_such_preset"}}, "en") == ""
    assert deadline_words({"type": "task"}, "en") == ""
    flow = {"code": "timed", "name": {"zh": "计时", "en": "Timed"}, "nodes": {
        "start": {"type": "start", "next": "review"},
        "review": {"type": "task", "name": {"zh": "审核", "en": "Review"},
                   "who": {"role": "reviewer", "department": "sh-rsj"},
                   "deadline": {"preset": "urban_verify"}, "next": "done"},
        "done": {"type": "end", "outcome": "approved"}}}
    assert "4 working hours" in diagram_svg(flow, lang="en")
