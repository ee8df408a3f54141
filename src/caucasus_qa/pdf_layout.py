"""PDF page layout: words with their sizes and positions → rows → columns, furniture, footnote areas.

pdfplumber (on pdfminer.six) gives every word with its font size, font name and box, which is what
layout needs; pypdf's visitor API hands out text runs with a transformation matrix and leaves word
building, sizes in user space and line grouping to the caller, so pdfplumber it is.

The mechanisms are general, measured on each document rather than fitted to one typesetter:

- the body size is the size most characters are set in; smaller rows at a column's foot are its
  footnote area, larger or bold rows are headings;
- superscripts are words set smaller than their row and raised above its baseline;
- a page has two columns when some vertical strip in its middle third is crossed by (almost) no row;
  rows that do cross it are full-width, and between them the left column is read before the right;
- page furniture is a first or last row of a page that recurs at the same height on other pages
  once digits are ignored (running heads, "Page 3 of 9"), or a lone page number there.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Row", "Word", "body_size", "layout_pages"]

_BOLD = re.compile(r"bold|black|heavy|semibold|demi|[-+,]bd|cmbx|sfbx|bx\d", re.IGNORECASE)
_PAGE_NUMBER = re.compile(
    r"^(?:page\s*)?(?:\d{1,4}|[ivxlc]{1,6})(?:\s*(?:of|/)\s*\d{1,4})?$|^[-–—]\s*\d{1,4}\s*[-–—]$",
    re.IGNORECASE,
)
_SUP_TEXT = re.compile(r"^\d{1,3}(?:[,–-]\d{1,3})*[.,]?$|^[*†‡§]+$")
SUP_RATIO = 0.85  # a word at most this size of its row's ...
SUP_RISE = 0.12  # ... whose bottom stands this much of the row size above the baseline is raised


@dataclass
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool
    sup: bool = False  # raised and smaller than its row: a footnote marker (or "th" in 20th)


@dataclass
class Row:
    """One line of text in one column (or across the page), words in reading order."""

    page: int  # 1-based
    words: list[Word]
    column: int = 0  # 0: full width or single column; 1: left; 2: right
    kind: str = "body"  # body | note | furniture
    x0: float = 0.0
    x1: float = 0.0
    top: float = 0.0
    bottom: float = 0.0
    size: float = 0.0  # the size most of its characters are set in (superscripts aside)
    bold: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def finish(self) -> Row:
        self.words.sort(key=lambda w: w.x0)
        main = [w for w in self.words if not w.sup] or self.words
        self.x0, self.x1 = min(w.x0 for w in self.words), max(w.x1 for w in self.words)
        self.top, self.bottom = min(w.top for w in main), max(w.bottom for w in main)
        sizes: Counter[float] = Counter()
        for w in main:
            sizes[round(w.size, 1)] += len(w.text)
        self.size = sizes.most_common(1)[0][0]
        letters = sum(len(w.text) for w in main)
        self.bold = letters > 0 and sum(len(w.text) for w in main if w.bold) >= 0.9 * letters
        return self

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


# TeX's OT1 fonts set an accent as a glyph of its own over its letter ("d´etente", "Tu¨rkiye" come out);
# it goes onto the neighbouring letter whose centre is nearest its own
_ACCENTS = dict(
    zip(
        "´`¨ˆ^˜¯˘ˇ˙˚˝¸",
        "\u0301\u0300\u0308\u0302\u0302\u0303\u0304\u0306\u030c\u0307\u030a\u030b\u0327",
        strict=True,
    )
)


def _word_text(chars: list[dict[str, Any]], text: str) -> str:
    if not any(c["text"] in _ACCENTS for c in chars) or len(chars) != len(text):
        return text
    out = [c["text"] for c in chars]
    for i, c in enumerate(chars):
        if c["text"] not in _ACCENTS:
            continue
        centre = (c["x0"] + c["x1"]) / 2
        near = [j for j in (i - 1, i + 1) if 0 <= j < len(chars) and chars[j]["text"].isalpha()]
        if near:
            j = min(near, key=lambda k: abs((chars[k]["x0"] + chars[k]["x1"]) / 2 - centre))
            out[j] = unicodedata.normalize("NFC", out[j] + _ACCENTS[c["text"]])
            out[i] = ""
    return "".join(out)


def page_words(page: Any) -> list[Word]:
    """The page's upright words; a change of font size splits a word (a marker set against its word)."""
    raw = page.extract_words(
        x_tolerance_ratio=0.15,
        y_tolerance=2,
        extra_attrs=["size", "fontname"],
        keep_blank_chars=False,
        return_chars=True,
    )
    return [
        Word(
            _word_text(w["chars"], w["text"]),
            w["x0"],
            w["x1"],
            w["top"],
            w["bottom"],
            float(w["size"]),
            bool(_BOLD.search(w["fontname"])),
        )
        for w in raw
        if w.get("upright", True) and w["text"].strip()
    ]


