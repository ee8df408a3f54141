"""The one API that the CLI, the UI and the evaluation all use."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .abstain import NOT_FOUND, decide, evidence, judge, not_found
from .answer import FRONT_MATTER, ComposeConfig, Composed, compose_answer
from .candidates import SentenceVectors
from .embed import SentenceTransformerEmbedding, build_embedding
from .entities import Entity
from .errors import QuestionError
from .lexicon import DocumentNames, Lexicon, which_document
from .llm import LLMClient, LLMError, validate_citations
from .manifest import Manifest
from .model_info import model_info
from .pages import page_label
from .query import Kind, QueryPlan
from .query import plan as make_plan
from .rerank import Reranker, reranker_from
from .retrieve import Hit, HybridRetriever
from .rewrite import rewrite_query
from .schema import Answer, DocumentRecord, IngestReport, Source
from .scorer import Models, load_models
from .sentvec import SentenceLookup, SentenceStore, sentence_dir
from .settings import Settings
from .store import Store

if TYPE_CHECKING:
    from .ingest import Ingestor

__all__ = ["NOT_FOUND", "Assistant", "DocumentInfo", "dumps"]


@dataclass(frozen=True)
class Draft:
    """A question's plan, its passages and the composed answer before the judge has spoken."""

    plan: QueryPlan
    sources: list[Source]
    composed: Composed


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
            "affiliation": r.affiliation,
            "path": self.path,
            "chunks": self.chunks,
            "footnotes_resolved": self.footnotes_resolved,
            "footnote_entries": self.footnote_entries,
        }


