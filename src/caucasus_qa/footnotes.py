"""Footnote markers and entries, in the three styles the corpus uses (and their obvious variants).

Markers in body text: ``<sup>12</sup>`` (markdown/HTML), ``⁽¹²⁾`` (superscript parentheses) and bare
Unicode superscript digits ``¹²``. They are first turned into private-use sentinels (``\\ue000 12
\\ue001``) so that line joining and markdown unwrapping cannot split them, then removed from the final
paragraph text by :func:`extract_markers`, which records where each stood.

Entries: a line starting with ``<sup>N</sup>`` or superscript digits, or, under an ``Endnotes`` /
``Notes`` heading, a list item ``- (N) text`` / ``(N) text`` / ``N. text``.

"Ibid." entries are resolved to the previous entry: the text becomes ``Ibid. (<previous entry>)`` so
that a reference shown next to a passage is useful on its own.
"""

from __future__ import annotations

import re

from .clean import unwrap_markdown

__all__ = [
    "NOTES_HEADING",
    "clean_note_text",
    "extract_markers",
    "match_endnote_item",
    "match_entry",
    "resolve_ibid",
    "strip_markers",
    "to_sentinels",
]

_SUP_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUP_TO_INT = str.maketrans(_SUP_DIGITS, "0123456789")
_OPEN, _CLOSE = "\ue000", "\ue001"
_SENTINEL = re.compile(f"{_OPEN}(\\d+){_CLOSE}")

_HTML_SUP = re.compile(r"<sup>\s*(\d{1,3})\s*</sup>", re.IGNORECASE)
_PAREN_SUP = re.compile(f"⁽([{_SUP_DIGITS}]{{1,3}})⁾")
_BARE_SUP = re.compile(f"(?<=[\\w.,;:!?\"”’')\\]])([{_SUP_DIGITS}]{{1,3}})(?![{_SUP_DIGITS}])")

_ENTRY_HTML = re.compile(r"^<sup>\s*(\d{1,3})\s*</sup>\s*(.*)$", re.IGNORECASE)
_ENTRY_SUP = re.compile(f"^([{_SUP_DIGITS}]{{1,3}})\\s+(\\S.*)$")
_ENDNOTE_ITEM = re.compile(r"^(?:[-*•]\s*)?(?:\((\d{1,3})\)|\[(\d{1,3})\]|(\d{1,3})\.)\s+(\S.*)$")
_BULLET = re.compile(r"^[-*•]\s+")

NOTES_HEADING = re.compile(r"^(?:end\s*notes|foot\s*notes|notes|references|sources)$", re.IGNORECASE)


def _sentinel(number: str) -> str:
    return f"{_OPEN}{int(number.translate(_SUP_TO_INT))}{_CLOSE}"


def to_sentinels(text: str) -> str:
    """Replace every footnote marker in ``text`` by a sentinel carrying its number."""
    text = _HTML_SUP.sub(lambda m: _sentinel(m.group(1)), text)
    text = _PAREN_SUP.sub(lambda m: _sentinel(m.group(1)), text)
    return _BARE_SUP.sub(lambda m: _sentinel(m.group(1)), text)


def strip_markers(text: str) -> str:
    """``text`` without sentinels (for tests of sentence ends and the like)."""
    return _SENTINEL.sub("", text)


def extract_markers(text: str) -> tuple[str, tuple[int, ...], tuple[tuple[int, int], ...]]:
    """Remove sentinels; return the clean text, the marker numbers in order and their offsets."""
    out: list[str] = []
    numbers: list[int] = []
    offsets: list[tuple[int, int]] = []
    length = 0
    pos = 0
    for m in _SENTINEL.finditer(text):
        piece = text[pos : m.start()]
        out.append(piece)
        length += len(piece)
        after = text[m.end() : m.end() + 1]
        if out and "".join(out[-1:]).endswith(" ") and (after in (" ", "") or after == _OPEN):
            out[-1] = out[-1][:-1]  # "with it. ⁽⁹⁾ This" → "with it. This"
            length -= 1
        numbers.append(int(m.group(1)))
        offsets.append((length, int(m.group(1))))
        pos = m.end()
    out.append(text[pos:])
    clean = "".join(out)
    stripped = clean.rstrip()
    if len(stripped) != len(clean):
        offsets = [(min(o, len(stripped)), n) for o, n in offsets]
    return stripped, tuple(numbers), tuple(offsets)


def match_entry(line: str) -> tuple[int, str] | None:
    """``(number, text)`` when ``line`` starts a footnote entry (``<sup>N</sup>`` or ``¹² ...``)."""
    m = _ENTRY_HTML.match(line) or _ENTRY_SUP.match(line)
    if not m:
        return None
    return int(m.group(1).translate(_SUP_TO_INT)), m.group(2)


def match_endnote_item(line: str) -> tuple[int | None, str] | None:
    """In an endnotes section: ``(N, text)`` for ``- (N) text``, ``(None, text)`` for a bare ``- text``."""
    m = _ENDNOTE_ITEM.match(line)
    if m:
        number = m.group(1) or m.group(2) or m.group(3)
        return int(number), m.group(4)
    b = _BULLET.match(line)
    if b:
        return None, line[b.end() :]
    return None


_URL_SPLIT_LINK = re.compile(r"<?https?://\S*-\s*\[[^\]]*\]\((https?://[^)\s]+)\)>?")
_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")
_ANGLE_URL = re.compile(r"\(?<((?:https?://|www\.)[^>\s]+)>\)?")
_LONE_ANGLE = re.compile(r"<(?=https?://)")


def clean_note_text(text: str) -> str:
    """Markdown out of an entry: links to their URL or text, ``<url>`` to the URL, emphasis unwrapped."""
    text = _URL_SPLIT_LINK.sub(lambda m: m.group(1), text)  # "<https://www.reu- [ters.com/…](https://…)"
    text = _LINK.sub(
        lambda m: m.group(2) if m.group(2).startswith("http") and "/" in m.group(1) else m.group(1), text
    )
    text = _ANGLE_URL.sub(lambda m: m.group(1), text)
    text = _LONE_ANGLE.sub("", text)
    text = unwrap_markdown(text)
    return strip_markers(" ".join(text.split()))


def resolve_ibid(notes: dict[int, str]) -> dict[int, str]:
    """``Ibid.`` entries become ``Ibid. (<previous entry>)``; other entries are unchanged."""
    out: dict[int, str] = {}
    for number in sorted(notes):
        text = notes[number]
        m = re.fullmatch(r"ibid\.?(.*)", text.strip(), flags=re.IGNORECASE)
        prev = out.get(number - 1)
        if m and prev:
            base = prev[len("Ibid. (") : -1] if prev.startswith("Ibid. (") else prev
            text = f"Ibid.{m.group(1)} ({base})"
        out[number] = text
    return out
