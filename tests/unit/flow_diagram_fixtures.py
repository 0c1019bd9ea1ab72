"""Flow dicts for the diagram tests, in the flow file format (flow-spec §1)."""

from __future__ import annotations

from typing import Any

POINTS: dict[str, Any] = {
    "code": "residence-points",
    "name": {"zh": "居住证积分审批", "en": "Residence points approval"},
    "nodes": {
        "start": {"type": "start", "next": "intake"},
        "intake": {"type": "task", "kind": "intake", "name": {"zh": "窗口受理", "en": "Counter intake"},
                   "who": {"role": "counter_clerk", "department": "sh-rsj"}, "next": "route"},
        "route": {"type": "exclusive",
                  "branches": [{"when": {">=": [{"var": "answers.points_total"}, 120]},
                                "to": "municipal"}],
                  "default": "initial"},
        "initial": {"type": "task", "name": {"zh": "区级初审", "en": "District review"},
                    "who": {"role": "reviewer", "department": "sh-rsj"}, "next": "split"},
        "municipal": {"type": "task", "name": {"zh": "市级复审", "en": "Municipal review"},
                      "mode": "all", "who": {"users": ["a", "b"]}, "next": "split"},
        "split": {"type": "parallel", "next": ["police", "hr"]},
        "police": {"type": "task", "name": {"zh": "公安核查", "en": "Police check"},
                   "who": {"role": "reviewer", "department": "sh-ga"}, "next": "join"},
        "hr": {"type": "service", "hook": "noop", "name": {"zh": "社保查询", "en": "Social insurance lookup"},
               "fallback": "manual", "next": "join"},
        "manual": {"type": "task", "name": {"zh": "人工录入", "en": "Manual entry"},
                   "who": {"role": "reviewer", "department": "sh-rsj"}, "next": "join"},
        "join": {"type": "join", "split": "split", "next": "done"},
        "done": {"type": "end", "outcome": "approved"},
    },
}
