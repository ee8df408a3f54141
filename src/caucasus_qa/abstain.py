"""Judge stage: does the draft answer the question, or should the assistant abstain, and why?

With the learned models (the default, :mod:`caucasus_qa.scorer`) a calibrated logistic regression
over the draft's :data:`~caucasus_qa.features.JUDGE_FEATURES` gives the probability that the
passages do *not* answer; above the threshold fitted on the training split (at most 5 % false
abstention there) the assistant abstains, and :func:`explain` names what was missing: "asks for a
person's name; no person is named in the best sentences near 'commander'". Without a models file the
hand-set floors below decide, as before the models existed.

The hand-set floors:

Features (all computed by the answer stage, none tied to the retriever's score scale):

* ``best_similarity`` – cosine between the question and its closest sentence (same embedder, always
  in [-1, 1] whatever the retriever reports);
* ``coverage`` – IDF-weighted share of the question's content words (stemmed; meta words such as
  "article" and author names left out) found anywhere in the passages; ``best_coverage`` the same in
  the single best-covering passage;
* ``unknown_terms`` – question content words that occur nowhere in the indexed corpus;
* ``margin`` – best sentence score minus the median candidate sentence score.

``top_score`` (the first passage's retrieval score) is recorded for inspection only; with hybrid
fusion its scale changes, so no threshold uses it unless ``abstain.min_top_score`` is set.

A question is answered when the evidence is strong on the combined ``confidence`` (similarity plus
weighted coverage) and passes each floor; thresholds live in :class:`~caucasus_qa.settings.AbstainSettings`
and were calibrated on the ``dev`` split of ``eval/questions.jsonl``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .answer import Composed
from .features import JUDGE_FEATURES, typed
from .query import TYPE_NOUN, QueryPlan
from .schema import Source
from .scorer import Models
from .settings import AbstainSettings


@dataclass(frozen=True)
class Evidence:
    best_similarity: float
    coverage: float
    best_coverage: float
    unknown_terms: int
    margin: float
    top_score: float = 0.0
    kind: str = "general"
    sentence_coverage: float = 0.0
    number_support: bool = True
    entity_support: bool = True  # the question's named things occur together in one passage
    quantity_support: bool = True  # a quantity question has a number beside what it counts

    def confidence(self, coverage_weight: float) -> float:
        return self.best_similarity + coverage_weight * self.best_coverage

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Decision:
    abstain: bool
    reasons: tuple[str, ...] = ()
    confidence: float = 0.0


def decide(ev: Evidence, s: AbstainSettings) -> Decision:
    """Abstain when any floor fails; ``reasons`` names each failed floor."""
    conf = ev.confidence(s.coverage_weight)
    reasons: list[str] = []
    if ev.best_similarity < s.min_similarity:
        reasons.append(f"best sentence similarity {ev.best_similarity:.2f} < {s.min_similarity:.2f}")
    if ev.coverage < s.min_coverage:
        reasons.append(f"question coverage {ev.coverage:.2f} < {s.min_coverage:.2f}")
    if conf < s.min_confidence:
        reasons.append(f"confidence {conf:.2f} < {s.min_confidence:.2f}")
    if ev.unknown_terms > s.max_unknown_terms:
        reasons.append(f"{ev.unknown_terms} question terms not in the corpus > {s.max_unknown_terms}")
    if ev.sentence_coverage < s.min_sentence_coverage:
        reasons.append(f"best sentence coverage {ev.sentence_coverage:.2f} < {s.min_sentence_coverage:.2f}")
    if s.require_number and not ev.number_support:
        reasons.append("a number is asked for and none of the best sentences has one")
    if s.require_entities and not ev.entity_support:
        reasons.append("no passage mentions all the names in the question")
    if s.require_quantity and not ev.quantity_support:
        reasons.append("a quantity is asked for and no sentence has a number beside what it counts")
    if s.min_top_score is not None and ev.top_score < s.min_top_score:
        reasons.append(f"top passage score {ev.top_score:.3f} < {s.min_top_score:.3f}")
    return Decision(bool(reasons), tuple(reasons), conf)


NOT_FOUND = "The corpus does not appear to answer this question."


def evidence(
    composed: Composed, top_score: float = 0.0, entity_support: bool = True, quantity_support: bool = True
) -> Evidence:
    """The features of one composed answer (see :mod:`caucasus_qa.answer`)."""
    return Evidence(
        best_similarity=round(float(composed.best_similarity), 4),
        coverage=round(float(composed.coverage), 4),
        best_coverage=round(float(composed.best_coverage), 4),
        unknown_terms=len(composed.unknown_terms),
        margin=round(float(composed.margin), 4),
        top_score=float(top_score),
        kind=composed.kind,
        sentence_coverage=round(float(composed.sentence_coverage), 4),
        number_support=composed.number_support,
        entity_support=entity_support,
        quantity_support=quantity_support,
    )


def not_found(sources: Sequence[Source], listed: int = 3) -> str:
    """The abstention text, still pointing at the closest passages."""
    if not sources:
        return NOT_FOUND
    closest = "; ".join(f"[{s.rank}] {s.citation}" for s in sources[:listed])
    return f"{NOT_FOUND} The closest passages are {closest}."


def judge(composed: Composed, plan: QueryPlan, models: Models) -> Decision:
    """Abstain when the judge's probability that the passages do not answer exceeds its threshold."""
    if composed.judge.size != len(JUDGE_FEATURES):
        return Decision(True, ("no sentence of the passages could be quoted",), 0.0)
    if composed.best_similarity < models.min_similarity:
        return Decision(
            True,
            (
                f"the passages are not about the question: the closest sentence has similarity "
                f"{composed.best_similarity:.2f}, below the {models.min_similarity:.2f} that nearly every "
                "answerable training question reaches",
            ),
            0.0,
        )
    p_not = float(models.judge.probabilities(composed.judge[None, :])[0])
    abstain = p_not > models.threshold
    return Decision(abstain, tuple(explain(composed, plan, p_not)) if abstain else (), 1.0 - p_not)


def explain(composed: Composed, plan: QueryPlan, p_not: float) -> list[str]:
    """What the passages lack, in words: the missing answer type first, then the other gaps."""
    f = dict(zip(JUDGE_FEATURES, composed.judge.tolist(), strict=True))
    reasons: list[str] = []
    if typed(plan) and not f["typed_top3_near"]:
        noun = TYPE_NOUN.get(plan.answer_type, "a specific answer")
        near = f" near '{plan.focus}'" if plan.focus else ""
        what = {
            "a person's name": "no person is named",
            "a date": "no date is given",
            "a figure": "no figure is given",
        }
        missing = what.get(noun, f"none is named ({noun.removeprefix('a ').removeprefix('an ')})")
        reasons.append(f"asks for {noun}; {missing} in the best sentences{near}")
    if not composed.passage_support:
        reasons.append("no passage mentions all the names in the question")
    if not composed.quantity_support:
        reasons.append("a quantity is asked for and no sentence has a number beside what it counts")
    if f["best_agreement"] < 1.0 and not reasons:
        reasons.append("the best sentence is about other actors than the question's")
    if not reasons:
        reasons.append(
            f"the closest sentence matches the question weakly (similarity {f['best_similarity']:.2f})"
        )
    reasons.append(f"answer model: {1.0 - p_not:.2f} that the passages answer it")
    return reasons
