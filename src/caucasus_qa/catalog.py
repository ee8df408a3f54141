"""Bibliographic records: ``corpus/catalog.toml`` first, inference from the text for anything else.

The catalog is a TOML file in the corpus directory with one table per document, keyed by the file stem::

    [docs."005_my_report"]
    title = "My Report"
    authors = ["A. Author", "B. Author"]
    venue = "Some Journal"
    date = "2024-05-30"        # ISO date, or just the year
    kind = "journal-article"   # journal-article, blog-post, opinion, feature-article, ...
    url = "https://example.org/report"
    affiliation = "Professor of Political Science, Some University"

A user who adds a file to the corpus may add such a table: every field given there overrides what
:func:`infer_record` would guess from the text (fields left out are still inferred).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from .blocks import MD_HEADING
from .errors import DocumentError
from .schema import DocumentRecord

__all__ = ["CatalogRecord", "find_url", "infer_record", "load_catalog", "merge_record"]

_R = TypeVar("_R", bound=DocumentRecord)
_FIELDS = {f.name for f in fields(DocumentRecord)} - {"doc_id", "path"}
_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_DATE_LINE = re.compile(
    rf"^(?:(?:Published|Posted|Date)[:\s]+)?(?:(?P<month>{_MONTHS})\.?\s+(?P<day>\d{{1,2}}),?\s+(?P<year>(?:19|20)\d\d)"
    rf"|(?P<iso>(?:19|20)\d\d-\d\d-\d\d))\s*$",
    re.IGNORECASE,
)
_BY_LINE = re.compile(r"^(?:by|BY|By)\s+(?P<names>.+)$")
_NAME = re.compile(r"^[A-Z][\w.'’-]*(?:\s+(?:[A-Z][\w.'’-]*|\([^)]*\)|de|van|von|al-?|bin))+$")
_MD_MARKUP = re.compile(r"\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)")
_URL = re.compile(r"https?://[^\s<>)\]]+|www\.[a-z0-9-]+(?:\.[a-z0-9-]+)+[^\s<>)\]]*", re.IGNORECASE)
_DOI = re.compile(r"https?://(?:dx\.)?doi\.org/[^\s<>)\]]+", re.IGNORECASE)
# An affiliation or author bio just under the author line ("Ph.D. candidate in political science,
# Mouloud Mammeri University of Tizi Ouzou"; "Dr. X is a professor of ... in the Institute of ...").
_AFFILIATION = re.compile(
    r"\b(?:universit\w*|institut\w*|college|faculty|department|school of|academy|cent(?:re|er) for"
    r"|professor|lecturer|fellow|researcher|candidate|scholar)\b",
    re.IGNORECASE,
)
_MAX_AFFILIATION_CHARS = 300  # longer is a body paragraph that happens to name a university
_HEAD_CHARS = 4_000  # the record is read off the opening lines: cleaning the whole text is wasted work
_MONTH_NUM = {m.lower()[:3]: i for i, m in enumerate(_MONTHS.split("|")[:12], start=1)}


def _strip_md(line: str) -> str:
    return _MD_MARKUP.sub("", line).strip()


def _split_names(names: str) -> tuple[str, ...]:
    parts = re.split(r"\s*(?:,|;|\band\b|&)\s*", names.strip())
    return tuple(p.strip() for p in parts if p.strip())


def _title_case_name(name: str) -> str:
    """``VLADIMIR (ZE'EV) KHANIN`` → ``Vladimir (Ze'ev) Khanin``; mixed-case names are kept."""

    def fix(word: str) -> str:
        if not (word.isupper() and len(word) > 1):
            return word
        low = word.lower()
        i = next((k for k, c in enumerate(low) if c.isalpha()), 0)
        return low[:i] + low[i:].capitalize()

    return " ".join(fix(w) for w in name.split())


def _date(m: re.Match[str]) -> str:
    if m.group("iso"):
        return m.group("iso")
    month = _MONTH_NUM[m.group("month").lower()[:3]]
    return f"{m.group('year')}-{month:02d}-{int(m.group('day')):02d}"


def find_url(text: str) -> str:
    """The document's own address: a DOI link, else the site named in a copyright line."""
    doi = _DOI.search(text)
    if doi:
        return doi.group().rstrip(".,;>")
    for line in text.splitlines():
        if line.lstrip().startswith(("©", "Copyright")):
            site = _URL.search(line)
            if site:
                url = site.group().rstrip(".,;>")
                return url if url.startswith("http") else f"https://{url}"
    return ""


@dataclass(frozen=True)
class CatalogRecord(DocumentRecord):
    """A catalog table's record, knowing which fields the table gives (``given``): parsing takes the
    others from the text (:func:`merge_record` over :func:`infer_record`)."""

    given: tuple[str, ...] = ()

    def over(self, inferred: DocumentRecord) -> DocumentRecord:
        """``inferred`` with the fields this table gives replaced by the table's values."""
        return merge_record(inferred, {k: getattr(self, k) for k in self.given})


