"""Text blocks of a document: split on blank lines (or lines), classified (heading, note, separator,
text), site chrome and front matter dropped, plain-text headings recognised. Used by parse.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .clean import continues, unwrap_markdown
from .footnotes import NOTES_HEADING, match_entry, strip_markers
from .schema import DocumentRecord

__all__ = [
    "MD_HEADING",
    "Block",
    "blank_mode",
    "classify_headings",
    "drop_chrome",
    "drop_front_matter",
    "split_blocks",
]

MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")  # a Markdown heading line: (hashes, text)
_SEPARATOR = re.compile(r"^(?:-{3,}|\*{3,}|_{3,}|\* \* \*)$")
_CHROME_BLOCK = re.compile(
    r"^(?:\**\s*correspondence\b|this is an open access article|©|\(c\)\s|copyright\b|\**how to cite\b"
    r"|\[?[\w.+-]+@[\w-]+\.[\w.]+\]?(?:\(mailto:[^)]*\))?$)",
    re.IGNORECASE,
)
_TAIL_CHROME = re.compile(
    r"^(?:authors?|about the authors?|read more|be the first to comment|leave a reply|leave a comment"
    r"|related (?:articles|posts)|share this(?: article)?|explore more\b.*|this site uses akismet\b.*)$",
    re.IGNORECASE,
)
_DATE_LINE = re.compile(
    r"^(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r"\s+\d{1,2},?\s+\d{4}$|^\d{4}-\d\d-\d\d$"
)


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


_SMALL_WORDS = _words(
    "a an the of to in on at by for from with and or nor but as vs via into over after before between &"
)
_WORD = re.compile(r"[\w'’-]+")


@dataclass
class Block:
    kind: str  # "heading", "note", "sep", "text"
    text: str
    level: int = 0
    number: int | None = None


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", unwrap_markdown(s).lower())


def _is_heading_text(text: str) -> bool:
    """Short, capitalised, no final punctuation, no markers: ALL CAPS or Title Case."""
    if "\n" in text or len(text) > 100 or strip_markers(text) != text:
        return False
    words = text.split()
    if not 1 <= len(words) <= 12 or not (text[0].isupper() or text[0].isdigit()):
        return False
    if text.rstrip()[-1] in '.,;:!?)"”’' or text.startswith(("-", "*", "•", "(")):
        return False
    letters = [c for c in text if c.isalpha()]
    if letters and all(c.isupper() for c in letters) and len(letters) > 2:
        return True
    content = [w for w in _WORD.findall(text) if w.lower() not in _SMALL_WORDS and w[0].isalpha()]
    lower = [w for w in content if w[0].islower()]
    return bool(content) and len(lower) <= max(0, len(content) // 4)


def blank_mode(text: str) -> bool:
    """True when paragraphs are separated by blank lines (single newlines are then soft wraps)."""
    lines = text.split("\n")
    nonblank = sum(1 for ln in lines if ln.strip())
    return nonblank > 0 and (len(lines) - nonblank) >= 0.2 * nonblank


def split_blocks(text: str, blank_mode: bool) -> list[Block]:
    lines = text.split("\n")
    blocks: list[Block] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            blocks.append(Block("text", "\n".join(buf)))
            buf.clear()

    for raw in lines:
        line = raw.strip()
        if not line:
            flush()
            continue
        md = MD_HEADING.match(line)
        entry = match_entry(line)
        if md:
            flush()
            blocks.append(Block("heading", unwrap_markdown(md.group(2)).strip(), level=len(md.group(1))))
        elif _SEPARATOR.match(line):
            flush()
            blocks.append(Block("sep", line))
        elif entry:
            flush()
            blocks.append(Block("note", entry[1], number=entry[0]))
        elif not blank_mode or line.startswith(("- ", "* ", "• ")):
            flush()
            buf.append(line)
            if not blank_mode:
                flush()
        else:
            buf.append(line)
    flush()
    return blocks


def drop_chrome(blocks: list[Block]) -> list[Block]:
    """Remove licence/copyright/correspondence blocks and cut the site chrome that ends scraped pages."""
    kept = [b for b in blocks if not (b.kind == "text" and _CHROME_BLOCK.match(unwrap_markdown(b.text)))]
    for i, b in enumerate(kept):
        if i >= len(kept) // 2 and b.kind in ("text", "heading") and _TAIL_CHROME.match(b.text.strip()):
            return kept[:i]
    return kept


def drop_front_matter(blocks: list[Block], record: DocumentRecord) -> list[Block]:
    """Title, author, date and label lines before the body; the record already holds them.

    The metadata lines are those among the first few blocks that match the record's title or an
    author, a ``BY ...`` line, a date line, or a markdown ``#`` title; short label lines before the last
    of them ("Feature Article", "A blog of the Kennan Institute") go too.
    """
    title = _norm(record.title)
    authors = {_norm(a) for a in record.authors}
    meta: set[int] = set()
    for i, b in enumerate(blocks[:8]):
        plain = unwrap_markdown(b.text).strip()
        key = _norm(plain)
        if (b.kind == "heading" and b.level == 1) or (
            b.kind == "text"
            and (
                (title and key == title)
                or (key and key in authors)
                or re.match(r"^by\s+[A-Z]", plain, re.IGNORECASE)
                or _DATE_LINE.match(plain)
            )
        ):
            meta.add(i)
    if not meta:
        return blocks
    last = max(meta)
    return [
        b
        for i, b in enumerate(blocks)
        if not (i in meta or (i < last and b.kind == "text" and len(b.text.split()) <= 8))
    ]


def classify_headings(blocks: list[Block]) -> None:
    """Plain-text headings: heading-like text blocks followed by body text."""
    for i, b in enumerate(blocks):
        if b.kind != "text" or not _is_heading_text(b.text):
            continue
        nxt = next((n for n in blocks[i + 1 :] if n.kind != "sep"), None)
        if nxt is None or nxt.kind == "note":
            continue
        if nxt.kind == "text" and _is_heading_text(nxt.text) and not NOTES_HEADING.match(b.text):
            continue  # two short title-like lines in a row: labels or captions, not a heading
        prev = next((p for p in reversed(blocks[:i]) if p.kind == "text"), None)
        if prev is not None and continues(strip_markers(prev.text), b.text, min_words=10**9):
            continue
        b.kind, b.level = "heading", 2
