"""The one API that the CLI, the UI and the evaluation all use."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .answer import compose_answer
from .embed import SentenceTransformerEmbedding, build_embedding
from .errors import QuestionError
from .ingest import Ingestor
from .manifest import Manifest
from .model_info import model_info
from .retrieve import Hit, HybridRetriever
from .schema import Answer, DocumentRecord, IngestReport, Source
from .settings import Settings
from .store import Store

NOT_FOUND = "The corpus does not appear to answer this question."


@dataclass(frozen=True)
class DocumentInfo:
    record: DocumentRecord
    chunks: int
    footnotes_resolved: int
    footnote_entries: int
    path: str

    def to_dict(self) -> dict[str, Any]:
        r = self.record
        return {
            "doc_id": r.doc_id,
            "title": r.title,
            "authors": list(r.authors),
            "venue": r.venue,
            "date": r.date,
            "kind": r.kind,
            "url": r.url,
            "path": self.path,
            "chunks": self.chunks,
            "footnotes_resolved": self.footnotes_resolved,
            "footnote_entries": self.footnote_entries,
        }


class Assistant:
    """``Assistant(corpus_dir="corpus", store_dir=".caucasus_qa")``; any other setting as a keyword."""

    def __init__(
        self,
        corpus_dir: str | Path | None = None,
        store_dir: str | Path | None = None,
        settings: Settings | None = None,
        **overrides: Any,
    ) -> None:
        base = settings or Settings()
        updates = dict(overrides)
        if corpus_dir is not None:
            updates["corpus_dir"] = Path(corpus_dir)
        if store_dir is not None:
            updates["store_dir"] = Path(store_dir)
        self.settings = Settings.model_validate({**base.model_dump(), **updates})
        self._embedding: SentenceTransformerEmbedding | None = None
        self._store: Store | None = None
        self._dense: HybridRetriever | None = None  # dense + BM25 fusion
        self._manifest: tuple[int, Manifest] | None = None

    # -- lazily built parts -----------------------------------------------------------------
    @property
    def embedding(self) -> SentenceTransformerEmbedding:
        if self._embedding is None:
            s = self.settings
            self._embedding = build_embedding(
                s.model_path, s.model_name, s.device, s.embed_batch_size, s.embed_backend, s.store_dir
            )
        return self._embedding

    @property
    def store(self) -> Store:
        if self._store is None:
            info = model_info(self.settings)
            self._store = Store(self.settings, info.name, info.dimension)
        return self._store

    def _ingestor(self) -> Ingestor:
        return Ingestor(self.settings, lambda: self.store, lambda: self.embedding)

    # -- verbs ------------------------------------------------------------------------------
    def ingest(
        self, paths: Iterable[str | Path] = (), rebuild: bool = False, progress: bool = False
    ) -> IngestReport:
        report = self._ingestor().run([Path(p) for p in paths], rebuild=rebuild, progress=progress)
        if report.changed or rebuild:
            self._dense = None
        return report

    def remove(self, doc_id: str) -> IngestReport:
        report = self._ingestor().remove(doc_id)
        self._dense = None
        return report

    def manifest(self) -> Manifest:
        """The store's manifest, re-read only when another writer replaced it."""
        s = self.settings
        mtime = s.manifest_file.stat().st_mtime_ns if s.manifest_file.exists() else 0
        if self._manifest is None or self._manifest[0] != mtime:
            self._manifest = (mtime, Manifest.load(s.manifest_file, s.chunks_file))
        return self._manifest[1]

    def documents(self) -> list[DocumentInfo]:
        m = self.manifest()
        return [
            DocumentInfo(e.record, len(e.chunk_ids), e.footnotes_resolved, e.footnote_entries, e.path)
            for e in sorted(m.docs.values(), key=lambda e: e.doc_id)
        ]

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        docs: Sequence[str] | None = None,
        min_score: float | None = None,
    ) -> Answer:
        t0 = time.perf_counter()
        question = self._check_question(question)
        k = self._check_top_k(top_k)
        docs = self._check_docs(docs)
        self._ensure_index()
        hits = self._retrieve(question, k, docs)
        floor = self.settings.min_score if min_score is None else min_score
        hits = [h for h in hits if h.score >= floor]
        t_retrieve = time.perf_counter()
        sources = [self._source(rank, h) for rank, h in enumerate(hits, start=1)]
        composed = compose_answer(question, [(s.rank, s.text) for s in sources[:5]], self.embedding)
        abstained = not composed.used or composed.best_similarity < 0.3
        answer = NOT_FOUND if abstained else composed.text
        if not abstained:
            spans: dict[int, list[tuple[int, int]]] = {}
            for c in composed.used:
                spans.setdefault(c.source_rank, []).append((c.start, c.end))
            sources = [
                Source(**{**s.__dict__, "highlights": spans.get(s.rank, [])}) for s in sources
            ]
        t_end = time.perf_counter()
        return Answer(
            question=question,
            answer=answer,
            abstained=abstained,
            sources=sources,
            query=question,
            timings={"retrieve_s": t_retrieve - t0, "answer_s": t_end - t_retrieve, "total_s": t_end - t0},
        )

    def chat(
        self,
        messages: Sequence[dict[str, Any]],
        top_k: int | None = None,
        docs: Sequence[str] | None = None,
    ) -> Answer:
        """Answer the last user message of a conversation (``[{"role": ..., "content": ...}, ...]``)."""
        users = [m for m in messages if m.get("role") == "user"]
        if not users:
            raise QuestionError("messages: no user message to answer")
        return self.ask(str(users[-1].get("content", "")), top_k=top_k, docs=docs)

    # -- helpers ----------------------------------------------------------------------------
    def _ensure_index(self) -> None:
        if self.store.count() == 0:
            self.ingest()

    def _retrieve(self, query: str, k: int, docs: Sequence[str] | None) -> list[Hit]:
        manifest = self.manifest()
        if self._dense is None or self._dense.manifest is not manifest:  # rebuilt after any ingest
            self._dense = HybridRetriever(self.settings, self.store, self.embedding, manifest)
        return self._dense.retrieve(query, k, docs)

    def _check_question(self, question: object) -> str:
        if not isinstance(question, str):
            raise QuestionError(f"question: expected text, got {type(question).__name__}")
        q = " ".join(question.split())
        if not q:
            raise QuestionError("question: empty; ask something about the corpus")
        limit = self.settings.max_question_chars
        if len(q) > limit:
            raise QuestionError(f"question: {len(q)} characters, more than the limit of {limit}")
        return q

    def _check_top_k(self, top_k: int | None) -> int:
        k = self.settings.top_k if top_k is None else top_k
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= self.settings.max_top_k:
            raise QuestionError(f"top_k: must be an integer from 1 to {self.settings.max_top_k}, got {top_k!r}")
        return k

    def _check_docs(self, docs: Sequence[str] | None) -> list[str] | None:
        if not docs:
            return None
        known = set(self.manifest().docs)
        wanted = [d.removesuffix(".txt") for d in docs]
        unknown = [d for d in wanted if known and d not in known]
        if unknown:
            raise QuestionError(f"doc: unknown document id {unknown[0]!r}; see `caucasus-qa docs`")
        return wanted

    def _source(self, rank: int, hit: Hit) -> Source:
        c = hit.chunk
        entry = self._records().get(c.doc_id)
        record = entry or DocumentRecord(doc_id=c.doc_id, title=c.doc_id)
        citation = record.short_citation() + (f", § {c.section}" if c.section else "")
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
        )

    def _records(self) -> dict[str, DocumentRecord]:
        return {k: e.record for k, e in self.manifest().docs.items()}


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2)