def _rows(words: list[Word]) -> list[list[Word]]:
    """Words grouped by baseline; raised smaller words join the row they stand over."""
    words = sorted(words, key=lambda w: (w.bottom, w.x0))
    groups: list[list[Word]] = []
    for w in words:
        g = groups[-1] if groups else None
        if g is not None and abs(g[0].bottom - w.bottom) <= 0.25 * max(w.size, g[0].size):
            g.append(w)
        else:
            groups.append([w])
    # a group of words all smaller than, and raised above the baseline of, an overlapping group
    merged: list[list[Word]] = []
    for g in groups:
        size = max(w.size for w in g)
        host = _host(g, size, merged[-3:]) if merged else None
        if host is not None:
            for w in g:
                w.sup = True
            host.extend(g)
        else:
            merged.append(g)
    # a small raised group above the row that follows it (a marker set before the row's first word)
    out: list[list[Word]] = []
    for i, g in enumerate(merged):
        nxt = merged[i + 1] if i + 1 < len(merged) else None
        size = max(w.size for w in g)
        if nxt is not None and _host(g, size, [nxt]) is not None:
            for w in g:
                w.sup = True
            nxt.extend(g)
            continue
        out.append(g)
    return out


def _host(group: list[Word], size: float, candidates: list[list[Word]]) -> list[Word] | None:
    if not all(_SUP_TEXT.match(w.text) for w in group):
        return None
    for row in reversed(candidates):
        row_size = Counter(round(w.size, 1) for w in row if not w.sup).most_common(1)[0][0]
        base = max(w.bottom for w in row if not w.sup)
        top = min(w.top for w in row if not w.sup)
        bottom = max(w.bottom for w in group)
        if size <= SUP_RATIO * row_size and top - 0.3 * row_size <= bottom <= base - SUP_RISE * row_size:
            return row
    return None


def _gutter(rows: list[list[Word]], width: float) -> float | None:
    """The x of a column gutter: a strip in the middle third that almost no row crosses."""
    if len(rows) < 6:
        return None
    # words of one row do not overlap, so words crossing x = rows crossing x: a difference array
    steps = int(width * 2) + 2
    diff = [0] * (steps + 1)
    for r in rows:
        for w in r:
            diff[min(steps, max(0, int(w.x0 * 2) + 1))] += 1
            diff[min(steps, max(0, int(w.x1 * 2)))] -= 1
    counts, running = [], 0
    for i in range(steps):
        running += diff[i]
        counts.append(running)
    lo, hi = int(width * 0.6), int(width * 1.4)
    crossing = min(counts[lo:hi])
    first = counts.index(crossing, lo, hi)
    last = first
    while last + 1 < hi and counts[last + 1] == crossing:
        last += 1
    best = (first + last) / 4  # the middle of the emptiest strip (half-points → points)
    left = sum(1 for r in rows if any(w.x1 <= best for w in r))
    right = sum(1 for r in rows if any(w.x0 >= best for w in r))
    if crossing > 0.15 * len(rows) or min(left, right) < 0.3 * len(rows):
        return None
    return best


def _spans(group: list[Word], gutter: float) -> bool:
    """A row across the gutter: a word crosses it, or the words either side of it are one word space
    apart (a centred title line), not a column gap."""
    if any(w.x0 < gutter < w.x1 for w in group):
        return True
    left_end = max((w.x1 for w in group if w.x1 <= gutter), default=None)
    right_start = min((w.x0 for w in group if w.x0 >= gutter), default=None)
    size = max(w.size for w in group)
    return left_end is not None and right_start is not None and right_start - left_end < 0.6 * size


