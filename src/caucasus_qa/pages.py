"""Page numbers carried through the text route: one private-use character per page mark.

A paged reader (the PDF reader) writes :func:`page_mark` after the first word of every paragraph
and of every page a paragraph runs onto. It is a single character of Unicode's supplementary
private-use plane (never text, not a word character, no digits), so cleaning, line joining and the
heading, note and sentence heuristics of :mod:`caucasus_qa.parse` pass it through untouched; the
parser takes the marks out last (:func:`extract_pages`), keeping where each page starts.
"""

from __future__ import annotations

import re

__all__ = ["PAGE_MARK", "extract_pages", "page_at", "page_label", "page_mark", "strip_pages"]

_BASE = 0xF0000  # plane 15: U+F0000 + page number, pages 0 to 65,533
PAGE_MARK = re.compile("[\U000f0000-\U000ffffd]")


def page_mark(page: int) -> str:
    return chr(_BASE + page)


def strip_pages(text: str) -> str:
    return PAGE_MARK.sub("", text)


def extract_pages(
    text: str, markers: tuple[tuple[int, int], ...] = ()
) -> tuple[str, tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """``text`` without page marks; (offset, page) for each mark, the offset being the start of the word
    the mark followed; and ``markers`` (offset, footnote) moved to the text without the marks."""
    out: list[str] = []
    pages: list[tuple[int, int]] = []
    removed: list[int] = []  # positions (in ``text``) of the marks
    pos = 0
    for m in PAGE_MARK.finditer(text):
        out.append(text[pos : m.start()])
        removed.append(m.start())
        clean = "".join(out)
        word_start = len(clean) - len(re.split(r"\s", clean)[-1])
        page = ord(m.group()) - _BASE
        if not pages or pages[-1][1] != page:
            pages.append((word_start, page))
        pos = m.end()
    out.append(text[pos:])
    moved = tuple((offset - sum(1 for r in removed if r < offset), n) for offset, n in markers)
    return "".join(out), tuple(pages), moved


def page_at(breaks: tuple[tuple[int, int], ...], offset: int, default: int = 0) -> int:
    """The page of character ``offset`` given (offset, page) page starts in order."""
    page = default
    for start, number in breaks:
        if start > offset:
            break
        page = number
    return page


def page_label(pages: tuple[int, int] | list[int] | tuple[int, ...] | None) -> str:
    """``(4, 4)`` → ``"p. 4"``, ``(4, 5)`` → ``"pp. 4–5"``, ``()`` → ``""``."""
    if not pages or not pages[0]:
        return ""
    first, last = pages[0], pages[-1]
    return f"p. {first}" if last == first else f"pp. {first}\u2013{last}"