def infer_record(doc_id: str, text: str, path: str = "") -> DocumentRecord:
    """Title, authors and date guessed from the first lines of ``text`` (raw or cleaned).

    Title: the first markdown ``#`` heading, else the first short title-like line. Authors: a
    ``BY ...`` line, or a name-like line (or bold ``**Name**``) just under the title. Date: a date line
    among the first lines.
    """
    from .clean import clean_text, dehyphenate  # local: clean imports ftfy, keep catalog light
    from .pages import strip_pages

    head_text = (
        text if len(text) <= _HEAD_CHARS else text[: text.rfind("\n", 0, _HEAD_CHARS) + 1 or _HEAD_CHARS]
    )
    lines = [ln.strip() for ln in dehyphenate(clean_text(strip_pages(head_text))).split("\n")]
    head = [ln for ln in lines if ln][:12]
    title, date = "", ""
    authors: tuple[str, ...] = ()
    title_at = -1
    for i, line in enumerate(head):
        m = MD_HEADING.match(line)
        if m:
            title, title_at = _strip_md(m.group(2)), i
            break
    if not title:
        for i, line in enumerate(head):
            plain = _strip_md(line)
            if _BY_LINE.match(plain) or _DATE_LINE.match(plain) or len(plain) > 160 or len(plain) < 8:
                continue
            if plain.endswith((".", ",", ";")) and not plain.endswith("?"):
                continue
            if len(plain.split()) < 3:
                continue  # labels like "Feature Article"
            title, title_at = plain, i
            break
    for i, line in enumerate(head):
        plain = _strip_md(line)
        by = _BY_LINE.match(plain)
        if by and not authors:
            authors = tuple(_title_case_name(n) for n in _split_names(by.group("names")))
        dm = _DATE_LINE.match(plain)
        if dm and not date:
            date = _date(dm)
        near_title = title_at >= 0 and title_at < i <= title_at + 2
        names = _split_names(plain)
        if (
            not authors
            and near_title
            and plain != title
            and names
            and all(_NAME.match(n) and len(n.split()) <= 5 for n in names)
        ):
            authors = names
    if not title:
        title = doc_id
    return DocumentRecord(
        doc_id=doc_id,
        title=title,
        authors=authors,
        date=date,
        url=find_url(text),
        path=path,
        affiliation=_affiliation(lines, authors),
    )


def _affiliation(lines: list[str], authors: tuple[str, ...]) -> str:
    """The short block (lines up to a blank one, joined: PDF text breaks them) right after the
    block that names an author, when it reads like an affiliation; else ``""``."""
    blocks: list[str] = []
    current: list[str] = []
    for line in [*lines[:60], ""]:
        if line:
            current.append(_strip_md(line))
        elif current:
            blocks.append(" ".join(current))
            current = []
    surnames = [a.split()[-1].lower() for a in authors if a.split()]
    for i, block in enumerate(blocks[:12]):
        if surnames and any(s in block.lower() for s in surnames) and len(block) <= 120:
            for nxt in blocks[i + 1 : i + 3]:
                if len(nxt) <= _MAX_AFFILIATION_CHARS and _AFFILIATION.search(nxt):
                    return nxt
            return ""
    return ""


def merge_record(inferred: _R, entry: dict[str, Any]) -> _R:
    """``inferred`` with every field the catalog entry gives replaced by the entry's value."""
    values: dict[str, Any] = {}
    for key, value in entry.items():
        if key not in _FIELDS:
            continue
        values[key] = tuple(value) if key == "authors" else str(value)
    return replace(inferred, **values)


def load_catalog(corpus_dir: Path, filename: str = "catalog.toml") -> dict[str, CatalogRecord]:
    """Records from ``corpus_dir/filename`` keyed by doc_id; an empty dict when there is no catalog.

    A field a table leaves out is empty here; :func:`caucasus_qa.parse.parse_document` fills it from
    the text."""
    path = Path(corpus_dir) / filename
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DocumentError(path, f"invalid catalog: {exc}".splitlines()[0]) from None
    docs = data.get("docs", {})
    if not isinstance(docs, dict):
        raise DocumentError(path, "invalid catalog: [docs] must be a table of tables")
    records: dict[str, CatalogRecord] = {}
    for doc_id, entry in docs.items():
        if not isinstance(entry, dict):
            raise DocumentError(path, f"invalid catalog: docs.{doc_id!r} is not a table")
        unknown = set(entry) - _FIELDS
        if unknown:
            raise DocumentError(
                path, f"invalid catalog: docs.{doc_id!r} has unknown field(s) {sorted(unknown)}"
            )
        authors = entry.get("authors", [])
        if isinstance(authors, str) or not all(isinstance(a, str) for a in authors):
            raise DocumentError(path, f"invalid catalog: docs.{doc_id!r}.authors must be a list of strings")
        found = sorted(q for q in Path(corpus_dir).glob(f"{doc_id}.*") if q.name != filename)
        base = CatalogRecord(
            doc_id=doc_id,
            title=str(entry.get("title", "")),
            path=str(found[0]) if found else "",
            given=tuple(sorted(entry)),
        )
        records[doc_id] = merge_record(base, entry)
    return records
