"""Public types that flow through the pipeline.

clean → parse → chunk → index → retrieve → answer → present.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class DocumentRecord:
    """Bibliographic record of one document (from the catalog, or inferred from its text)."""

    doc_id: str
    title: str
    authors: tuple[str, ...] = ()
    venue: str = ""
    date: str = ""  # ISO date or year, as precise as the source allows
    kind: str = ""  # journal-article, blog-post, opinion, feature-article, ...
    url: str = ""
    path: str = ""  # file the text came from
    affiliation: str = ""  # the author line's affiliation or bio, as the document words it

    def venue_acronym(self) -> str:
        """``Global Defense Corp`` → ``GDC`` (2 to 4 capitalised words, no comma); else ``""``."""
        parts = self.venue.split()
        if "," in self.venue or not 2 <= len(parts) <= 4 or not all(p[:1].isupper() for p in parts):
            return ""
        return "".join(p[0] for p in parts)

    def short_citation(self) -> str:
        """``Souleimanov, "Unlikely Alliances…", Middle East Policy (2024)``."""
        who = _surname(self.authors[0]) if self.authors else ""
        if len(self.authors) == 2:
            who += f" and {_surname(self.authors[1])}"
        elif len(self.authors) > 2:
            who += " et al."
        title = self.title
        if len(title) > 40:  # the main title (before a colon), else cut at a word, then an ellipsis
            title = title.split(":")[0].strip() if ":" in title[3:] else title
            if len(title) > 40:
                title = title[:40].rsplit(" ", 1)[0].rstrip(" :,;-")
            title += "…"
        parts = [p for p in (who, f"\u201c{title}\u201d" if title else "", self.venue) if p]
        text = ", ".join(parts)
        year = self.date[:4]
        return f"{text} ({year})" if year else text


def _surname(name: str) -> str:
    return name.split()[-1] if name.split() else name


@dataclass(frozen=True)
class Footnote:
    number: int
    text: str  # the bibliographic entry / note text, cleaned


@dataclass(frozen=True)
class Paragraph:
    """A body paragraph (or heading-free block) in reading order, footnote markers removed."""

    index: int  # position among the document's paragraphs
    section: tuple[str, ...]  # section path, outermost first; () before the first heading
    text: str
    start: int  # character span in ParsedDocument.text
    end: int
    footnotes: tuple[int, ...] = ()  # marker numbers cited in this paragraph, in order
    marker_offsets: tuple[tuple[int, int], ...] = ()  # (offset in text where the marker stood, number)
    page_breaks: tuple[tuple[int, int], ...] = ()  # (offset in text, page) where each page starts; () unpaged


@dataclass
class ParsedDocument:
    record: DocumentRecord
    text: str  # cleaned body text: paragraphs joined by blank lines
    paragraphs: list[Paragraph]
    footnotes: dict[int, Footnote]
    content_hash: str  # sha256 of the raw bytes
    unresolved_markers: list[int] = field(default_factory=list)  # markers with no entry

    @property
    def doc_id(self) -> str:
        return self.record.doc_id

    @property
    def resolved_marker_count(self) -> int:
        return sum(1 for p in self.paragraphs for n in p.footnotes if n in self.footnotes)


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    text: str
    section: str  # section path joined with " › "
    paragraph_index: int  # first paragraph the chunk comes from
    position: int  # chunk index within its document
    start: int  # character span in ParsedDocument.text
    end: int
    footnotes: tuple[int, ...] = ()
    references: tuple[str, ...] = ()  # entries of those footnotes, same order
    prev_id: str = ""
    next_id: str = ""
    markers: tuple[tuple[int, int], ...] = ()  # (offset in ``text`` where a footnote marker stood, number)
    pages: tuple[int, ...] = ()  # (first, last) page of a paged document's chunk; () for text files


@dataclass(frozen=True)
class Source:
    """One ranked passage returned to the user, with everything needed to cite it."""

    rank: int
    text: str
    doc_id: str
    title: str
    authors: list[str]
    section: str
    references: list[str]
    citation: str
    score: float
    chunk_id: str = ""
    venue: str = ""
    date: str = ""
    start: int = 0
    end: int = 0
    footnotes: list[int] = field(default_factory=list)
    highlights: list[tuple[int, int]] = field(default_factory=list)  # spans in ``text`` used by the answer
    markers: list[tuple[int, int]] = field(default_factory=list)  # (offset in ``text``, footnote number)
    pages: list[int] = field(default_factory=list)  # [first, last] page of a paged document; [] otherwise
    # the reranker's score of the passage (rerank.py); None when no reranker ran. ``score`` stays the
    # cosine between the question and the passage's best chunk.
    rerank_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    question: str
    answer: str
    abstained: bool
    sources: list[Source]
    query: str = ""  # the standalone query actually searched (differs for rewritten follow-ups)
    mode: str = "extractive"
    timings: dict[str, float] = field(default_factory=dict)
    # why the assistant abstained: each evidence floor the passages failed (empty when it answered)
    abstention_reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "query": self.query or self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "abstention_reasons": list(self.abstention_reasons),
            "mode": self.mode,
            "sources": [s.to_dict() for s in self.sources],
            "timings": dict(self.timings),
        }


@dataclass
class IngestReport:
    """What one ``ingest`` did. Document counts and chunk counts per outcome."""

    added_docs: int = 0
    updated_docs: int = 0
    unchanged_docs: int = 0
    removed_docs: int = 0
    added_chunks: int = 0
    removed_chunks: int = 0
    unchanged_chunks: int = 0
    embedded_chunks: int = 0
    seconds: float = 0.0
    footnotes_resolved: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # "skipped <file>: ..." for files it cannot read

    @property
    def changed(self) -> bool:
        return bool(self.added_docs or self.updated_docs or self.removed_docs)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
