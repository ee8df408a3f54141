"""Answer stage: a short extractive answer whose every sentence carries its source's ``[n]``.

Sentences are quoted exactly from the retrieved passages (repaired text included); nothing is
generated. Candidates are scored by the embedder at sentence level, lexical overlap with the
question, and the rank of their passage; near-duplicates are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .chunk import sentence_spans
from .embed import SentenceTransformerEmbedding

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
STOPWORDS = frozenset(
    """a an and are as at be by did do does for from had has have how in is it its of on or that the
    their them they this to was were what when where which who whom whose why will with would about
    into than then there these those been being can could should may might also not no but if so""".split()
)


def content_words(text: str) -> set[str]:
    return {w for w in (m.group().lower() for m in _WORD.finditer(text)) if w not in STOPWORDS and len(w) > 1}


@dataclass(frozen=True)
class Candidate:
    source_rank: int  # 1-based rank of the passage
    start: int  # span in the passage text
    end: int
    text: str
    score: float


@dataclass(frozen=True)
class Composed:
    text: str
    used: list[Candidate]
    best_similarity: float


def compose_answer(
    question: str,
    passages: list[tuple[int, str]],
    embedding: SentenceTransformerEmbedding,
    max_sentences: int = 3,
    min_chars: int = 25,
) -> Composed:
    """Pick up to ``max_sentences`` sentences from ``passages`` ((rank, text) pairs) for ``question``."""
    cands: list[tuple[int, int, int, str]] = []
    for rank, text in passages:
        for a, b in sentence_spans(text):
            sent = text[a:b].strip()
            if len(sent) < min_chars:
                continue
            lead = len(text[a:b]) - len(text[a:b].lstrip())
            cands.append((rank, a + lead, a + lead + len(sent), sent))
    if not cands:
        return Composed("", [], 0.0)
    vecs = embedding.encode([question] + [c[3] for c in cands])
    q, s = vecs[0], vecs[1:]
    sims = s @ q
    qwords = content_words(question)
    scored: list[Candidate] = []
    for (rank, a, b, sent), sim in zip(cands, sims, strict=True):
        overlap = len(qwords & content_words(sent)) / max(1, len(qwords))
        score = float(sim) + 0.35 * overlap + 0.08 / rank
        scored.append(Candidate(rank, a, b, sent, score))
    order = np.argsort([-c.score for c in scored])
    chosen: list[int] = []
    best = scored[int(order[0])].score
    for i in order:
        c = scored[int(i)]
        if len(chosen) >= max_sentences or c.score < best - 0.2:
            break
        if any(float(s[int(i)] @ s[j]) > 0.9 for j in chosen):
            continue
        chosen.append(int(i))
    used = sorted((scored[i] for i in chosen), key=lambda c: (c.source_rank, c.start))
    text = " ".join(f"{_ensure_period(c.text)} [{c.source_rank}]" for c in used)
    return Composed(text, used, float(np.max(sims)))


def _ensure_period(sentence: str) -> str:
    return sentence if sentence[-1:] in ".!?\u201d\"')" else sentence + "."
