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
from dataclasses import dataclass, field, replace
from typing import Any

from .blocks import Block, blank_mode, classify_headings, drop_chrome, drop_front_matter, split_blocks
from .catalog import CatalogRecord, infer_record, merge_record
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
from .pages import extract_pages
from .schema import DocumentRecord, Footnote, Paragraph, ParsedDocument

__all__ = ["parse_document"]

_CAPTION_CREDIT = re.compile(
    r"\((?:[^()]*\b(?:via|photo|credit|courtesy|source|image|wikimedia|wikicommons|getty|reuters|ap)\b[^()]*)\)\s*$",
    re.IGNORECASE,
)

_WORD = re.compile(r"[\w'’-]+")
_URL_END = re.compile(r"(?:https?://|www\.)\S+>?$")
_CITATION_START = frozenset("\"“‘'ABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass
class _Para:
    section: tuple[str, ...]
    fragments: list[str] = field(default_factory=list)

    def text(self, vocabulary: set[str]) -> str:
        out = self.fragments[0]
        for frag in self.fragments[1:]:
            out = join_fragments(out, frag, vocabulary)
        return out


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

    def heading(self, b: Block) -> None:
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

    def _note_continues(self, text: str, nxt: Block | None) -> bool:
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

    def text(self, text: str, nxt: Block | None, after_next: Block | None) -> None:
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
    meta: dict[str, Any] | None = None,
) -> ParsedDocument:
    """Parse what :func:`caucasus_qa.loaders.load_document` returned (raw text; cleaned here).

    The record: what the file states (``meta``: a PDF's info dictionary or title page, a Word file's
    properties, a web page's metadata) over what is inferred from the text, and a catalog record
    over both."""
    if record is None or isinstance(record, CatalogRecord):
        inferred = infer_record(doc_id, text, (record.path if record else "") or path)
        if meta:
            inferred = merge_record(inferred, {k: v for k, v in meta.items() if v})
        # a catalog table's omitted fields come from the document
        record = record.over(inferred) if record is not None else inferred
    cleaned = "\n".join(dehyphenate(line) for line in clean_text(text).split("\n"))
    vocabulary = {w.lower() for w in _WORD.findall(cleaned)}
    sentinel_text = "\n".join(
        ln if match_entry(ln.strip()) else to_sentinels(ln) for ln in cleaned.split("\n")
    )
    blanks = blank_mode(sentinel_text)
    blocks = split_blocks(sentinel_text, blanks)
    for b in blocks:
        if b.kind == "text" and "\n" in b.text and not b.text.lstrip().startswith(("- ", "* ")):
            parts = b.text.split("\n")
            joined = parts[0]
            for part in parts[1:]:
                joined = join_fragments(joined, part, vocabulary)
            b.text = joined
    blocks = drop_chrome(blocks)
    blocks = drop_front_matter(blocks, record)
    classify_headings(blocks)

    walker = _Walker(blanks)
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
    page = 0  # the page the text has reached (0: no page marks so far, or none at all)
    for para in walker.paras:
        raw = " ".join(unwrap_markdown(para.text(vocabulary)).split())
        body, numbers, marker_offsets = extract_markers(raw)
        body, breaks, marker_offsets = extract_pages(body.strip(), marker_offsets)
        if not body.strip():
            continue
        if breaks and breaks[0][0] > 0 and page:
            breaks = ((0, page), *breaks)  # begins on the page the previous paragraph ended on
        elif not breaks and page:
            breaks = ((0, page),)
        page = breaks[-1][1] if breaks else page
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
                page_breaks=breaks,
            )
        )
        unresolved.update(n for n in numbers if n not in footnotes)
        pieces.append(body)
        offset += len(body)
    first = next((p.page_breaks[0][1] for p in paragraphs if p.page_breaks), 0)
    if first:  # paragraphs before the first page mark (front matter kept as text) are on its page
        paragraphs = [p if p.page_breaks else replace(p, page_breaks=((0, first),)) for p in paragraphs]
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
