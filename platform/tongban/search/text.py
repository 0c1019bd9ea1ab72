"""Text as the search sees it: normalised, cut into words by jieba, spelled in pinyin.

The jieba dictionary is loaded once per process, on the first search (about a second from its
cache file); everything else is pure and cheap.
"""

from __future__ import annotations

import logging
import threading
import unicodedata

import jieba
from pypinyin import Style, lazy_pinyin

MAX_QUERY = 100  # characters of a query that are searched; the rest is dropped, not refused

# Words that say nothing about which service: "我想办理落户" searches for 落户.
STOP_WORDS = frozenset({
    "的", "了", "我", "我要", "我想", "想", "要", "怎么", "怎样", "如何", "在", "哪里", "去", "吗",
    "呢", "什么", "办", "办理", "申请", "需要", "可以", "和", "与", "及",
    "a", "an", "the", "of", "to", "for", "how", "i", "my", "do", "in", "and", "apply", "want",
})

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def _jieba() -> jieba.Tokenizer:
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            jieba.setLogLevel(logging.WARNING)  # not "Building prefix dict..." on every start
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            _tokenizer = tokenizer
        return _tokenizer


def normalise(text: str) -> str:
    """Full-width letters and digits folded (ＡＢＣ → abc), lower case, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def trim_query(raw: str) -> str:
    """The part of a query that is searched: normalised and cut at MAX_QUERY characters."""
    return normalise(raw[: MAX_QUERY * 4])[:MAX_QUERY].strip()


def _is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def words(text: str) -> list[str]:
    """The words of a text for matching: jieba's search-engine cut (long words and the short
    words inside them: 居住证积分 → 居住, 居住证, 积分), without stop words or punctuation."""
    cut = _jieba().cut_for_search(normalise(text), HMM=False)
    return [w for w in (token.strip() for token in cut) if _is_word(w) and w not in STOP_WORDS]


def has_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def pinyin(text: str) -> tuple[str, str]:
    """The full pinyin and the initials of a text's Chinese characters (户口迁入 → hukouqianru,
    hkqr); other characters are left out."""
    han = "".join(ch for ch in text if "\u4e00" <= ch <= "\u9fff")
    if not han:
        return "", ""
    return ("".join(lazy_pinyin(han)),
            "".join(lazy_pinyin(han, style=Style.FIRST_LETTER)))


def is_pinyin_query(query: str) -> bool:
    """Letters only, no spaces: may be pinyin (hkqr, hukou) as well as English (visa)."""
    return len(query) >= 2 and query.isascii() and query.isalpha()
