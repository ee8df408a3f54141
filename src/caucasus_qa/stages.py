"""The stages of answering one question, as functions over one :class:`IndexSnapshot`.

``retrieve`` (with the optional rerank) → ``passages`` → ``compose`` → ``judge`` → ``present``; the
plan comes from :mod:`caucasus_qa.query`. :class:`caucasus_qa.assistant.Assistant` runs them in
that order, every one of them reading the same snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from .abstain import Decision, decide, evidence, judge, not_found
from .answer import Composed, compose_answer
from .query import Kind, QueryPlan
from .rerank import Reranker
from .retrieve import Hit
from .schema import Source
from .scorer import Models
from .settings import Settings
from .snapshot import IndexSnapshot

__all__ = ["Draft", "Presented", "compose", "judge_draft", "passages", "present", "retrieve"]

Presented = tuple[str, bool, list[Source], list[str]]  # answer, abstained, sources, reasons


@dataclass(frozen=True)
class Draft:
    """A question's plan, its passages and the composed answer before the judge has spoken."""

    plan: QueryPlan
    sources: list[Source]
    composed: Composed


def retrieve(
    snap: IndexSnapshot,
    query: str,
    k: int,
    docs: Sequence[str] | None,
    reranker: Reranker | None = None,
    depth: int = 0,
) -> list[Hit]:
    """The ``k`` best passages; with a reranker, its best ``k`` of ``depth`` retrieved."""
    if reranker is None:
        return snap.retriever.retrieve(query, k, docs)
    hits = snap.retriever.retrieve(query, max(k, depth), docs)
    return reranker.rerank(query, hits)[:k]


def passages(snap: IndexSnapshot, hits: Sequence[Hit]) -> list[Source]:
    """The hits as ranked sources (rank 1 first)."""
    return [snap.source(rank, h) for rank, h in enumerate(hits, start=1)]


def compose(
    snap: IndexSnapshot, plan: QueryPlan, sources: list[Source], settings: Settings, models: Models | None
) -> Draft:
    """The extractive answer over ``sources`` (with their footnote markers; a metadata question
    also gets the named document's front matter)."""
    sources = [snap.with_markers(s) for s in sources]
    if plan.kind is Kind.METADATA and len(sources) > 1:
        sources = snap.front_matter(plan.question, sources)
    retriever = snap.retriever
    composed = compose_answer(
        plan,
        sources,
        snap.load_embedding(),
        lexicon=snap.lexicon,
        records=snap.records,
        config=settings.answer,
        vectors=snap.vectors,
        query_vector=retriever.query_vector(plan.query),
        names=snap.names,
        entities={s.rank: snap.entities(s) for s in sources},
        models=models,
        ignore=retriever.alias_names,
    )
    return Draft(plan, sources, composed)


def judge_draft(draft: Draft, settings: Settings, models: Models | None) -> Decision:
    """Whether the draft answers the question: the learned judge, or the hand-set floors."""
    composed, sources = draft.composed, draft.sources
    if models is not None:
        return judge(composed, draft.plan, models)
    ev = evidence(composed, sources[0].score if sources else 0.0)
    ev = replace(ev, entity_support=composed.passage_support, quantity_support=composed.quantity_support)
    return decide(ev, settings.abstain)


def present(draft: Draft, decision: Decision) -> Presented:
    """The answer text (or the abstention), whether it abstained, the sources with the quoted
    sentences highlighted, and the reasons for an abstention."""
    composed, sources = draft.composed, draft.sources
    if (not composed.used or decision.abstain) and not composed.answered_by_record:
        reasons = list(decision.reasons) or ["no sentence of the passages could be quoted"]
        return not_found(sources), True, sources, reasons
    spans: dict[int, list[tuple[int, int]]] = {}
    for c in composed.used:
        spans.setdefault(c.source_rank, []).append((c.start, c.end))
    return composed.text, False, [replace(s, highlights=spans.get(s.rank, [])) for s in sources], []
