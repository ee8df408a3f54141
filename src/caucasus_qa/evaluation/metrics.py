"""Retrieval and answer metrics: pure functions over ranked passages and gold quotes.

Matching rules (all text compared after :func:`normalize_for_match`: lowercase, NFKC, quotes straightened,
punctuation removed, whitespace collapsed):

* A passage **covers** a quote when the normalised quote occurs in the normalised passage.
* **Substantial overlap** (a quote longer than the passage, or one the parser interleaved with footnote
  text): the quote's word 3-grams (shingles) are compared with the passage's; the passage covers the quote
  when the shared shingles are at least :data:`OVERLAP` (80 %) of the smaller of the two sets and there are
  at least :data:`MIN_SHARED` of them. So a 4-sentence quote split over two passages is covered by each
  passage that holds most of itself inside the quote, and a quote cut in two by an inserted reference is
  still found; a passage that merely shares a phrase is not.
* For ``citation`` questions the passage's footnote ``references`` are part of the passage.
* A quote found in *no* indexed passage of its document (``metadata`` lines: author, date and venue lines
  that the parser keeps out of the body; every returned Source carries the document's record instead) is
  matched at document level: any passage of a gold document covers it. The runner decides which quotes
  these are from the index (see ``document_level`` arguments).

Rank metrics, for one question with gold quotes Q and a ranked list of passages:

* ``hit@k``: 1 if any of the top k passages covers any quote.
* ``RR@k``: 1 / rank of the first passage that covers any quote (0 if none in the top k); MRR is the mean.
* ``evidence@k`` ("evidence recall"): 1 if every quote of Q is covered by some passage in the top k.
* ``nDCG@k``: the gain at rank r is the number of quotes first covered at r; the ideal puts one new quote
  at each of ranks 1..|Q|; the ratio is capped at 1 (one passage holding every quote scores 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .questions import normalize_for_match

OVERLAP = 0.8
MIN_SHARED = 3
SHINGLE = 3


@dataclass(frozen=True)
class Passage:
    """What a metric needs of one returned passage."""

    text: str
    doc_id: str = ""
    references: tuple[str, ...] = ()


def shingles(normalized: str, n: int = SHINGLE) -> set[tuple[str, ...]]:
    words = normalized.split()
    if len(words) < n:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def covers(quote: str, passage: str) -> bool:
    """Whether ``passage`` covers ``quote`` (both raw text): containment, or substantial shingle overlap."""
    q, p = normalize_for_match(quote), normalize_for_match(passage)
    return covers_normalized(q, p)


def covers_normalized(q: str, p: str) -> bool:
    if not q:
        return False
    if q in p:
        return True
    qs, ps = shingles(q), shingles(p)
    if not qs or not ps:
        return False
    shared = len(qs & ps)
    return shared >= MIN_SHARED and shared >= OVERLAP * min(len(qs), len(ps))


def doc_stem(name: str) -> str:
    """``000_x.txt`` → ``000_x`` (gold files name documents by file, passages by id)."""
    return name.rsplit(".", 1)[0] if "." in name else name


def coverage(
    quotes: Sequence[str],
    passages: Sequence[Passage],
    gold_docs: Sequence[str] = (),
    with_references: bool = False,
    document_level: Sequence[bool] = (),
) -> list[set[int]]:
    """For each passage (in rank order), the indexes of the quotes it covers."""
    docs = {doc_stem(d) for d in gold_docs}
    doc_level = list(document_level) + [False] * (len(quotes) - len(document_level))
    nq = [normalize_for_match(q) for q in quotes]
    out: list[set[int]] = []
    for p in passages:
        text = p.text + ("\n" + "\n".join(p.references) if with_references and p.references else "")
        np_ = normalize_for_match(text)
        got = set()
        for i, q in enumerate(nq):
            if (doc_level[i] and doc_stem(p.doc_id) in docs) or covers_normalized(q, np_):
                got.add(i)
        out.append(got)
    return out


def hit_at(cov: Sequence[set[int]], k: int) -> float:
    return 1.0 if any(cov[:k]) else 0.0


def reciprocal_rank(cov: Sequence[set[int]], k: int = 10) -> float:
    for rank, c in enumerate(cov[:k], start=1):
        if c:
            return 1.0 / rank
    return 0.0


def evidence_recall(cov: Sequence[set[int]], n_quotes: int, k: int) -> float:
    """1.0 when every quote is covered within the top ``k``, else 0.0."""
    if n_quotes == 0:
        return 0.0
    covered: set[int] = set().union(*cov[:k]) if cov[:k] else set()
    return 1.0 if len(covered) >= n_quotes else 0.0


def quote_recall(cov: Sequence[set[int]], n_quotes: int, k: int) -> float:
    """Share of the quotes covered within the top ``k``."""
    if n_quotes == 0:
        return 0.0
    covered: set[int] = set().union(*cov[:k]) if cov[:k] else set()
    return len(covered) / n_quotes


def ndcg_at(cov: Sequence[set[int]], n_quotes: int, k: int = 10) -> float:
    if n_quotes == 0:
        return 0.0
    seen: set[int] = set()
    dcg = 0.0
    for rank, c in enumerate(cov[:k], start=1):
        new = c - seen
        if new:
            dcg += len(new) / math.log2(rank + 1)
            seen |= new
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(n_quotes, k) + 1))
    return min(1.0, dcg / ideal)


def keyword_recall(answer: str, keywords: Sequence[str]) -> float:
    """Share of ``keywords`` found in ``answer`` (normalised containment)."""
    if not keywords:
        return 0.0
    a = normalize_for_match(answer)
    return sum(1 for k in keywords if normalize_for_match(k) in a) / len(keywords)


def answer_keyword_recall(answer: str, abstained: bool, keywords: Sequence[str]) -> float:
    """Keyword recall of an answer; an abstention scores 0 (its text lists the closest passages'
    citations, whose venue or author names must not count as answering)."""
    return 0.0 if abstained else keyword_recall(answer, keywords)


def answer_correct(answer: str, abstained: bool, keywords: Sequence[str], unanswerable: bool) -> bool:
    """Unanswerable: correct iff abstained. Otherwise: not abstained and every keyword present."""
    if unanswerable:
        return abstained
    return not abstained and keyword_recall(answer, keywords) == 1.0


@dataclass(frozen=True)
class AnswerOutcome:
    abstained: bool
    correct: bool
    unanswerable: bool


def answer_scores(outcomes: Sequence[AnswerOutcome]) -> dict[str, float]:
    """PaperQA-style precision (correct / answered) and accuracy (correct / all); abstention P/R.

    Abstention precision = share of abstentions that were on unanswerable questions; recall = share of
    unanswerable questions abstained on; false abstention = share of answerable questions abstained
    on. An abstention on an unanswerable question counts as correct for accuracy but not as
    "answered" for precision.
    """
    n = len(outcomes)
    answered = [o for o in outcomes if not o.abstained]
    abst = [o for o in outcomes if o.abstained]
    unans = [o for o in outcomes if o.unanswerable]
    answerable = [o for o in outcomes if not o.unanswerable]
    return {
        "precision": _ratio(sum(o.correct for o in answered), len(answered)),
        "accuracy": _ratio(sum(o.correct for o in outcomes), n),
        "abstention_precision": _ratio(sum(o.unanswerable for o in abst), len(abst)),
        "abstention_recall": _ratio(sum(o.abstained for o in unans), len(unans)),
        "false_abstention": _ratio(sum(o.abstained for o in answerable), len(answerable)),
        "answered": float(len(answered)),
    }


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (``q`` in 0..100) of ``values``; 0 for none."""
    if not values:
        return 0.0
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0
