"""Raw document text → :class:`~caucasus_qa.schema.ParsedDocument` (body paragraphs, sections, footnotes).

Steps: clean (mojibake, Unicode) → split into blocks (blank-line separated, or one block per line for
files without blank lines) → classify each block (heading, footnote entry, page separator, chrome,
text) → walk the blocks in order, sending text either to the open body paragraph (a sentence broken
by a page, a blank line, a caption or an interleaved footnote block), to the last footnote entry (an
entry continued on a later line or page), or to a new paragraph → unwrap markdown, remove footnote
markers (recording where they stood), and lay the paragraphs out in ``text`` with exact spans.

Dropped, never body text: the title/author/date/label lines at the top (the record holds them),
licence and copyright blocks, ``How to cite`` lines, correspondence lines, page separators, and the
site chrome that ends scraped pages (``Author`` / ``Read more`` / ``Be the first to comment`` /
``Leave a Reply`` ... and everything after it).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from .catalog import CatalogRecord, infer_record
from .clean import clean_text, continues, dehyphenate, is_open, join_fragments, unwrap_markdown
from .footnotes import (
    NOTES_HEADING,
    clean_note_text,
    extract_markers,
    match_endnote_item,
    match_entry,
    resolve_ibid,
    strip_markers,
    to_sentinels,
)
from .schema import DocumentRecord, Footnote, Paragraph, ParsedDocument

__all__ = ["parse_document"]

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
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
_CAPTION_CREDIT = re.compile(
    r"\((?:[^()]*\b(?:via|photo|credit|courtesy|source|image|wikimedia|wikicommons|getty|reuters|ap)\b[^()]*)\)\s*$",
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
_URL_END = re.compile(r"(?:https?://|www\.)\S+>?$")
_CITATION_START = frozenset("\"“‘'ABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass
class _Block:
    kind: str  # "heading", "note", "sep", "text"
    text: str
    level: int = 0
    number: int | None = None


@dataclass
class _Para:
    section: tuple[str, ...]
    fragments: list[str] = field(default_factory=list)

    def text(self, vocabulary: set[str]) -> str:
        out = self.fragments[0]
        for frag in self.fragments[1:]:
            out = join_fragments(out, frag, vocabulary)
        return out


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


def _blank_mode(text: str) -> bool:
    """True when paragraphs are separated by blank lines (single newlines are then soft wraps)."""
    lines = text.split("\n")
    nonblank = sum(1 for ln in lines if ln.strip())
    return nonblank > 0 and (len(lines) - nonblank) >= 0.2 * nonblank


def _split_blocks(text: str, blank_mode: bool) -> list[_Block]:
    lines = text.split("\n")
    blocks: list[_Block] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            blocks.append(_Block("text", "\n".join(buf)))
            buf.clear()

    for raw in lines:
        line = raw.strip()
        if not line:
            flush()
            continue
        md = _MD_HEADING.match(line)
        entry = match_entry(line)
        if md:
            flush()
            blocks.append(_Block("heading", unwrap_markdown(md.group(2)).strip(), level=len(md.group(1))))
        elif _SEPARATOR.match(line):
            flush()
            blocks.append(_Block("sep", line))
        elif entry:
            flush()
            blocks.append(_Block("note", entry[1], number=entry[0]))
        elif not blank_mode or line.startswith(("- ", "* ", "• ")):
            flush()
            buf.append(line)
            if not blank_mode:
                flush()
        else:
            buf.append(line)
    flush()
    return blocks


def _drop_chrome(blocks: list[_Block]) -> list[_Block]:
    """Remove licence/copyright/correspondence blocks and cut the site chrome that ends scraped pages."""
    kept = [b for b in blocks if not (b.kind == "text" and _CHROME_BLOCK.match(unwrap_markdown(b.text)))]
    for i, b in enumerate(kept):
        if i >= len(kept) // 2 and b.kind in ("text", "heading") and _TAIL_CHROME.match(b.text.strip()):
            return kept[:i]
    return kept


def _drop_front_matter(blocks: list[_Block], record: DocumentRecord) -> list[_Block]:
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


def _classify_headings(blocks: list[_Block]) -> None:
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


def _looks_like_reference(text: str) -> bool:
    return bool(re.search(r"https?://|www\.|<http", text))


# "Ilya Roubanis, “Old enemies make new friends: …,” Foreign Policy Centre," — an author then a quoted title
_AUTHOR_TITLE_START = re.compile(r"^[A-Z][\w.'’\- ]{1,60}, [“\"]")


class _Walker:
    """Routes text blocks to body paragraphs or footnote entries."""

    def __init__(self, blank_mode: bool) -> None:
        self.blank_mode = blank_mode
        self.paras: list[_Para] = []
        self.current: _Para | None = None
        self.captions: list[str] = []
        self.notes: dict[int, list[str]] = {}
        self.last_note: int | None = None
        self.prev_role = ""
        self.section: tuple[str, ...] = ()
        self.heading_levels: list[int] = []
        self.in_endnotes = False

    def close(self) -> None:
        self.current = None
        for cap in self.captions:
            self.paras.append(_Para(self.section, [cap]))
        self.captions.clear()

    def heading(self, b: _Block) -> None:
        self.close()
        if NOTES_HEADING.match(b.text):
            self.in_endnotes = True
            return
        self.in_endnotes = False
        stack = list(zip(self.heading_levels, self.section, strict=True))
        stack = [(lvl, h) for lvl, h in stack if lvl < b.level]
        stack.append((b.level, b.text))
        self.heading_levels = [lvl for lvl, _ in stack]
        self.section = tuple(h for _, h in stack)
        self.prev_role = "heading"

    def note(self, number: int, text: str) -> None:
        self.notes[number] = [text]
        self.last_note = number
        self.prev_role = "note"

    def _note_continues(self, text: str, nxt: _Block | None) -> bool:
        if self.last_note is None:
            return False
        last = " ".join(self.notes[self.last_note])
        next_is_note = nxt is not None and nxt.kind == "note"
        if self.prev_role == "note" and (next_is_note or _looks_like_reference(text)):
            return True
        if (
            self.prev_role == "note"
            and _AUTHOR_TITLE_START.match(text)
            and nxt is not None
            and _looks_like_reference(nxt.text)
        ):
            return True  # a further citation of the same note, its URL on the next line
        starts_small = text[:1].islower() or text[:1].isdigit() or text.startswith("<")
        return next_is_note and is_open(last) and (starts_small or _looks_like_reference(text))

    def text(self, text: str, nxt: _Block | None, after_next: _Block | None) -> None:
        if self.in_endnotes:
            item = match_endnote_item(text.split("\n", 1)[0])
            if item and item[0] is not None:
                self.note(item[0], item[1] + ("\n" + text.split("\n", 1)[1] if "\n" in text else ""))
            elif self.last_note is not None:
                self.notes[self.last_note].append(item[1] if item else text)
            return
        if self._note_continues(text, nxt):
            assert self.last_note is not None
            self.notes[self.last_note].append(text)
            self.prev_role = "note"
            return
        cur = self.current
        if cur is not None:
            cur_text = strip_markers(cur.fragments[-1])
            if (
                self.blank_mode
                and is_open(cur_text)
                and _CAPTION_CREDIT.search(text)
                and len(text.split()) <= 30
            ):
                self.captions.append(text)  # an image caption set between two halves of a sentence
                return
            if self.blank_mode and continues(cur_text, text):
                cur.fragments.append(text)
                self.prev_role = "body"
                return
            if not self.blank_mode and text[:1].islower() and is_open(cur_text):
                cur.fragments.append(text)
                return
        self.close()
        self.current = _Para(self.section, [text])
        self.paras.append(self.current)
        self.prev_role = "body"


def _about_author(paras: list[_Para], record: DocumentRecord) -> None:
    """A closing author bio ("Ilya Roubanis Ilya Roubanis (PhD ...) is ...") gets its own section."""
    if not paras or not record.authors:
        return
    last = paras[-1]
    first = last.fragments[0]
    for name in record.authors:
        if first.startswith(f"{name} {name}"):
            last.fragments[0] = first[len(name) + 1 :]
        if last.fragments[0].startswith(name) and len(paras) > 1:
            last.section = ("About the author",)
            return


def parse_document(
    text: str,
    *,
    doc_id: str,
    path: str = "",
    record: DocumentRecord | None = None,
    content_hash: str = "",
) -> ParsedDocument:
    """Parse what :func:`caucasus_qa.loaders.read_text` returned (raw text; cleaned here)."""
    if record is None:
        record = infer_record(doc_id, text, path)
    elif isinstance(record, CatalogRecord):  # the fields its table leaves out come from the text
        record = record.over(infer_record(doc_id, text, record.path or path))
    cleaned = "\n".join(dehyphenate(line) for line in clean_text(text).split("\n"))
    vocabulary = {w.lower() for w in _WORD.findall(cleaned)}
    sentinel_text = "\n".join(
        ln if match_entry(ln.strip()) else to_sentinels(ln) for ln in cleaned.split("\n")
    )
    blank_mode = _blank_mode(sentinel_text)
    blocks = _split_blocks(sentinel_text, blank_mode)
    for b in blocks:
        if b.kind == "text" and "\n" in b.text and not b.text.lstrip().startswith(("- ", "* ")):
            parts = b.text.split("\n")
            joined = parts[0]
            for part in parts[1:]:
                joined = join_fragments(joined, part, vocabulary)
            b.text = joined
    blocks = _drop_chrome(blocks)
    blocks = _drop_front_matter(blocks, record)
    _classify_headings(blocks)

    walker = _Walker(blank_mode)
    seq = [b for b in blocks if b.kind != "sep"]
    for i, b in enumerate(seq):
        if b.kind == "heading":
            walker.heading(b)
        elif b.kind == "note":
            assert b.number is not None
            walker.note(b.number, b.text)
        else:
            nxt = seq[i + 1] if i + 1 < len(seq) else None
            after = seq[i + 2] if i + 2 < len(seq) else None
            walker.text(b.text, nxt, after)
    walker.close()
    _about_author(walker.paras, record)

    notes: dict[int, str] = {}
    for number, frags in walker.notes.items():
        joined = frags[0]
        for frag in frags[1:]:
            if _URL_END.search(joined) and frag[:1] in _CITATION_START:
                joined = f"{joined}; {frag}"  # a further citation in the same note
            else:
                joined = join_fragments(joined, frag, vocabulary)
        notes[number] = clean_note_text(joined)
    notes = resolve_ibid(notes)
    footnotes = {n: Footnote(n, t) for n, t in sorted(notes.items()) if t}

    paragraphs: list[Paragraph] = []
    pieces: list[str] = []
    offset = 0
    unresolved: set[int] = set()
    for para in walker.paras:
        raw = " ".join(unwrap_markdown(para.text(vocabulary)).split())
        body, numbers, marker_offsets = extract_markers(raw)
        body = body.strip()
        if not body:
            continue
        if pieces:
            offset += 2
        paragraphs.append(
            Paragraph(
                index=len(paragraphs),
                section=para.section,
                text=body,
                start=offset,
                end=offset + len(body),
                footnotes=numbers,
                marker_offsets=marker_offsets,
            )
        )
        unresolved.update(n for n in numbers if n not in footnotes)
        pieces.append(body)
        offset += len(body)
    if not content_hash:
        content_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if not record.path and path:
        record = DocumentRecord(**{**record.__dict__, "path": path})
    return ParsedDocument(
        record=record,
        text="\n\n".join(pieces),
        paragraphs=paragraphs,
        footnotes=footnotes,
        content_hash=content_hash,
        unresolved_markers=sorted(unresolved),
    )
