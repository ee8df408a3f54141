"""``caucasus-qa eval``: every gold question through ``Assistant.ask`` (the path users get), the two
baselines on the same questions and embedder, and the conversation follow-ups through ``Assistant.chat``.

Retrieval metrics exclude unanswerable questions; answer metrics use all of them. See
:mod:`caucasus_qa.evaluation.metrics` for the matching rules and metric definitions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import metrics as M
from .questions import (
    QUESTION_TYPES,
    Conversation,
    Question,
    _is_conversation_file,
    load_conversations,
    load_questions,
    normalize_for_match,
)

CURVE_K = 10
SYSTEMS = ("hybrid", "naive", "bm25")
SYSTEM_LABELS = {
    "hybrid": "ours (hybrid)",
    "naive": "naive LlamaIndex (1024/200, dense)",
    "bm25": "BM25 on naive chunks",
}


@dataclass
class Ranked:
    """One question's outcome for one system."""

    qid: str
    qtype: str
    cov: list[set[int]]
    n_quotes: int
    lengths: list[int]


@dataclass
class SystemResult:
    name: str
    rows: list[Ranked] = field(default_factory=list)

    def summary(self, top_k: int, rows: Sequence[Ranked] | None = None) -> dict[str, float]:
        rs = list(self.rows if rows is None else rows)
        return {
            "n": float(len(rs)),
            "hit@1": M.mean([M.hit_at(r.cov, 1) for r in rs]),
            "hit@3": M.mean([M.hit_at(r.cov, 3) for r in rs]),
            "hit@5": M.mean([M.hit_at(r.cov, 5) for r in rs]),
            "mrr@10": M.mean([M.reciprocal_rank(r.cov, 10) for r in rs]),
            "ndcg@10": M.mean([M.ndcg_at(r.cov, r.n_quotes, 10) for r in rs]),
            "evidence@5": M.mean([M.evidence_recall(r.cov, r.n_quotes, 5) for r in rs]),
            f"evidence@{top_k}": M.mean([M.evidence_recall(r.cov, r.n_quotes, top_k) for r in rs]),
            "mean_passage_chars": M.mean(
                [M.mean([float(x) for x in r.lengths[:5]]) for r in rs if r.lengths]
            ),
        }

    def by_type(self, top_k: int) -> dict[str, dict[str, float]]:
        out = {}
        for t in QUESTION_TYPES:
            rows = [r for r in self.rows if r.qtype == t]
            if rows:
                out[t] = self.summary(top_k, rows)
        return out

    def curve(self, k_max: int = CURVE_K) -> list[float]:
        return [M.mean([M.hit_at(r.cov, k) for r in self.rows]) for k in range(1, k_max + 1)]


def document_level_flags(item: Any, chunk_texts: dict[str, list[str]]) -> list[bool]:
    """Quotes found in no indexed passage of their documents (metadata lines): matched by document."""
    if getattr(item, "type", None) != "metadata":
        return [False] * len(item.evidence)
    docs = [M.doc_stem(d) for d in item.docs]
    texts = [t for d in docs for t in chunk_texts.get(d, [])]
    return [not any(normalize_for_match(q) in t for t in texts) for q in item.evidence]


def _passages_of(sources: Sequence[Any]) -> list[M.Passage]:
    return [M.Passage(s.text, s.doc_id, tuple(s.references)) for s in sources]


def score(item: Question | Conversation, passages: Sequence[M.Passage], flags: list[bool]) -> Ranked:
    qtype = str(item.type or "")
    cov = M.coverage(
        item.evidence, passages, item.docs, with_references=qtype == "citation", document_level=flags
    )
    return Ranked(item.id, qtype, cov, len(item.evidence), [len(p.text) for p in passages])


def load_items(files: Sequence[str | Path]) -> tuple[list[Question], list[Conversation]]:
    questions: list[Question] = []
    conversations: list[Conversation] = []
    for f in files:
        if _is_conversation_file(Path(f)):
            conversations.extend(load_conversations(f))
        else:
            questions.extend(load_questions(f))
    return questions, conversations


