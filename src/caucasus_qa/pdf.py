"""Read a PDF into the text route: markdown-like text with page marks, and the document's metadata.

:mod:`caucasus_qa.pdf_layout` says what each row is (body, footnote area, furniture); this module
reads the rows as a document: the title (the largest text on page 1) and the authors under it,
headings (larger or bold rows), paragraphs (a new one at an indent, an outdent, a wide gap, or after
a short row that ends a sentence), words hyphenated at a line end (rejoined only when the joined form
is a word), superscript markers (``<sup>N</sup>``) and the page-bottom footnotes, a note that runs
onto the next page included. The result is the text :func:`caucasus_qa.parse.parse_document` reads
for every format: ``# Title``, ``## Heading``, one paragraph per line, the notes as ``<sup>N</sup>
text`` lines at the end; each paragraph carries page marks (:mod:`caucasus_qa.pages`).
"""

from __future__ import annotations

import io
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import DocumentError
from .footnotes import NOTES_HEADING
from .pages import page_mark
from .pdf_layout import Row, Word, layout_pages

__all__ = ["read_pdf"]

_TRAILING_LETTERS = re.compile(r"[^\W\d_]+$")
_LEADING_LETTERS = re.compile(r"[^\W\d_]+")
_TERMINAL = re.compile(r"[.!?:;][\"'”’)\]]*$")
_LABEL = re.compile(r"^(?:\(?\d{1,3}[.)]|\[\d{1,3}\]|[•●▪–-])\s")
_NAME = re.compile(r"^[A-Z][\w.'’-]*(?:\s+(?:[A-Z][\w.'’-]*|de|van|von|al-?|bin|da|del))+$")
_DOI = re.compile(r"\b10\.\d{4,9}/[^\s\"<>]+[^\s\"<>.,;)]")
_BAD_TITLE = re.compile(
    r"^(?:untitled|microsoft word|document\d*|title|slide\s*\d*)\b|\.(?:docx?|pdf|tex|indd|rtf|odt)$",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r"\s+\d{1,2},?\s+(?:19|20)\d\d\b|\b(?:19|20)\d\d-\d\d-\d\d\b"
)
_COPYRIGHT_YEAR = re.compile(r"(?:©|\(c\)|copyright)\s*((?:19|20)\d\d)\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def _dictionary() -> frozenset[str]:
    """English words (pyspellchecker's frequency list, 160k words): a line-end hyphen is dropped only
    when stem + rest is one of them, or a word of the document itself."""
    from spellchecker import SpellChecker

    return frozenset(SpellChecker().word_frequency.dictionary)


def _letters(word: str) -> str:
    return "".join(c for c in word.lower() if c.isalpha())


def _join(left: str, right: str, vocabulary: set[str]) -> str:
    """Join two rows of one paragraph: a line-end hyphen goes only where the joined form is a word."""
    if not left or not right:
        return left + right
    if left.endswith("-") and len(left) > 1 and left[-2].isalpha():
        stem = _TRAILING_LETTERS.search(left[:-1])
        rest = _LEADING_LETTERS.match(right)
        if (
            stem
            and rest
            and (rest.group()[:1].islower() or (stem.group().isupper() and rest.group().isupper()))
        ):
            joined, tail = (stem.group() + rest.group()).lower(), rest.group().lower()
            words = _dictionary()
            if joined in vocabulary or joined in words or (tail not in words and tail not in vocabulary):
                return left[:-1] + right  # ex-istence, geostrate-gic ("gic" is no word)
        return left + right  # Baku-Tbilisi-Ceyhan, Russia-allied: a real hyphen at the line end
    if left[-1] in "–—/" and not left[-2:-1].isspace():
        return left + right  # 1992–94, and/or: no space after a dash or slash that ends a word
    return f"{left} {right}"


def _sup_numbers(text: str) -> list[int]:
    numbers: list[int] = []
    for part in text.rstrip(".,").split(","):
        a, _, b = part.replace("–", "-").partition("-")
        if a.isdigit() and b.isdigit() and int(a) < int(b) <= int(a) + 20:
            numbers.extend(range(int(a), int(b) + 1))
        elif a.isdigit():
            numbers.append(int(a))
    return numbers


def _row_text(words: list[Word]) -> str:
    """Words with superscript markers as ``<sup>N</sup>`` glued to the word before them."""
    out = ""
    for w in words:
        if w.sup:
            numbers = _sup_numbers(w.text)
            if numbers:
                out += "".join(f"<sup>{n}</sup>" for n in numbers)
            elif w.text.isalpha():
                out += w.text  # 20th, 1st
            continue
        out = f"{out} {w.text}" if out else w.text
    return out.strip()


def _mark_page(text: str, page: int) -> str:
    """``text`` with the page mark after its first word that has a letter (see pages.py)."""
    words = text.split(" ")
    for i, w in enumerate(words):
        if any(c.isalpha() for c in w):
            words[i] = w + page_mark(page)
            return " ".join(words)
    return text + page_mark(page)


class _Reader:
    def __init__(self, pages: list[list[Row]], size: float) -> None:
        self.pages, self.size = pages, size
        self.body = [r for rows in pages for r in rows if r.kind == "body"]
        # words the document spells whole ("Turkic-majority" does not make "turkicmajority" a word)
        self.vocabulary = {_letters(w.text) for r in self.body for w in r.words if "-" not in w.text}
        self.edges: dict[tuple[int, int], tuple[float, float]] = {}
        for key in {(r.page, r.column) for r in self.body}:
            rows = [r for r in self.body if (r.page, r.column) == key and r.size >= 0.9 * size]
            rows = rows or [r for r in self.body if (r.page, r.column) == key]
            lefts = sorted(round(r.x0) for r in rows)
            self.edges[key] = (lefts[len(lefts) // 10], max(r.x1 for r in rows))
        self.heading_sizes: list[float] = []
        self.skip: list[Row] = []

    def set_front(self, used: list[Row]) -> None:
        """Rows the title and authors took are no headings: the heading levels come from the rest."""
        self.skip = used
        rest = [r for r in self.body if r not in used and self._is_heading(r)]
        self.heading_sizes = sorted({r.size for r in rest}, reverse=True)

    def _is_heading(self, r: Row) -> bool:
        words = len(r.words)
        if words > 20 or r.size < 0.9 * self.size:
            return False
        left, right = self.edges[(r.page, r.column)]
        short = r.x1 - r.x0 < 0.85 * (right - left)
        return r.size >= 1.12 * self.size or (r.bold and short and not _TERMINAL.search(r.text))

    def front(self) -> tuple[str, list[str], list[Row]]:
        """Title (the largest rows near the top of the first page with text), author names under it,
        and the rows they took."""
        first = [r for r in self.body if r.page == self.body[0].page] if self.body else []
        top = first[:15]
        if not top:
            return "", [], []
        big = max(r.size for r in top)
        if big < 1.25 * self.size:
            return "", [], []
        start = next(i for i, r in enumerate(first) if r.size == big)
        used = [first[start]]
        for r in first[start + 1 :]:
            if r.size != big or r.top - used[-1].bottom > big:
                break
            used.append(r)
        title = " ".join(r.text for r in used)
        authors: list[str] = []
        after = first[start + len(used) : start + len(used) + 2]
        for r in after:
            names = [n.strip() for n in re.split(r"\s*(?:,|;|\band\b|&|\s{2,})\s*", _row_text(r.words)) if n]
            names = [re.sub(r"\d+$|[*†‡]+$", "", n).strip() for n in names]
            if names and all(_NAME.match(n) and len(n.split()) <= 5 for n in names):
                authors, used = names, [*used, r]
                break
            if len(r.words) > 10:
                break
        return title, authors, used

    def _starts_paragraph(self, prev: Row | None, r: Row) -> bool:
        if prev is None or self._is_heading(prev):
            return True
        left = self.edges[(r.page, r.column)][0]
        prev_right = self.edges[(prev.page, prev.column)][1]
        text = _row_text(r.words)
        ended = bool(_TERMINAL.search(_row_text(prev.words)))
        same_column = (r.page, r.column) == (prev.page, prev.column)
        indented = 0.8 * r.size < r.x0 - left < 6 * r.size and r.x0 > prev.x0 - 1
        hanging = bool(_LABEL.match(_row_text(prev.words)))  # the second row of a hanging list item
        if indented and not hanging and (not same_column or r.x0 > prev.x0 + 0.5 * r.size):
            return True  # first-line indent
        if same_column:
            if r.top - prev.bottom > 1.0 * r.size:
                return True  # a wide gap (block paragraphs)
            if r.x0 < prev.x0 - 0.5 * r.size and ended:
                return True  # an outdent: a hanging list item
        if ended and prev.x1 < prev_right - 2 * prev.size:
            return True  # a short last row that ends a sentence
        return bool(ended and _LABEL.match(text) and r.x0 <= left + 1)

    def body_lines(self) -> list[str]:
        """Headings and paragraphs in reading order, as the text route writes them."""
        out: list[str] = []
        para: list[Row] = []
        in_notes = False

        def flush() -> None:
            if not para:
                return
            text = ""
            for i, r in enumerate(para):
                piece = _row_text(r.words)
                if not in_notes and (i == 0 or r.page != para[i - 1].page):
                    piece = _mark_page(piece, r.page)
                text = _join(text, piece, self.vocabulary)
            out.append(("\\" + text) if text.startswith("#") else text)
            para.clear()

        prev: Row | None = None
        for r in self.body:
            if r in self.skip:
                continue
            if self._is_heading(r):
                flush()
                if prev is not None and self._is_heading(prev) and out and prev.size == r.size:
                    out[-1] = _join(out[-1], r.text, self.vocabulary)  # a heading set on two rows
                else:
                    level = (
                        2 + min(self.heading_sizes.index(r.size), 2) if r.size in self.heading_sizes else 2
                    )
                    out.append("#" * level + " " + r.text)
                in_notes = bool(NOTES_HEADING.match(out[-1].lstrip("# ").strip()))
                prev = r
                continue
            if self._starts_paragraph(prev, r):
                flush()
            para.append(r)
            prev = r
        flush()
        return out

    def notes(self) -> list[str]:
        """The footnote areas' notes in order, as ``<sup>N</sup> text`` lines; a note whose text runs on
        into the next column or page is continued there."""
        notes: dict[int, str] = {}
        last: int | None = None
        for rows in self.pages:
            for r in rows:
                if r.kind != "note":
                    continue
                first = r.words[0]
                number: int | None = None
                rest = r.words
                if first.sup and first.text.rstrip(".").isdigit():
                    number, rest = int(first.text.rstrip(".")), r.words[1:]
                elif first.text.rstrip(".").isdigit() and len(r.words) > 1:
                    n = int(first.text.rstrip("."))
                    if (last is None and n <= 3) or (last is not None and n == last + 1):
                        number, rest = n, r.words[1:]
                text = _row_text(rest)
                if number is not None and number not in notes:
                    notes[number], last = text, number
                elif last is not None:
                    notes[last] = _join(notes[last], text, self.vocabulary)
        return [f"<sup>{n}</sup> {t}" for n, t in notes.items()]


_MONTHS = [
    *("january", "february", "march", "april", "may", "june"),
    *("july", "august", "september", "october", "november", "december"),
]


def _iso(date: str) -> str:
    """``March 3, 2024`` → ``2024-03-03``; an ISO date as it is."""
    parts = date.replace(",", " ").split()
    if len(parts) == 3 and parts[0].lower() in _MONTHS:
        return f"{parts[2]}-{_MONTHS.index(parts[0].lower()) + 1:02d}-{int(parts[1]):02d}"
    return date


def _plausible(value: str, page_text: str, *, names: bool = False) -> bool:
    value = value.strip()
    if not value or _BAD_TITLE.search(value) or (not names and len(value.split()) < 2):
        return False
    words = [_letters(w) for w in value.split() if _letters(w)]
    found = sum(1 for w in words if w in page_text)
    return bool(words) and found >= 0.6 * len(words)


def _metadata(pdf: Any, path: Path, page_text: str) -> dict[str, Any]:
    """Title and author from the info dictionary, else XMP, when the first page bears them out."""
    info = {str(k): v for k, v in (pdf.metadata or {}).items()}
    title = str(info.get("Title") or "")
    author = str(info.get("Author") or "")
    date = str(info.get("CreationDate") or "")
    if not (title and author):
        try:
            from pypdf import PdfReader

            xmp = PdfReader(io.BytesIO(path.read_bytes())).xmp_metadata
            if xmp is not None:
                title = title or str((xmp.dc_title or {}).get("x-default", ""))
                author = author or "; ".join(xmp.dc_creator or [])
                date = date or str(xmp.xmp_create_date or "")
        except Exception:  # XMP is a nicety: a broken packet leaves the layout to decide
            pass
    low = " " + " ".join(_letters(w) for w in page_text.split()) + " "
    meta: dict[str, Any] = {}
    if _plausible(title, low):
        meta["title"] = " ".join(title.split())
    names = [n.strip() for n in re.split(r"\s*(?:;|,|\band\b|&)\s*", author) if n.strip()]
    if names and all(_NAME.match(n) and _plausible(n, low, names=True) for n in names):
        meta["authors"] = tuple(names)
    year = re.search(r"(?:19|20)\d\d", date)
    if year:
        meta["date"] = year.group()
    return meta


def read_pdf(path: Path) -> tuple[str, dict[str, Any]]:
    """The PDF's text for the parser (see the module docstring) and its metadata; DocumentError if it
    cannot be read, is encrypted, has no pages or no text layer."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfminer.psparser import PSException
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        with pdfplumber.open(path) as pdf:
            if not pdf.pages:
                raise DocumentError(path, "PDF has no pages")
            pages, size = layout_pages(pdf)
            page1 = " ".join(r.text for r in pages[0])
            meta = _metadata(pdf, path, page1)
    except DocumentError:
        raise
    except (PdfminerException, PDFPasswordIncorrect, PSException, ValueError, KeyError, TypeError) as exc:
        cause = exc.args[0] if isinstance(exc, PdfminerException) and exc.args else exc
        if isinstance(cause, PDFPasswordIncorrect) or "password" in str(cause).lower():
            raise DocumentError(path, "PDF is encrypted; save an unencrypted copy first") from None
        reason = f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
        raise DocumentError(path, f"unreadable PDF ({reason})".splitlines()[0]) from None
    reader = _Reader(pages, size)
    if not reader.body:
        raise DocumentError(path, "PDF has no text layer (scanned images?); OCR it first")
    title, authors, used = reader.front()
    reader.set_front(used)
    if title:
        meta.setdefault("title", title)
    if authors:
        meta.setdefault("authors", tuple(authors))
    lines = [f"# {meta['title']}"] if meta.get("title") else []
    if meta.get("authors"):
        lines.append(", ".join(meta["authors"]))
    lines += reader.body_lines() + reader.notes()
    first_page = " ".join(r.text for r in pages[0] if r.kind != "furniture")
    doi = _DOI.search(first_page) or _DOI.search(" ".join(str(v) for v in meta.values()))
    if doi:
        meta["url"] = f"https://doi.org/{doi.group()}"
    date = _DATE.search(first_page)
    year = _COPYRIGHT_YEAR.search(first_page)
    if date:
        meta["date"] = _iso(date.group())
    elif year:
        meta["date"] = year.group(1)
    return "\n\n".join(lines) + "\n", meta