def _split_columns(page_no: int, words: list[Word], width: float) -> list[Row]:
    """Rows in reading order: full-width rows in place, the left then the right column between them.

    Rows are grouped again inside each column: the two columns' baselines need not line up, and a
    marker must find its row in its own column."""
    groups = _rows(words)
    gutter = _gutter(groups, width)
    if gutter is None:
        return [Row(page_no, g).finish() for g in groups]
    full = [g for g in groups if _spans(g, gutter)]
    spanning = {id(w) for g in full for w in g}
    rest = [w for w in words if id(w) not in spanning]
    for w in rest:
        w.sup = False
    rows = [Row(page_no, g).finish() for g in full]
    tops = sorted(r.top for r in rows)
    for column, part in ((1, [w for w in rest if w.x1 <= gutter]), (2, [w for w in rest if w.x1 > gutter])):
        rows += [Row(page_no, g, column=column).finish() for g in _rows(part)]

    def order(r: Row) -> tuple[int, int, float]:
        band = sum(1 for t in tops if t < r.top - 0.5) if r.column else sum(1 for t in tops if t < r.top)
        return (band, r.column if r.column else 3, r.top)

    return sorted(rows, key=order)


def _furniture_key(row: Row) -> str:
    """The row's text without digits or spaces: "SOULEIMANOV: UNLIKELY ALLIANCES 8" recurs as itself,
    whether or not the page number stands in the same row."""
    return re.sub(r"[\d\s]+", "", row.text.lower())


def _mark_furniture(pages: list[list[Row]], heights: list[float]) -> None:
    """Running heads and footers: edge rows recurring at the same height; lone page numbers there."""
    seen: dict[str, list[tuple[int, float]]] = {}
    edges: list[list[Row]] = []
    for i, rows in enumerate(pages):
        by_y = sorted(rows, key=lambda r: r.top)
        cand = [r for r in by_y[:4] + by_y[-4:] if r.top < 0.12 * heights[i] or r.bottom > 0.88 * heights[i]]
        edges.append(cand)
        for r in cand:
            seen.setdefault(_furniture_key(r), []).append((i, r.top))
    for i, cand in enumerate(edges):
        for r in cand:
            key = _furniture_key(r)
            others = [p for p, top in seen[key] if p != i and abs(top - r.top) <= 6]
            if _PAGE_NUMBER.match(r.text.strip()) or (key and len(set(others)) >= 1):
                r.kind = "furniture"


def body_size(pages: list[list[Row]]) -> float:
    sizes: Counter[float] = Counter()
    for rows in pages:
        for r in rows:
            if r.kind != "furniture":
                sizes[r.size] += sum(len(w.text) for w in r.words)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def _mark_notes(rows: list[Row], size: float) -> None:
    """The footnote area: the smaller-set rows at the foot of each column, up to the body text."""
    for column in {r.column for r in rows}:
        col = [r for r in rows if r.column == column and r.kind == "body"]
        col.sort(key=lambda r: r.top)
        tail: list[Row] = []
        for r in reversed(col):
            if r.size > 0.92 * size:
                break
            tail.append(r)
        if not tail:
            continue
        first = tail[-1]
        above = [r for r in col if r.bottom <= first.top and r.size > 0.92 * size]
        if not above:
            continue  # a page set entirely small (an appendix, a reference list): body text
        for r in tail:
            r.kind = "note"


def layout_pages(pdf: Any) -> tuple[list[list[Row]], float]:
    """Every page's rows in reading order, each marked body, note or furniture; and the body size."""
    pages: list[list[Row]] = []
    heights: list[float] = []
    for number, page in enumerate(pdf.pages, start=1):
        pages.append(_split_columns(number, page_words(page), float(page.width)))
        heights.append(float(page.height))
    _mark_furniture(pages, heights)
    size = body_size(pages)
    for rows in pages:
        _mark_notes(rows, size)
    return pages, size