class Assistant:
    """``Assistant(corpus_dir="corpus", store_dir=".caucasus_qa")``; any other setting as a keyword.

    ``reranker``: re-scores the retrieved passages (see :mod:`caucasus_qa.rerank`); by default the
    one the settings name (``rerank_model``), none when unset.
    """

    def __init__(
        self,
        corpus_dir: str | Path | None = None,
        store_dir: str | Path | None = None,
        settings: Settings | None = None,
        *,
        reranker: Reranker | None = None,
        **overrides: Any,
    ) -> None:
        base = settings or Settings()
        updates = dict(overrides)
        if corpus_dir is not None:
            updates["corpus_dir"] = Path(corpus_dir)
        if store_dir is not None:
            updates["store_dir"] = Path(store_dir)
        self.settings = Settings.model_validate({**base.model_dump(), **updates})
        self.reranker = reranker if reranker is not None else reranker_from(self.settings)
        self._embedding: SentenceTransformerEmbedding | None = None
        self._store: Store | None = None
        self._retriever: HybridRetriever | None = None  # dense + BM25 fusion
        self._manifest: tuple[int, Manifest] | None = None
        self._pinned = threading.local()  # .manifest: the one a question in this thread reads
        self._lex: tuple[Manifest, Lexicon] | None = None
        self._catalog_of: tuple[Manifest, DocumentNames] | None = None
        self._sentence_vectors: SentenceVectors | None = None
        self._sentence_lookup: tuple[Manifest, SentenceLookup] | None = None
        self._indexed: Manifest | None = None  # manifest version whose store was seen non-empty
        self._models: tuple[Models | None] | None = None
        self._llm: LLMClient | None = None

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
        from .ingest import Ingestor  # parsing, cleaning and chunking: not needed to answer

        return Ingestor(self.settings, lambda: self.store, lambda: self.embedding)

    # -- verbs ------------------------------------------------------------------------------
    def ingest(
        self, paths: Iterable[str | Path] = (), rebuild: bool = False, progress: bool = False
    ) -> IngestReport:
        report = self._ingestor().run([Path(p) for p in paths], rebuild=rebuild, progress=progress)
        if report.changed or rebuild:
            self._retriever = None
        return report

    def remove(self, doc_id: str) -> IngestReport:
        report = self._ingestor().remove(doc_id)
        self._retriever = None
        return report

    def manifest(self) -> Manifest:
        """The store's manifest, re-read only when another writer replaced it."""
        pinned: Manifest | None = getattr(self._pinned, "manifest", None)
        if pinned is not None:
            return pinned
        s = self.settings
        mtime = s.manifest_file.stat().st_mtime_ns if s.manifest_file.exists() else 0
        if self._manifest is None or self._manifest[0] != mtime:
            self._manifest = (mtime, Manifest.load(s.manifest_file, s.chunks_file))
        return self._manifest[1]

    @contextmanager
    def _one_manifest(self) -> Iterator[Manifest]:
        """Every stage of one question reads the same manifest, checked on disk once: the answer
        stage looks it up a few dozen times, and a stat each was ~2 ms a question at 100k chunks.
        Per thread, since the UI answers several questions at once."""
        outer = getattr(self._pinned, "manifest", None)
        self._pinned.manifest = self.manifest()
        try:
            yield self._pinned.manifest
        finally:
            self._pinned.manifest = outer

    def documents(self) -> list[DocumentInfo]:
        m = self.manifest()
        return [
            DocumentInfo(e.record, len(e.chunk_ids), e.footnotes_resolved, e.footnote_entries, e.path)
            for e in sorted(m.docs.values(), key=lambda e: e.doc_id)
        ]

    def evaluate(
        self,
        files: Sequence[str | Path] | None = None,
        split: str | None = None,
        top_k: int = 10,
        baselines: bool = True,
        progress: Callable[[str], None] | None = None,
        train_cv: bool | None = None,
        report: str | Path | None = None,
        wrote: Callable[[Path], None] | None = None,
    ) -> dict[str, Any]:
        """Score retrieval and answers on the gold questions against the baselines: what
        ``caucasus-qa eval`` prints (see :func:`caucasus_qa.evaluation.api.evaluate`)."""
        from .evaluation.api import evaluate  # metrics, baselines and charts: not needed to answer

        return evaluate(self, files, split, top_k, baselines, progress, train_cv, report, wrote)

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        docs: Sequence[str] | None = None,
        min_score: float | None = None,
        llm: bool = False,
    ) -> Answer:
        """``llm=True``: synthesise with the configured LLM endpoint (extractive answer as fallback)."""
        t0 = time.perf_counter()
        client = self._llm_client() if llm else None
        question = self._check_question(question)
        k = self._check_top_k(top_k)
        docs = self._check_docs(docs)
        self._ensure_index()
        with self._one_manifest():
            hits = self._retrieve(question, k, docs)
            floor = self.settings.min_score if min_score is None else min_score
            hits = [h for h in hits if h.score >= floor]
            t_retrieve = time.perf_counter()
            sources = [self._source(rank, h) for rank, h in enumerate(hits, start=1)]
            answer, abstained, sources, reasons = self._answer(question, sources)
        mode = "extractive"
        if client is not None and not abstained:
            answer, mode = self._synthesize(client, question, sources, answer)
        t_end = time.perf_counter()
        return Answer(
            question=question,
            answer=answer,
            abstained=abstained,
            sources=sources,
            query=question,
            mode=mode,
            timings={"retrieve_s": t_retrieve - t0, "answer_s": t_end - t_retrieve, "total_s": t_end - t0},
            abstention_reasons=reasons,
        )

    def ask_stream(
        self,
        question: str,
        top_k: int | None = None,
        docs: Sequence[str] | None = None,
        llm: bool | None = None,
        messages: Sequence[dict[str, Any]] | None = None,
    ) -> Iterator[str | Answer]:
        """Text deltas (``str``) as the LLM writes them, then the final, validated ``Answer``.

        The final answer replaces the streamed text (markers pointing at no source are removed; with
        no valid citation it is the extractive answer). ``llm=None`` uses the LLM when one is
        configured; without one (or on abstention) the extractive answer comes as a single delta.
        ``messages`` (a conversation) makes the question a follow-up: the same as :meth:`chat_stream`.
        """
        if messages:
            yield from self.chat_stream(messages, top_k=top_k, docs=docs, llm=llm)
            return
        client = self._stream_client(llm)
        yield from self._stream_synthesis(client, self.ask(question, top_k, docs))

    def _llm_client(self) -> LLMClient:
        if self._llm is None:
            self._llm = LLMClient.from_settings(self.settings)
        return self._llm

    def _stream_client(self, llm: bool | None) -> LLMClient | None:
        """The client for a streamed answer; ``llm=None``: only when an endpoint is configured."""
        s = self.settings
        use = (s.llm_url is not None and s.llm_model is not None) if llm is None else llm
        return self._llm_client() if use else None

    def _synthesize(
        self, client: LLMClient, question: str, sources: list[Source], fallback: str
    ) -> tuple[str, str]:
        try:
            text = client.complete(question, sources)
        except LLMError:
            text = ""
        return self._validated(text, sources, fallback)

    @staticmethod
    def _validated(text: str, sources: Sequence[Source], fallback: str) -> tuple[str, str]:
        """``(answer, mode)``: the LLM's text with markers pointing at no source removed, or, with
        no valid citation left, the extractive ``fallback``."""
        checked = validate_citations(text, len(sources)) if text else None
        return (checked, "llm") if checked else (fallback, "extractive")

    def _stream_synthesis(self, client: LLMClient | None, base: Answer) -> Iterator[str | Answer]:
        """Stream the LLM's answer over ``base`` (the extractive answer and its sources), then the
        final ``Answer``: validated as in :meth:`_synthesize`, ``base`` itself when it falls back."""
        if client is None or base.abstained:
            yield base.answer
            yield base
            return
        t0 = time.perf_counter()
        parts: list[str] = []
        try:
            for delta in client.stream(base.query or base.question, base.sources):
                parts.append(delta)
                yield delta
        except LLMError:
            parts = []
        text, mode = self._validated("".join(parts), base.sources, base.answer)
        spent = time.perf_counter() - t0
        timings = {k: v + spent if k in ("answer_s", "total_s") else v for k, v in base.timings.items()}
        yield replace(base, answer=text, mode=mode, timings=timings) if mode == "llm" else base

    def chat(
        self,
        messages: Sequence[dict[str, Any]],
        top_k: int | None = None,
        docs: Sequence[str] | None = None,
        llm: bool = False,
    ) -> Answer:
        """Answer the last user message of a conversation (``[{"role": ..., "content": ...}, ...]``).

        A follow-up is rewritten into a standalone query (``Answer.query``); ``llm`` as in :meth:`ask`.
        """
        users = [m for m in messages if m.get("role") == "user"]
        if not users:
            raise QuestionError("messages: no user message to answer")
        question = self._check_question(str(users[-1].get("content", "")))
        query = rewrite_query(messages, self._records()) or question
        limit = self.settings.max_question_chars
        ans = self.ask(query if len(query) <= limit else question, top_k=top_k, docs=docs, llm=llm)
        ans.query, ans.question = ans.question, question
        return ans

    def chat_stream(
        self,
        messages: Sequence[dict[str, Any]],
        top_k: int | None = None,
        docs: Sequence[str] | None = None,
        llm: bool | None = None,
    ) -> Iterator[str | Answer]:
        """:meth:`chat` streamed as :meth:`ask_stream` streams: text deltas, then the final ``Answer``.

        The follow-up is rewritten and retrieved exactly as in :meth:`chat`; the LLM answers the
        standalone query (``Answer.query``). ``llm`` as in :meth:`ask_stream`.
        """
        client = self._stream_client(llm)
        yield from self._stream_synthesis(client, self.chat(messages, top_k=top_k, docs=docs))

    # -- helpers ----------------------------------------------------------------------------
    def models(self) -> Models | None:
        """The learned sentence scorer and judge (None when ``answer_learned`` is off)."""
        if self._models is None:
            s = self.settings
            self._models = (
                (load_models(str(s.answer_models) if s.answer_models else None),)
                if s.answer_learned
                else (None,)
            )
        return self._models[0]

    def use_models(self, models: Models | None) -> None:
        """Answer with ``models`` from now on (None: the hand-weighted score and floors)."""
        self._models = (models,)

    def plan(self, question: str) -> QueryPlan:
        """The typed plan of ``question`` (see :mod:`caucasus_qa.query`)."""
        return make_plan(question, self.settings.spacy_model)

    def draft(self, question: str, top_k: int | None = None, docs: Sequence[str] | None = None) -> Draft:
        """Plan, retrieve and compose, without judging: what ``caucasus-qa train`` learns from."""
        question = self._check_question(question)
        k = self._check_top_k(top_k)
        self._ensure_index()
        with self._one_manifest():
            hits = self._retrieve(question, k, self._check_docs(docs))
            sources = [self._source(rank, h) for rank, h in enumerate(hits, start=1)]
            return self._compose(self.plan(question), sources)

    def _compose(self, the_plan: QueryPlan, sources: list[Source]) -> Draft:
        sources = [self._with_markers(s) for s in sources]
        if the_plan.kind is Kind.METADATA and len(sources) > 1:
            sources = self._front_matter(the_plan.question, sources)
        retriever = self._current_retriever()
        composed = compose_answer(
            the_plan,
            sources,
            self.embedding,
            lexicon=self._lexicon(),
            records=self._records(),
            config=ComposeConfig(
                max_sentences=self.settings.answer_max_sentences,
                keep_within=self.settings.answer_keep_within if self.models() else ComposeConfig.keep_within,
                denial_penalty=self.settings.answer_denial_penalty,
            ),
            vectors=self._vectors,
            query_vector=retriever.query_vector(the_plan.query),
            names=self._names(),
            entities={s.rank: self._entities(s) for s in sources},
            models=self.models(),
            ignore=retriever.alias_names,
        )
        return Draft(the_plan, sources, composed)

    def _answer(self, question: str, sources: list[Source]) -> tuple[str, bool, list[Source], list[str]]:
        """Extractive answer (or abstention), the sources with the quoted sentences highlighted, and
        the reasons for an abstention."""
        draft = self._compose(self.plan(question), sources)
        composed, sources = draft.composed, draft.sources
        models = self.models()
        if models is not None:
            decision = judge(composed, draft.plan, models)
        else:
            ev = evidence(composed, sources[0].score if sources else 0.0)
            ev = replace(
                ev, entity_support=composed.passage_support, quantity_support=composed.quantity_support
            )
            decision = decide(ev, self.settings)
        if (not composed.used or decision.abstain) and not composed.answered_by_record:
            reasons = list(decision.reasons) or ["no sentence of the passages could be quoted"]
            return not_found(sources), True, sources, reasons
        spans: dict[int, list[tuple[int, int]]] = {}
        for c in composed.used:
            spans.setdefault(c.source_rank, []).append((c.start, c.end))
        return composed.text, False, [replace(s, highlights=spans.get(s.rank, [])) for s in sources], []

    def _entities(self, source: Source) -> list[Entity]:
        """Entity spans (found at ingest) of every indexed chunk the passage contains, in its text."""
        rows = self._sentence_lookup_now().rows(source.doc_id)
        out: set[Entity] = set()
        for chunk in self.manifest().chunks_of(source.doc_id):
            row = rows.get(chunk.chunk_id)
            if row is None or not row.entities:
                continue
            at = source.text.find(chunk.text) if chunk.text else -1
            if at >= 0:
                out.update((at + a, at + b, cls) for a, b, cls in row.entities)
        return sorted(out)

    def _with_markers(self, source: Source) -> Source:
        """Footnote markers (and aligned references) of every indexed chunk the passage contains."""
        markers: list[tuple[int, int]] = []
        notes: dict[int, str] = {}
        for chunk in self.manifest().chunks_of(source.doc_id):
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

    def _front_matter(self, question: str, sources: list[Source]) -> list[Source]:
        """For a metadata question: the document's opening chunk and author/acknowledgment sections
        take the places of the last passages (top_k is kept)."""
        doc_id = which_document(question, self._records(), [s.doc_id for s in sources])
        if doc_id is None:
            return sources
        have = {s.chunk_id for s in sources}
        picked = [
            c
            for c in self.manifest().chunks_of(doc_id)
            if c.chunk_id not in have and (c.position == 0 or FRONT_MATTER.search(c.section))
        ][: min(2, len(sources) // 2)]
        kept = sources[: len(sources) - len(picked)]
        start = len(kept) + 1
        return kept + [self._with_markers(self._source(start + i, Hit(c, 0.0))) for i, c in enumerate(picked)]

    @property
    def _vectors(self) -> SentenceVectors:
        if self._sentence_vectors is None:
            self._sentence_vectors = SentenceVectors(
                self.embedding, known=self._stored_sentences, spans=self._stored_spans
            )
        return self._sentence_vectors

    def _sentence_lookup_now(self) -> SentenceLookup:
        """Stored sentence vectors (see sentvec.py) for the current manifest's chunks."""
        manifest = self.manifest()
        if self._sentence_lookup is None or self._sentence_lookup[0] is not manifest:
            chunks = manifest.chunks

            def text_of(chunk_id: str) -> str | None:
                chunk = chunks.get(chunk_id)
                return chunk.text if chunk is not None else None

            self._sentence_lookup = (
                manifest,
                SentenceLookup(SentenceStore(sentence_dir(self.settings)), text_of),
            )
        return self._sentence_lookup[1]

    def _stored_sentences(self, doc_id: str) -> dict[str, Any]:
        """Sentence text -> vector pooled at ingest, for ``doc_id``."""
        return self._sentence_lookup_now().for_doc(doc_id)

    def _stored_spans(self, source: Source) -> list[tuple[int, int]] | None:
        """Sentence spans stored with those vectors, when ``source`` is one whole chunk."""
        return self._sentence_lookup_now().spans(source.doc_id, source.chunk_id, source.text)

    def _lexicon(self) -> Lexicon:
        manifest = self.manifest()
        if self._lex is None or self._lex[0] is not manifest:
            self._lex = (manifest, Lexicon.from_texts(c.text for c in manifest.chunks.values()))
        return self._lex[1]

    def _ensure_index(self) -> None:
        """Build the index on first use; the store is counted once per manifest version (a count is a
        Chroma round trip, 2-3 ms of every question otherwise)."""
        manifest = self.manifest()
        if self._indexed is manifest:
            return
        if self.store.count() == 0:
            self.ingest()  # an empty store is checked again next time: files may still arrive
        else:
            self._indexed = manifest

    def _current_retriever(self) -> HybridRetriever:
        manifest = self.manifest()
        if self._retriever is None or self._retriever.manifest is not manifest:  # rebuilt after any ingest
            self._retriever = HybridRetriever(
                self.settings,
                self.store,
                self.embedding,
                manifest,
                sentences=self._sentence_lookup_now().rows,
            )
        return self._retriever

    def _retrieve(self, query: str, k: int, docs: Sequence[str] | None) -> list[Hit]:
        """The ``k`` best passages; with a reranker, its best ``k`` of ``rerank_depth`` retrieved."""
        if self.reranker is None:
            return self._current_retriever().retrieve(query, k, docs)
        hits = self._current_retriever().retrieve(query, max(k, self.settings.rerank_depth), docs)
        return self.reranker.rerank(query, hits)[:k]

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
            raise QuestionError(
                f"top_k: must be an integer from 1 to {self.settings.max_top_k}, got {top_k!r}"
            )
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

    def _records(self) -> Mapping[str, DocumentRecord]:
        return self._names().records

    def _names(self) -> DocumentNames:
        """Records by document id and their name index, built once per manifest version (a question
        looks them up several times; rebuilding them cost ~45 ms a question at 10,000 documents)."""
        manifest = self.manifest()
        if self._catalog_of is None or self._catalog_of[0] is not manifest:
            self._catalog_of = (manifest, DocumentNames({k: e.record for k, e in manifest.docs.items()}))
        return self._catalog_of[1]


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2)