def run_eval(
    qa: Any,
    questions: Sequence[Question],
    conversations: Sequence[Conversation] = (),
    top_k: int = 10,
    baselines: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run everything once; return a JSON-ready dict (see ``report.py`` for how it is shown)."""
    say = progress or (lambda _m: None)
    qa.ingest()  # no-op when the index is current
    manifest = qa.manifest()
    chunk_texts: dict[str, list[str]] = {}
    for c in manifest.chunks.values():
        chunk_texts.setdefault(c.doc_id, []).append(
            normalize_for_match(c.text + " " + " ".join(c.references))
        )

    answerable = [q for q in questions if q.type != "unanswerable"]
    flags = {q.id: document_level_flags(q, chunk_texts) for q in [*questions, *conversations]}
    systems = {name: SystemResult(name) for name in SYSTEMS}

    # warm-up: model, Chroma and BM25 loaded before anything is timed
    qa.ask("warm-up question about Azerbaijan", top_k=top_k)
    qa.embedding.get_query_embedding("warm-up")

    say(f"ours: {len(questions)} questions through Assistant.ask")
    outcomes: list[M.AnswerOutcome] = []
    by_split: dict[str, tuple[list[M.AnswerOutcome], list[float]]] = {}  # split -> outcomes, recalls
    keyword_recalls: dict[str, list[float]] = {}  # question type -> recall of each answer
    retrieve_s: list[float] = []
    embed_s: list[float] = []
    vectors: dict[str, list[float]] = {}
    per_question: list[dict[str, Any]] = []
    for q in questions:
        t0 = time.perf_counter()
        vectors[q.id] = qa.embedding.get_query_embedding(q.question)
        embed_s.append(time.perf_counter() - t0)
        ans = qa.ask(q.question, top_k=top_k)
        retrieve_s.append(float(ans.timings.get("retrieve_s", ans.timings.get("total_s", 0.0))))
        unans = q.type == "unanswerable"
        correct = M.answer_correct(ans.answer, ans.abstained, q.keywords, unans)
        outcomes.append(M.AnswerOutcome(ans.abstained, correct, unans))
        split_outcomes, split_recalls = by_split.setdefault(q.split, ([], []))
        split_outcomes.append(outcomes[-1])
        if not unans:
            recall = M.answer_keyword_recall(ans.answer, ans.abstained, q.keywords)
            keyword_recalls.setdefault(q.type, []).append(recall)
            split_recalls.append(recall)
            row = score(q, _passages_of(ans.sources), flags[q.id])
            systems["hybrid"].rows.append(row)
        per_question.append(
            {
                "id": q.id,
                "type": q.type,
                "first_hit_rank": next((i for i, c in enumerate(row.cov, 1) if c), None)
                if not unans
                else None,
                "abstained": ans.abstained,
                "correct": correct,
            }
        )

    if baselines and answerable:
        say("baselines: naive LlamaIndex (dense) and BM25 over the same naive chunks")
        from .baselines import NaiveBaselines

        base = NaiveBaselines(qa.embedding, corpus_dir=qa.settings.store.corpus_dir)
        for q in answerable:
            dense, keyword = base.retrieve(q.question, top_k, vectors[q.id])
            systems["naive"].rows.append(score(q, dense, flags[q.id]))
            systems["bm25"].rows.append(score(q, keyword, flags[q.id]))

    conv_rows: list[Ranked] = []
    standalone_rows: list[Ranked] = []
    if conversations:
        say(f"conversations: {len(conversations)} follow-ups through Assistant.chat")
        for c in conversations:
            first = qa.ask(c.turns[0], top_k=top_k)
            messages = [
                {"role": "user", "content": c.turns[0]},
                {"role": "assistant", "content": first.answer},
                {"role": "user", "content": c.turns[1]},
            ]
            follow = qa.chat(messages, top_k=top_k)
            conv_rows.append(score(c, _passages_of(follow.sources), flags[c.id]))
            alone = qa.ask(c.standalone, top_k=top_k)
            standalone_rows.append(score(c, _passages_of(alone.sources), flags[c.id]))

    hybrid = systems["hybrid"]
    answers = M.answer_scores(outcomes)
    answers["keyword_recall"] = M.mean([r for rs in keyword_recalls.values() for r in rs])
    return {
        "top_k": top_k,
        "questions": len(questions),
        "answerable": len(answerable),
        "systems": {
            name: {
                "label": SYSTEM_LABELS[name],
                "overall": s.summary(top_k),
                "by_type": s.by_type(top_k),
                "curve": s.curve(),
            }
            for name, s in systems.items()
            if s.rows
        },
        "answers": answers,
        "answers_by_split": {
            split: {**M.answer_scores(outs), "keyword_recall": M.mean(recs), "questions": float(len(outs))}
            for split, (outs, recs) in sorted(by_split.items())
        },
        "keyword_recall_by_type": {
            t: {"n": len(rs), "keyword_recall": M.mean(rs)} for t, rs in sorted(keyword_recalls.items())
        },
        "latency": {
            "retrieve_p50_s": M.percentile(retrieve_s, 50),
            "retrieve_p95_s": M.percentile(retrieve_s, 95),
            "embed_p50_s": M.percentile(embed_s, 50),
            "embed_p95_s": M.percentile(embed_s, 95),
            "ratio_p50": M.percentile(retrieve_s, 50) / max(1e-9, M.percentile(embed_s, 50)),
        },
        "conversations": {
            "n": len(conv_rows),
            "followup_hit@5": M.mean([M.hit_at(r.cov, 5) for r in conv_rows]),
            "standalone_hit@5": M.mean([M.hit_at(r.cov, 5) for r in standalone_rows]),
        }
        if conv_rows
        else {},
        "per_question": per_question,
        "hybrid_types": sorted({r.qtype for r in hybrid.rows}),
    }
