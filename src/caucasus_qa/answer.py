"""Compose stage: a short extractive answer whose every sentence carries its source's ``[n]``.

Sentences are quoted exactly from the retrieved passages (repaired text included); nothing is
generated. Each candidate sentence gets the general features of :mod:`caucasus_qa.features`
(similarity to the question, IDF-weighted overlap, its passage's rank and score, whether it holds
an entity of the expected answer type, whether its actors agree with the question's, …) and is
scored by the learned sentence model (:mod:`caucasus_qa.scorer`); near-duplicates are dropped and
the kept sentences are read out passage by passage, best passage first. Citation and metadata
questions get the answers of :mod:`caucasus_qa.citing`.

The draft carries every candidate's features and the judge's features, so the judge stage
(:mod:`caucasus_qa.abstain`) and ``caucasus-qa train`` read the same numbers the answer used.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .candidates import SentenceVectors, candidate_sentences
from .citing import citation_answer, ensure_period, metadata_line
from .embed import SentenceTransformerEmbedding
from .entities import Entity
from .features import SENTENCE_FEATURES, QuestionFacts, judge_row, sentence_rows
from .focus import NUMBER, entities_supported, quantity_supported
from .lexicon import DocumentNames, Lexicon, content_words, question_terms
from .query import Kind, QueryPlan
from .schema import DocumentRecord, Source
from .scorer import Models
from .settings import AnswerSettings

# sections that hold author, affiliation and funding lines
FRONT_MATTER = re.compile(r"author|acknowledg|funding|biograph|contributor", re.IGNORECASE)


@dataclass(frozen=True)
class Candidate:
    source_rank: int  # 1-based rank of the passage
    start: int  # span in the passage text
    end: int
    text: str
    score: float  # the sentence model's logit (or the hand-weighted score without a model)
    similarity: float = 0.0
    overlap: float = 0.0


@dataclass(frozen=True)
class Composed:
    text: str
    used: list[Candidate]
    best_similarity: float
    kind: str = Kind.GENERAL.value
    coverage: float = 0.0  # IDF-weighted share of the question's terms found in the passages
    best_coverage: float = 0.0  # same, within the best passage alone
    unknown_terms: tuple[str, ...] = ()  # question terms that occur nowhere in the corpus
    margin: float = 0.0  # best sentence score minus the median candidate score
    best_score: float = 0.0
    sentence_coverage: float = 0.0  # best IDF-weighted term coverage of a single sentence
    expects_number: bool = False  # "how many", "what year", ...
    number_support: bool = True  # a number among the best-scoring sentences (when one is expected)
    answered_by_record: bool = False  # the catalog record holds what was asked (an author's affiliation)
    candidates: list[Candidate] = field(default_factory=list)  # every scored sentence, in passage order
    features: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))  # one row each
    judge: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # abstain.JUDGE_FEATURES
    passage_support: bool = True  # the question's actors occur together in one passage
    quantity_support: bool = True  # a quantity question has a number beside what it counts


def compose_answer(
    plan: QueryPlan,
    sources: Sequence[Source],
    embedding: SentenceTransformerEmbedding,
    lexicon: Lexicon | None = None,
    records: Mapping[str, DocumentRecord] | None = None,
    config: AnswerSettings | None = None,
    vectors: SentenceVectors | None = None,
    query_vector: Sequence[float] | None = None,
    names: DocumentNames | None = None,
    entities: Mapping[int, Sequence[Entity]] | None = None,
    models: Models | None = None,
    ignore: Container[str] = frozenset(),
) -> Composed:
    """Answer ``plan`` from ``sources`` by quoting up to ``max_sentences`` of their sentences.

    ``query_vector``: the question's embedding when the caller has it (retrieval computed it);
    ``names``: :class:`DocumentNames` of ``records``; ``entities``: passage rank -> entity spans in
    its text (found at ingest); ``models``: the learned scorer (None: the hand-weighted score);
    ``ignore``: lower-case document names, which are not actors of the question; ``config``: the
    ``answer`` settings (None: their defaults, the values the pipeline is tuned to).
    """
    cfg = config or AnswerSettings()
    # a learned model scores in logits, the hand-weighted score on its own scale
    keep_within = cfg.keep_within if models is not None else cfg.keep_within_unlearned
    question = plan.question
    lex = lexicon or Lexicon.from_texts(s.text for s in sources)
    records = records or {}
    names = names if names is not None else DocumentNames(records)
    kind = plan.kind.value
    sources = list(sources[: cfg.max_passages])
    terms = question_terms(question, ignored_stems=names.author_stems)
    coverage, best_coverage = _coverage(terms, sources, lex)
    unknown = tuple(sorted(t for t in terms if not lex.known(t)))
    texts = [s.text for s in sources]
    facts = QuestionFacts.of(plan, ignore, terms)
    passage_support = entities_supported(question, texts, wanted=facts.keys)
    quantity_support = quantity_supported(question, texts)

    vectors = vectors or SentenceVectors(embedding)
    cands = candidate_sentences(sources, cfg.min_chars, vectors)
    if not cands:
        return Composed(
            "", [], 0.0, kind, coverage, best_coverage, unknown,
            passage_support=passage_support, quantity_support=quantity_support,
        )  # fmt: skip
    q = embedding.encode([question])[0] if query_vector is None else np.asarray(query_vector, np.float32)
    s = vectors.for_sources(sources, [c[3] for c in cands])
    sims = s @ q
    weights = {t: lex.idf(t) for t in terms}
    total = sum(weights.values()) or 1.0
    overlaps = [sum(weights[t] for t in terms & content_words(c[3])) / total for c in cands]
    by_rank = {src.rank: src for src in sources}
    front = {r for r, src in by_rank.items() if src.start == 0 or FRONT_MATTER.search(src.section)}
    passages = {r: (src.text, src.score, r in front) for r, src in by_rank.items()}
    rows = sentence_rows(facts, cands, sims, overlaps, passages, entities or {})
    if models is not None:
        values = raw = models.sentence.logits(rows)
        # A wh-question presupposes what it asks about ("why does Iran see Azerbaijan as a threat"); a
        # sentence denying one of its words ("Iran does not see a threat from …") cannot answer it.
        values = values - cfg.denial_penalty * rows[:, SENTENCE_FEATURES.index("negated_term")]
    else:
        bonus = {r: cfg.front_matter_bonus for r in front} if plan.kind is Kind.METADATA else {}
        values = np.asarray(
            [
                float(sim) + cfg.lexical_weight * ov + cfg.rank_weight / c[0] + bonus.get(c[0], 0.0)
                for c, sim, ov in zip(cands, sims, overlaps, strict=True)
            ]
        )
        raw = values
    scored = [
        Candidate(rank, a, b, sent, float(v), float(sim), ov)
        for (rank, a, b, sent), v, sim, ov in zip(cands, values, sims, overlaps, strict=True)
    ]
    order = [int(i) for i in np.argsort([-c.score for c in scored], kind="stable")]
    best = scored[order[0]]
    margin = best.score - float(np.median([c.score for c in scored]))
    by_record = False  # a metadata answer the record gives by itself
    if plan.kind is Kind.CITATION:
        text, used = citation_answer(scored, order, by_rank, cfg)
    else:
        chosen = _select(scored, order, s, cfg, keep_within)
        if plan.why:
            chosen = _with_following_sentences(chosen, scored, cfg)
        docs = names.referenced(question)
        if len(docs) > 1 or plan.compound:
            chosen = _spread(chosen, scored, order, s, by_rank, docs, cfg)
        used = _readable(chosen)
        line = ""
        if plan.kind is Kind.METADATA:
            line, by_record = metadata_line(question, sources, records)
        if line:
            used = used[:2]  # the catalog line comes first; keep the whole answer within 3 sentences
        text = " ".join([line] + [f"{ensure_period(c.text)} [{c.source_rank}]" for c in used])
    top5 = [scored[i] for i in order[:5]]
    sentence_coverage = max(overlaps)
    judge = judge_row(
        plan, rows, raw,
        float(np.max(sims)), coverage, sentence_coverage, passage_support, quantity_support, len(unknown),
    )  # fmt: skip
    return Composed(
        text.strip(),
        used,
        float(np.max(sims)),
        kind,
        coverage,
        best_coverage,
        unknown,
        margin,
        best.score,
        sentence_coverage=sentence_coverage,
        expects_number=plan.expects_number,
        number_support=not plan.expects_number or any(NUMBER.search(c.text) for c in top5),
        answered_by_record=by_record,
        candidates=scored,
        features=rows,
        judge=judge,
        passage_support=passage_support,
        quantity_support=quantity_support,
    )


def _coverage(terms: set[str], sources: Sequence[Source], lex: Lexicon) -> tuple[float, float]:
    if not terms:
        return 1.0, 1.0
    weights = {t: lex.idf(t) for t in terms}
    total = sum(weights.values()) or 1.0
    per = [content_words(s.text) for s in sources]
    union: set[str] = set().union(*per) if per else set()
    cov = sum(w for t, w in weights.items() if t in union) / total
    best = max((sum(w for t, w in weights.items() if t in p) / total for p in per), default=0.0)
    return cov, best


def _select(
    scored: list[Candidate], order: list[int], vecs: np.ndarray, cfg: AnswerSettings, keep_within: float
) -> list[Candidate]:
    chosen: list[int] = []
    best = scored[order[0]].score
    for i in order:
        c = scored[i]
        if len(chosen) >= cfg.max_sentences or c.score < best - keep_within:
            break
        if any(
            float(vecs[i] @ vecs[j]) > cfg.duplicate_similarity or _same_words(c, scored[j]) for j in chosen
        ):
            continue
        chosen.append(i)
    return [scored[i] for i in chosen]


def _with_following_sentences(
    chosen: list[Candidate], scored: list[Candidate], cfg: AnswerSettings
) -> list[Candidate]:
    """For why-questions the reason often follows the sentence that matches the question: quote the
    ``why_following`` sentences after it, dropping the weakest other sentences to make room."""
    if not chosen:
        return chosen
    top = chosen[0]
    after = sorted(
        (c for c in scored if c.source_rank == top.source_rank and c.start >= top.end), key=lambda c: c.start
    )
    following = [c for c in after[: cfg.why_following] if c not in chosen]
    if not following:
        return chosen
    keep = chosen[: max(1, cfg.max_sentences - len(following))]
    return [*keep, *following]


def _spread(
    chosen: list[Candidate],
    scored: list[Candidate],
    order: list[int],
    vecs: np.ndarray,
    by_rank: Mapping[int, Source],
    docs: list[str],
    cfg: AnswerSettings,
) -> list[Candidate]:
    """A two-part question: make sure each named document (or else a second passage) is quoted."""
    limit = max(cfg.max_sentences, 4)
    have_docs = {by_rank[c.source_rank].doc_id for c in chosen}
    have_ranks = {c.source_rank for c in chosen}
    wanted = [d for d in docs if d not in have_docs]
    out = list(chosen)
    for i in order:
        if len(out) >= limit or (not wanted and len(have_ranks) > 1):
            break
        c = scored[i]
        doc = by_rank[c.source_rank].doc_id
        fits = doc in wanted if wanted else c.source_rank not in have_ranks
        if (
            not fits
            or c in out
            or any(float(vecs[i] @ vecs[scored.index(o)]) > cfg.duplicate_similarity for o in out)
        ):
            continue
        out.append(c)
        have_ranks.add(c.source_rank)
        if doc in wanted:
            wanted.remove(doc)
    return out


def _same_words(a: Candidate, b: Candidate) -> bool:
    wa, wb = content_words(a.text), content_words(b.text)
    return bool(wa and wb) and len(wa & wb) / min(len(wa), len(wb)) > 0.8


def _readable(chosen: list[Candidate]) -> list[Candidate]:
    """Best passage first; sentences of one passage in their reading order."""
    first: dict[int, int] = {}
    for i, c in enumerate(chosen):
        first.setdefault(c.source_rank, i)
    return sorted(chosen, key=lambda c: (first[c.source_rank], c.start))
