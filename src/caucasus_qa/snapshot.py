"""One version of the index as questions read it: :class:`IndexSnapshot`.

A snapshot is made per manifest version (the assistant swaps its one reference when ``manifest.json``
changes on disk) and never changes afterwards: every stage of one question reads the same snapshot,
even while an ingest writes the next version. The parts that cost something to build (the BM25
index and the retriever over it, the term statistics, the name index, the stored sentence vectors)
are built on first use and kept with the snapshot, so they go when it goes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from .answer import FRONT_MATTER
from .candidates import SentenceVectors
from .embed import SentenceTransformerEmbedding
from .entities import Entity
from .lexicon import DocumentNames, Lexicon, which_document
from .manifest import Manifest
from .pages import page_label
from .retrieve import Hit, HybridRetriever
from .schema import DocumentRecord, Source
from .sentvec import SentenceLookup, SentenceStore, sentence_dir
from .settings import Settings
from .store import Store

__all__ = ["IndexSnapshot"]


@dataclass(frozen=True, eq=False)
class IndexSnapshot:
    """The manifest of one index version and everything questions read that is built over it.

    ``open_store`` and ``load_embedding`` give the assistant's Chroma store and embedding model
    (loaded on first use: listing documents needs neither).
    """

    settings: Settings
    manifest: Manifest
    open_store: Callable[[], Store]
    load_embedding: Callable[[], SentenceTransformerEmbedding]

    # -- parts built on first use ---------------------------------------------------------------
    @cached_property
    def retriever(self) -> HybridRetriever:
        """Dense + BM25 fusion over this version's chunks (the BM25 index is loaded with it)."""
        return HybridRetriever(
            self.settings,
            self.open_store(),
            self.load_embedding(),
            self.manifest,
            sentences=self.sentences.rows,
        )

    @cached_property
    def sentences(self) -> SentenceLookup:
        """Stored sentence vectors (see sentvec.py) of this version's chunks."""
        chunks = self.manifest.chunks

        def text_of(chunk_id: str) -> str | None:
            chunk = chunks.get(chunk_id)
            return chunk.text if chunk is not None else None

        return SentenceLookup(SentenceStore(sentence_dir(self.settings)), text_of)

    @cached_property
    def vectors(self) -> SentenceVectors:
        """Sentence vectors for the answer stage: the stored ones, the rest encoded and kept."""
        return SentenceVectors(self.load_embedding(), known=self.stored_sentences, spans=self.stored_spans)

    @cached_property
    def lexicon(self) -> Lexicon:
        """Document frequencies of the words of every chunk (IDF weights)."""
        return Lexicon.from_texts(c.text for c in self.manifest.chunks.values())

    @cached_property
    def names(self) -> DocumentNames:
        """Records by document id and their name index (a question looks them up several times;
        rebuilding them cost ~45 ms a question at 10,000 documents)."""
        return DocumentNames({k: e.record for k, e in self.manifest.docs.items()})

    @property
    def records(self) -> Mapping[str, DocumentRecord]:
        """The catalog record of every indexed document, by document id."""
        return self.names.records

    # -- reading the index ----------------------------------------------------------------------
    def stored_sentences(self, doc_id: str) -> dict[str, Any]:
        """Sentence text -> vector pooled at ingest, for ``doc_id``."""
        return self.sentences.for_doc(doc_id)

    def stored_spans(self, source: Source) -> list[tuple[int, int]] | None:
        """Sentence spans stored with those vectors, when ``source`` is one whole chunk."""
        return self.sentences.spans(source.doc_id, source.chunk_id, source.text)

    def source(self, rank: int, hit: Hit) -> Source:
        """A retrieved passage as the answer cites it: its record, citation and score."""
        c = hit.chunk
        entry = self.records.get(c.doc_id)
        record = entry or DocumentRecord(doc_id=c.doc_id, title=c.doc_id)
        citation = record.short_citation() + (f", § {c.section}" if c.section else "")
        if c.pages:
            citation += f", {page_label(c.pages)}"  # "p. 4" / "pp. 4–5" (paged documents only)
        return Source(
            rank=rank,
            text=c.text,
            doc_id=c.doc_id,
            title=record.title,
            authors=list(record.authors),
            section=c.section,
            references=list(c.references),
            citation=citation,
            score=round(hit.score, 4),
            chunk_id=c.chunk_id,
            venue=record.venue,
            date=record.date,
            start=c.start,
            end=c.end,
            footnotes=list(c.footnotes),
            markers=list(c.markers),
            pages=list(c.pages),
            rerank_score=None if hit.rerank_score is None else round(hit.rerank_score, 4),
        )

    def with_markers(self, source: Source) -> Source:
        """Footnote markers (and aligned references) of every indexed chunk the passage contains."""
        markers: list[tuple[int, int]] = []
        notes: dict[int, str] = {}
        for chunk in self.manifest.chunks_of(source.doc_id):
            at = source.text.find(chunk.text) if chunk.text else -1
            if at < 0:
                continue
            markers.extend((at + off, n) for off, n in chunk.markers)
            notes.update(zip(chunk.footnotes, chunk.references, strict=False))
        if not markers:
            return source
        numbers = list(dict.fromkeys(n for _, n in sorted(set(markers)) if n in notes))
        return replace(
            source,
            markers=sorted(set(markers)),
            footnotes=numbers,
            references=[notes[n] for n in numbers],
        )

    def entities(self, source: Source) -> list[Entity]:
        """Entity spans (found at ingest) of every indexed chunk the passage contains, in its text."""
        rows = self.sentences.rows(source.doc_id)
        out: set[Entity] = set()
        for chunk in self.manifest.chunks_of(source.doc_id):
            row = rows.get(chunk.chunk_id)
            if row is None or not row.entities:
                continue
            at = source.text.find(chunk.text) if chunk.text else -1
            if at >= 0:
                out.update((at + a, at + b, cls) for a, b, cls in row.entities)
        return sorted(out)

    def front_matter(self, question: str, sources: list[Source]) -> list[Source]:
        """For a metadata question: the document's opening chunk and author/acknowledgment sections
        take the places of the last passages (top_k is kept)."""
        doc_id = which_document(question, self.records, [s.doc_id for s in sources])
        if doc_id is None:
            return sources
        have = {s.chunk_id for s in sources}
        picked = [
            c
            for c in self.manifest.chunks_of(doc_id)
            if c.chunk_id not in have and (c.position == 0 or FRONT_MATTER.search(c.section))
        ][: min(2, len(sources) // 2)]
        kept = sources[: len(sources) - len(picked)]
        start = len(kept) + 1
        return kept + [self.with_markers(self.source(start + i, Hit(c, 0.0))) for i, c in enumerate(picked)]
