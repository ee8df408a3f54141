"""General features of candidate answer sentences, and of a whole draft answer, for the learned models.

Every feature is about the relation between a question and a sentence, never about particular
words of this corpus: how similar they are, how much of the question's weighted vocabulary the
sentence holds, where its passage ranked, whether it holds an entity of the type the question
expects that the question does not already name, whether its countries and actors agree with the
question's, where it stands in its passage. :mod:`caucasus_qa.scorer` weighs them with
coefficients fitted on the training split (``caucasus-qa train``).
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .entities import Entity, has_model_code, has_number, has_year
from .focus import keys_in, question_entities
from .query import AnswerType, Kind, QueryPlan

SENTENCE_FEATURES: tuple[str, ...] = (
    "similarity",  # cosine between the question and the sentence
    "overlap",  # IDF-weighted share of the question's terms in the sentence
    "inverse_rank",  # 1 / rank of the sentence's passage
    "passage_score",  # the passage's cosine with the question
    "type_match",  # expects a typed answer, and the sentence has a new entity of that type
    "type_missing",  # expects a typed answer, and the sentence has none
    "reason_cue",  # a why-question, and the sentence gives a cause or motive
    "enumeration",  # a list question, and the sentence enumerates
    "entity_agreement",  # share of the question's named actors the sentence names
    "passage_agreement",  # same, over the sentence's passage
    "foreign_entities",  # actors the sentence names that the question does not (capped at 3, /3)
    "focus_in_sentence",  # the head noun of the question's focus phrase occurs in the sentence
    "position",  # sentence index in its passage / sentences in it
    "first_in_passage",
    "negation",  # "not", "no", "never": a denial rarely answers
    "length",  # characters / 300, capped at 1
    "front_matter",  # a metadata question, and the sentence opens its document or an author section
)

JUDGE_FEATURES: tuple[str, ...] = (
    "best_logit",  # the sentence model's best candidate
    "second_logit",
    "best_similarity",
    "coverage",  # IDF-weighted share of the question's terms anywhere in the passages
    "sentence_coverage",  # the best share within one sentence
    "typed",  # the question expects a person, organisation, place, date, figure, model or quote
    "typed_found",  # ... and one of the three best sentences holds it
    "best_agreement",  # entity agreement of the best sentence
    "passage_support",  # the question's actors all occur together in one passage
    "quantity_support",  # a quantity question has a number beside what it counts
    "unknown_terms",  # question terms found nowhere in the corpus (capped at 3, /3)
    "citation",
    "metadata",
)

_REASON = re.compile(
    r"\b(?:because|since|due to|owing to|as a result|result of|given that|in order to|so as to|so that|"
    r"aim(?:s|ed)? (?:to|at)|seek(?:s|ing)? to|sought to|fear(?:s|ed)?|concern(?:s|ed)?|threat\w*|"
    r"therefore|thus|hence|reason\w*|motiv\w*|driven by|stems? from|rooted in|for fear|worr(?:y|ies|ied))\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(?:not|no|never|neither|nor|n't|cannot)\b", re.IGNORECASE)
_QUOTATION = re.compile(r"[“\"][^”\"]{12,}[”\"]")
_ENUMERATION = re.compile(r",[^,]+,|\band\b.*\band\b|;|:")
_TYPE_CLASSES: dict[AnswerType, frozenset[str]] = {
    AnswerType.PERSON: frozenset({"PERSON"}),
    AnswerType.ORG: frozenset({"ORG"}),
    AnswerType.PLACE: frozenset({"PLACE"}),
    AnswerType.DATE: frozenset({"DATE"}),
    AnswerType.NUMBER: frozenset({"NUMBER"}),
    AnswerType.PRODUCT: frozenset({"PRODUCT", "ORG"}),
}


@dataclass(frozen=True)
class QuestionFacts:
    """What the features need of the question, computed once per question."""

    plan: QueryPlan
    keys: frozenset[str]  # the question's named actors, as alias keys (Tehran, Iranian → iran)
    question_lower: str
    focus_stem: str

    @classmethod
    def of(cls, plan: QueryPlan, ignore: Container[str]) -> QuestionFacts:
        keys = set(question_entities(plan.question, ignore))
        focus = plan.focus.lower()
        return cls(plan, frozenset(keys), plan.question.lower(), focus[:5] if len(focus) > 3 else "")


def typed(plan: QueryPlan) -> bool:
    return plan.typed or plan.answer_type is AnswerType.QUOTE


def type_match(facts: QuestionFacts, text: str, entities: Sequence[Entity], offset: int) -> bool:
    """The sentence ``text`` (at ``offset`` in its passage) holds what the question's type asks for,
    and not only entities the question already names."""
    kind = facts.plan.answer_type
    if kind is AnswerType.QUOTE:
        return bool(_QUOTATION.search(text))
    wanted = _TYPE_CLASSES.get(kind)
    if wanted is None:
        return False
    for a, b, cls in entities:
        if cls in wanted:
            name = text[a - offset : b - offset].lower().removeprefix("the ").strip()
            if name and name not in facts.question_lower:
                return True
    if kind is AnswerType.DATE:
        return any(y not in facts.question_lower for y in re.findall(r"\b(?:1[5-9]|20)\d\d\b", text))
    if kind is AnswerType.NUMBER:
        return (has_number(text) and not has_year(text)) or bool(
            re.search(r"\d[\d,.]*\s*(?:%|percent)", text)
        )
    if kind is AnswerType.PRODUCT:
        return has_model_code(text)
    return False


def sentence_rows(
    facts: QuestionFacts,
    cands: Sequence[tuple[int, int, int, str]],
    sims: np.ndarray,
    overlaps: Sequence[float],
    passages: Mapping[int, tuple[str, float, bool]],
    entities: Mapping[int, Sequence[Entity]],
) -> np.ndarray:
    """One row of :data:`SENTENCE_FEATURES` per candidate ``(rank, start, end, text)``.

    ``passages``: rank -> (text, score, is front matter); ``entities``: rank -> spans in its text.
    """
    plan = facts.plan
    counts: dict[int, int] = {}
    for rank, *_ in cands:
        counts[rank] = counts.get(rank, 0) + 1
    seen: dict[int, int] = {}
    passage_keys = {r: keys_in(t) for r, (t, _, _) in passages.items()}
    wants_type = typed(plan)
    rows = np.zeros((len(cands), len(SENTENCE_FEATURES)), dtype=np.float32)
    for i, ((rank, a, b, text), sim, overlap) in enumerate(zip(cands, sims, overlaps, strict=True)):
        index = seen.get(rank, 0)
        seen[rank] = index + 1
        _, score, front = passages[rank]
        ents = [e for e in entities.get(rank, ()) if e[0] >= a and e[1] <= b]
        match = wants_type and type_match(facts, text, ents, a)
        keys = keys_in(text)
        agree = _agreement(facts.keys, keys)
        places = {text[x - a : y - a].lower() for x, y, c in ents if c in ("PLACE", "NORP")}
        foreign = {k for p in places for k in keys_in(p)} - facts.keys
        rows[i] = (
            float(sim),
            float(overlap),
            1.0 / rank,
            float(score),
            float(match),
            float(wants_type and not match),
            float(plan.answer_type is AnswerType.REASON and bool(_REASON.search(text))),
            float(plan.answer_type is AnswerType.LIST and bool(_ENUMERATION.search(text))),
            agree,
            _agreement(facts.keys, passage_keys[rank]),
            min(len(foreign), 3) / 3.0 if facts.keys else 0.0,
            float(bool(facts.focus_stem) and facts.focus_stem in text.lower()),
            index / max(1, counts[rank]),
            float(index == 0),
            float(bool(_NEGATION.search(text))),
            min(1.0, len(text) / 300.0),
            float(plan.kind is Kind.METADATA and front),
        )
    return rows


def _agreement(wanted: frozenset[str], keys: set[str]) -> float:
    if not wanted:
        return 1.0
    return sum(1 for w in wanted if w in keys or all(p in keys for p in w.split())) / len(wanted)


def judge_row(
    plan: QueryPlan,
    rows: np.ndarray,
    logits: np.ndarray,
    best_similarity: float,
    coverage: float,
    sentence_coverage: float,
    passage_support: bool,
    quantity_support: bool,
    unknown_terms: int,
) -> np.ndarray:
    """The row of :data:`JUDGE_FEATURES` for one draft answer (``rows``: its candidates' features)."""
    order = np.argsort(-logits, kind="stable") if len(logits) else np.zeros(0, dtype=int)
    best = float(logits[order[0]]) if len(order) else -10.0
    second = float(logits[order[1]]) if len(order) > 1 else best
    col = SENTENCE_FEATURES.index
    wants = typed(plan)
    found = bool(len(order)) and bool(rows[order[:3], col("type_match")].max() > 0)
    agreement = float(rows[order[0], col("entity_agreement")]) if len(order) else 0.0
    return np.asarray(
        [
            best,
            second,
            best_similarity,
            coverage,
            sentence_coverage,
            float(wants),
            float(wants and found),
            agreement,
            float(passage_support),
            float(quantity_support),
            min(unknown_terms, 3) / 3.0,
            float(plan.kind is Kind.CITATION),
            float(plan.kind is Kind.METADATA),
        ],
        dtype=np.float32,
    )
