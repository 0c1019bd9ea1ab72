"""A page's HTML read as a person reads it: the words without the tags, and the error summary's
messages."""

from __future__ import annotations

import re

TAG = re.compile(r"<[^>]+>")
SUMMARY = re.compile(r'<ul class="tb-error-summary__list">(.*?)</ul>', re.S)
ITEM = re.compile(r"<li>(.*?)</li>", re.S)


def text(html: str) -> str:
    """The page's words, each run of white space (tags included) as one space."""
    return re.sub(r"\s+", " ", TAG.sub(" ", html))


def summary_errors(html: str) -> list[str]:
    """The messages of the error summary at the top of the page, in order; none without one."""
    summary = SUMMARY.search(html)
    return [text(item).strip() for item in ITEM.findall(summary.group(1))] if summary else []
