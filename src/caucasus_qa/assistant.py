"""The one API that the CLI, the UI and the evaluation all use."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import stages
from .abstain import NOT_FOUND
from .embed import SentenceTransformerEmbedding, build_embedding
from .errors import QuestionError
from .index import Index
from .manifest import Manifest
from .model_info import model_info
from .query import QueryPlan
from .query import plan as make_plan
from .rerank import Reranker, reranker_from
from .rewrite import rewrite_query
from .schema import Answer, DocumentRecord, IngestReport
from .scorer import Models, load_models
from .settings import Settings, with_overrides
from .snapshot import IndexSnapshot
from .stages import Draft
from .store import Store
from .synthesis import Reader, reader_from, stream_synthesis, synthesize

if TYPE_CHECKING:
    from .ingest import Ingestor

__all__ = ["NOT_FOUND", "Assistant", "DocumentInfo", "Draft", "IndexSnapshot", "dumps"]


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
    """``Assistant(corpus_dir="corpus", store_dir=".caucasus_qa")``; any other setting by its group,
    ``Assistant(retrieval={"top_k": 8}, answer={"learned": False})`` (see :mod:`caucasus_qa.settings`),
    on top of ``settings`` (default: ``Settings()``, the defaults and the environment).

    ``reranker``: re-scores the retrieved passages (see :mod:`caucasus_qa.rerank`); by default the
    one the settings name (``retrieval.rerank_model``), none when unset. ``reader``: writes the answer
    when one asks for an LLM answer (see :mod:`caucasus_qa.synthesis`); by default the endpoint of
    ``llm.url`` and ``llm.model``. The extractive answer needs neither.
    """

    def __init__(
        self,
        corpus_dir: str | Path | None = None,
        store_dir: str | Path | None = None,
        settings: Settings | None = None,
        *,
        reranker: Reranker | None = None,
        reader: Reader | None = None,
        **overrides: Any,
    ) -> None:
        base = settings or Settings()
        updates = dict(overrides)
        if corpus_dir is not None:
            updates["store.corpus_dir"] = Path(corpus_dir)
        if store_dir is not None:
            updates["store.store_dir"] = Path(store_dir)
        self.settings = with_overrides(base, updates)
        self.reranker = reranker if reranker is not None else reranker_from(self.settings)
        # the index on disk: builds the snapshots questions read, and does every write of an ingest
        self.index = Index(self.settings, lambda: self.store, lambda: self.embedding)
        self._embedding: SentenceTransformerEmbedding | None = None
        self._store: Store | None = None
        self._snapshot: tuple[int, IndexSnapshot] | None = None  # (manifest mtime, its snapshot)
        self._indexed: IndexSnapshot | None = None  # the version whose store was seen non-empty
        self._models: tuple[Models | None] | None = None
        self._reader = reader  # the settings' one is built when first asked for

    # -- lazily built parts -----------------------------------------------------------------
    @property
    def embedding(self) -> SentenceTransformerEmbedding:
        if self._embedding is None:
            e = self.settings.embed
            self._embedding = build_embedding(
                e.model_path, e.model_name, e.device, e.batch_size, e.backend, self.settings.store.store_dir
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

        return Ingestor(self.settings, lambda: self.store, lambda: self.embedding, self.index)

    # -- verbs ------------------------------------------------------------------------------
    def ingest(
        self, paths: Iterable[str | Path] = (), rebuild: bool = False, progress: bool = False
    ) -> IngestReport:
        report = self._ingestor().run([Path(p) for p in paths], rebuild=rebuild, progress=progress)
        if report.changed or rebuild:
            self._snapshot = None
        return report

    def remove(self, doc_id: str) -> IngestReport:
        report = self._ingestor().remove(doc_id)
        self._snapshot = None
        return report

    def manifest(self) -> Manifest:
        """The store's manifest, re-read only when another writer replaced it."""
        return self.snapshot().manifest

    def snapshot(self) -> IndexSnapshot:
        """The index version questions read now: a new one only when ``manifest.json`` changed on
        disk (a question takes one and reads it from start to end, even while an ingest runs)."""
        s = self.settings
        mtime = s.manifest_file.stat().st_mtime_ns if s.manifest_file.exists() else 0
        current = self._snapshot
        if current is None or current[0] != mtime:
            current = (mtime, self.index.snapshot())
            self._snapshot = current
        return current[1]

    def _ready(self) -> IndexSnapshot:
        """The snapshot to answer from, the index built on first use; the store is counted once per
        version (a count is a Chroma round trip, 2-3 ms of every question otherwise)."""
        snap = self.snapshot()
        if self._indexed is snap:
            return snap
        if self.store.count() == 0:
            self.ingest()  # an empty store is checked again next time: files may still arrive
            return self.snapshot()
        self._indexed = snap
        return snap

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
        """``llm=True``: the reader writes the answer (the extractive one as fallback)."""
        t0 = time.perf_counter()
        client = self._reader_for(llm)
        question = self._check_question(question)
        k, docs = self._check_top_k(top_k), self._check_docs(docs)
        return self._answer(self._ready(), question, question, k, docs, min_score, client, t0)

    def _answer(
        self,
        snap: IndexSnapshot,
        question: str,
        query: str,
        k: int,
        docs: list[str] | None,
        min_score: float | None,
        client: Reader | None,
        t0: float,
    ) -> Answer:
        """The stages, every one reading ``snap``: plan → retrieve (→ rerank) → compose → judge →
        present; ``query``: what is searched for and answered (a follow-up's standalone rewrite)."""
        s, models = self.settings, self.models()
        the_plan = self.plan(query)
        hits = stages.retrieve(snap, query, k, docs, self.reranker, s.retrieval.rerank_depth)
        floor = s.retrieval.min_score if min_score is None else min_score
        sources = stages.passages(snap, [h for h in hits if h.score >= floor])
        t_retrieve = time.perf_counter()
        draft = stages.compose(snap, the_plan, sources, s, models)
        decision = stages.judge_draft(draft, s, models)
        answer, abstained, sources, reasons = stages.present(draft, decision)
        mode = "extractive"
        if client is not None and not abstained:
            answer, mode = synthesize(client, query, sources, answer)
        t_end = time.perf_counter()
        return Answer(
            question=question,
            answer=answer,
            abstained=abstained,
            sources=sources,
            query=query,
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
        client = self._reader_for(llm)
        yield from stream_synthesis(client, self.ask(question, top_k, docs))

    def _reader_for(self, llm: bool | None) -> Reader | None:
        """The reader of an answer: ``llm=True`` needs one (an LLMError says how to configure it),
        ``None`` takes the injected or configured one if any, ``False`` none."""
        if llm is False:
            return None
        if self._reader is None:
            self._reader = reader_from(self.settings, required=bool(llm))
        return self._reader

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
        t0 = time.perf_counter()
        users = [m for m in messages if m.get("role") == "user"]
        if not users:
            raise QuestionError("messages: no user message to answer")
        question = self._check_question(str(users[-1].get("content", "")))
        client = self._reader_for(llm)
        k, wanted = self._check_top_k(top_k), self._check_docs(docs)
        snap = self._ready()
        query = rewrite_query(messages, snap.records) or question
        query = self._check_question(
            query if len(query) <= self.settings.retrieval.max_question_chars else question
        )
        return self._answer(snap, question, query, k, wanted, None, client, t0)

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
        client = self._reader_for(llm)
        yield from stream_synthesis(client, self.chat(messages, top_k=top_k, docs=docs))

    # -- helpers ----------------------------------------------------------------------------
    def models(self) -> Models | None:
        """The learned sentence scorer and judge (None when ``answer.learned`` is off)."""
        if self._models is None:
            a = self.settings.answer
            self._models = (load_models(str(a.models) if a.models else None),) if a.learned else (None,)
        return self._models[0]

    def use_models(self, models: Models | None) -> None:
        """Answer with ``models`` from now on (None: the hand-weighted score and floors)."""
        self._models = (models,)

    def plan(self, question: str) -> QueryPlan:
        """The typed plan of ``question`` (see :mod:`caucasus_qa.query`)."""
        return make_plan(question, self.settings.answer.spacy_model)

    def draft(self, question: str, top_k: int | None = None, docs: Sequence[str] | None = None) -> Draft:
        """Plan, retrieve and compose, without judging: what ``caucasus-qa train`` learns from."""
        question = self._check_question(question)
        k = self._check_top_k(top_k)
        snap = self._ready()
        hits = stages.retrieve(
            snap,
            question,
            k,
            self._check_docs(docs, snap),
            self.reranker,
            self.settings.retrieval.rerank_depth,
        )
        return stages.compose(
            snap, self.plan(question), stages.passages(snap, hits), self.settings, self.models()
        )

    def _check_question(self, question: object) -> str:
        if not isinstance(question, str):
            raise QuestionError(f"question: expected text, got {type(question).__name__}")
        q = " ".join(question.split())
        if not q:
            raise QuestionError("question: empty; ask something about the corpus")
        limit = self.settings.retrieval.max_question_chars
        if len(q) > limit:
            raise QuestionError(f"question: {len(q)} characters, more than the limit of {limit}")
        return q

    def _check_top_k(self, top_k: int | None) -> int:
        r = self.settings.retrieval
        k = r.top_k if top_k is None else top_k
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= r.max_top_k:
            raise QuestionError(f"top_k: must be an integer from 1 to {r.max_top_k}, got {top_k!r}")
        return k

    def _check_docs(self, docs: Sequence[str] | None, snap: IndexSnapshot | None = None) -> list[str] | None:
        if not docs:
            return None
        known = set((snap or self.snapshot()).manifest.docs)
        wanted = [d.removesuffix(".txt") for d in docs]
        unknown = [d for d in wanted if known and d not in known]
        if unknown:
            raise QuestionError(f"doc: unknown document id {unknown[0]!r}; see `caucasus-qa docs`")
        return wanted


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2)
