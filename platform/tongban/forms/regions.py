"""China's administrative regions (GB/T 2260 codes) for region pickers and ID-number checks.

The data ships in ``data/regions.json`` (built by ``data/build_regions.py``, source in
``docs/regions-data.md``) and is read on first use, never at import time.

The tree always has three levels below the root, as the Ministry of Civil Affairs codes it:
province → prefecture → county. Municipalities sit on a placeholder prefecture (北京市 →
110100 市辖区 → 东城区; 重庆市 also has 500200 县), and counties governed by the province
directly sit on 429000-style "省直辖县级行政区划" entries. A few prefectures (东莞市, 中山市,
儋州市, 嘉峪关市) have no counties, so they are leaves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).with_name("data") / "regions.json"

Region = tuple[str, str]
"""A ``(code, name)`` pair, e.g. ``("110101", "东城区")``."""


@dataclass(frozen=True)
class _Regions:
    names: dict[str, str]
    children: dict[str | None, list[Region]]
    historical: frozenset[str]


def _parent(code: str) -> str | None:
    if code.endswith("0000"):
        return None
    if code.endswith("00"):
        return code[:2] + "0000"
    return code[:4] + "00"


@cache
def _load() -> _Regions:
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    names: dict[str, str] = data["current"]
    children: dict[str | None, list[Region]] = {}
    for code in sorted(names):
        children.setdefault(_parent(code), []).append((code, names[code]))
    return _Regions(names, children, frozenset(data["historical"]))


def children(code: str | None) -> list[Region]:
    """The current regions directly below ``code``, by code; ``None`` gives the provinces.

    A leaf or an unknown code has no children.
    """
    return list(_load().children.get(code, ()))


def name(code: str) -> str | None:
    """The official name of a current region, or ``None`` if the code is not current."""
    return _load().names.get(code)


def path(code: str) -> list[Region]:
    """The chain province → … → ``code`` for a current region; empty if it is not current."""
    names = _load().names
    chain: list[Region] = []
    step: str | None = code
    while step is not None and step in names:
        chain.append((step, names[step]))
        step = _parent(step)
    if step is not None:
        return []
    return chain[::-1]


def is_current(code: str) -> bool:
    """Whether ``code`` is a province, prefecture or county in the current list."""
    return code in _load().names


def ever_existed(code: str) -> bool:
    """Whether ``code`` is current or was used in any year the data covers (from 1980)."""
    regions = _load()
    return code in regions.names or code in regions.historical
