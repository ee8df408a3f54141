"""General features of candidate answer sentences, and of a whole draft answer, for the learned models.

Every feature is about the relation between a question and a sentence, never about particular
words of this corpus: how similar they are, how much of the question's weighted vocabulary the
sentence holds, where its passage ranked, whether it holds an entity of the type the question
expects that the question does not already name, whether its countries and actors agree with the
question's, where it stands in its passage. :mod:`caucasus_qa.scorer` weighs them with
coefficients fitted on the training split (``caucasus-qa train``).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .entities import Entity
from .focus import keys_in, question_entities
from .lexicon import content_words, stem
from .query import AnswerType, Kind, QueryPlan
from .query_words import asks_absence

SENTENCE_FEATURES: tuple[str, ...] = (
    "similarity",  # cosine between the question and the sentence
    "overlap",  # IDF-weighted share of the question's terms in the sentence
    "similarity_gap",  # similarity minus the best similarity among the candidates (ranking within a question)
    "overlap_gap",  # same for the overlap
    "inverse_rank",  # 1 / rank of the sentence's passage
    "passage_score",  # the passage's cosine with the question
    "type_match",  # expects a typed answer, and the sentence has a new entity of that type
    "type_missing",  # expects a typed answer, and the sentence has none
    "type_near_focus",  # ... within a few words of the focus noun (else of a question term)
    "type_near_terms",  # ... or within a few words of any of the question's content words but its names
    "reason_cue",  # a why-question, and the sentence gives a cause or motive
    "enumeration",  # a list question, and the sentence enumerates
    "entity_agreement",  # share of the question's named actors the sentence names
    "passage_agreement",  # same, over the sentence's passage
    "foreign_entities",  # actors the sentence names that the question does not (capped at 3, /3)
    "focus_in_sentence",  # the head noun of the question's focus phrase occurs in the sentence
    "position",  # sentence index in its passage / sentences in it
    "first_in_passage",
    "negated_term",  # a negation just before one of the question's words it does not negate itself
    "length",  # characters / 300, capped at 1
    "front_matter",  # a metadata question, and the sentence opens its document or an author section
)

JUDGE_FEATURES: tuple[str, ...] = (
    "best_logit",  # the sentence model's best candidate
    "second_logit",
    "best_similarity",
    "coverage",  # IDF-weighted share of the question's terms anywhere in the passages
    "sentence_coverage",  # the best share within one sentence
    "typed",  # the question expects a named thing, a date, a figure or a quote
    "typed_found",  # ... and one of the three best sentences holds it
    "typed_best_near",  # ... and the best sentence holds it beside the focus noun or a question term
    "typed_top3_near",  # ... the same for one of the three best sentences
    "typed_best_near_terms",  # the best sentence holds the type beside some question word
    "typed_gap",  # best logit minus the best logit of a sentence holding the type near the focus (capped 5)
    "typed_support",  # some sentence holds the type near the focus and names all the question's actors
    "best_agreement",  # entity agreement of the best sentence
    "passage_support",  # the question's actors all occur together in one passage
    "quantity_support",  # a quantity question has a number beside what it counts
    "unknown_terms",  # question terms found nowhere in the corpus (capped at 3, /3)
    "citation",
    "metadata",
)

# causal connectives and motive words (not topical words such as "threat", which answer nothing by themselves)
_REASON = re.compile(
    r"\b(?:because|since|due to|owing to|as a result|result of|given that|in order to|so as to|so that|"
    r"aim(?:s|ed)? (?:to|at)|seek(?:s|ing)? to|sought to|therefore|thus|hence|reasons?|motiv\w*|"
    r"driven by|stems? from|rooted in|for fear|leads? to|led to|caused by|fuel(?:s|ed|led)? by)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(?:not|no|never|neither|nor|cannot)\b", re.IGNORECASE)
_QUOTATION = re.compile(r"[“\"][^”\"]{12,}[”\"]")
_ENUMERATION = re.compile(r",[^,]+,|\band\b.*\band\b|;|:")
_YEAR = re.compile(r"\b(?:1[5-9]|20)\d\d\b")
# a figure that is not a year: digits with their separators, a percentage, or a spelled-out count
_FIGURE = re.compile(
    r"\b(?!(?:1[5-9]|20)\d\d\b)\d[\d,.]*\s*(?:%|percent)?|\b(?:two|three|four|five|six|seven|eight|nine|ten"
    r"|eleven|twelve|twenty|thirty|forty|fifty|hundreds?|thousands?|millions?|billions?|dozens?)\b",
    re.IGNORECASE,
)
_MODEL_CODE = re.compile(r"\b[A-Z][A-Za-z]*-?\d+[A-Za-z]?\b")
_NAMED_NOUN = re.compile(r"\b([A-Z][\w-]+)\s+([a-z]\w+)")
_WORD = re.compile(r"[^\W_]+(?:[’'][^\W_]+)*")
NEAR_WORDS = 8  # "a gunman, [Name], killed …": the answer stands within a clause of what it names
_TYPE_CLASSES: dict[AnswerType, frozenset[str]] = {
    AnswerType.PERSON: frozenset({"PERSON"}),
    AnswerType.ORG: frozenset({"ORG"}),
    AnswerType.PLACE: frozenset({"PLACE"}),
    AnswerType.DATE: frozenset({"DATE"}),
    AnswerType.NUMBER: frozenset({"NUMBER"}),
    AnswerType.PRODUCT: frozenset({"PRODUCT", "ORG"}),
    # the name of an exercise, an operation, a treaty: named events, works and products, not people or places
    AnswerType.NAME: frozenset({"PRODUCT", "EVENT", "WORK", "ORG"}),
}
_QUOTED_NAME = re.compile(r"[“\"]([^”\"]{3,60})[”\"]")  # "Turkish-Azerbaijani Eagle 2020"


@dataclass(frozen=True)
class QuestionFacts:
    """What the features need of the question, computed once per question."""

    plan: QueryPlan
    keys: frozenset[str]  # the question's named actors, as alias keys (Tehran, Iranian → iran)
    question_lower: str
    focus_stem: str
    # where the answer should stand: the focus noun ("commander"), else the question's content words
    # that are not its named actors ("commanded", "operation")
    terms: frozenset[str]
    words: frozenset[str]  # the question's content words but its named actors
    affirmative: bool  # the question negates nothing

    @classmethod
    def of(cls, plan: QueryPlan, ignore: Container[str], terms: Iterable[str] = ()) -> QuestionFacts:
        keys = frozenset(question_entities(plan.question, ignore))
        focus = plan.focus.lower()
        focus_stem = stem(focus) if len(focus) > 3 else ""
        named = {stem(w) for k in keys for w in k.split()}
        anchors = frozenset({focus_stem} if focus_stem else set(terms) - named)
        words = frozenset(set(terms) - named) | anchors
        affirmative = not asks_absence(plan.question)
        return cls(plan, keys, plan.question.lower(), focus_stem, anchors, words, affirmative)


def typed(plan: QueryPlan) -> bool:
    return plan.typed or plan.answer_type is AnswerType.QUOTE


def typed_spans(
    facts: QuestionFacts, text: str, entities: Sequence[Entity], offset: int
) -> list[tuple[int, int]]:
    """Spans in ``text`` (at ``offset`` in its passage) of what the question's type asks for, leaving
    out entities the question already names."""
    kind = facts.plan.answer_type
    if kind is AnswerType.QUOTE:
        return [m.span() for m in _QUOTATION.finditer(text)]
    wanted = _TYPE_CLASSES.get(kind)
    if wanted is None:
        return []
    out = []
    for a, b, cls in entities:
        if cls in wanted:
            name = text[a - offset : b - offset].lower().removeprefix("the ").strip()
            if name and name not in facts.question_lower:
                out.append((a - offset, b - offset))
    pattern = {
        AnswerType.DATE: _YEAR,
        AnswerType.NUMBER: _FIGURE,
        AnswerType.PRODUCT: _MODEL_CODE,
        AnswerType.NAME: _QUOTED_NAME,
    }.get(kind)
    if pattern is not None:
        out += [m.span() for m in pattern.finditer(text) if m.group().lower() not in facts.question_lower]
    if kind in (AnswerType.PRODUCT, AnswerType.ORG, AnswerType.NAME) and facts.focus_stem:
        # a proper name right before the focus noun names its kind: "Harop drones", "Elbit Systems"
        for m in _NAMED_NOUN.finditer(text):
            if stem(m.group(2)) == facts.focus_stem and m.group(1).lower()[:5] not in facts.question_lower:
                out.append(m.span(1))
    return out


def _near(
    anchor_stems: frozenset[str], text: str, spans: Sequence[tuple[int, int]], window: int = NEAR_WORDS
) -> bool:
    """One of ``spans`` within ``window`` words of one of ``anchor_stems``."""
    if not spans or not anchor_stems:
        return False
    words = [(m.start(), stem(m.group())) for m in _WORD.finditer(text)]
    anchors = [i for i, (_, w) in enumerate(words) if w in anchor_stems]
    if not anchors:
        return False
    starts = [a for a, _ in words]
    for a, b in spans:
        first = bisect.bisect_right(starts, a) - 1
        last = bisect.bisect_left(starts, b) - 1
        if any(first - window <= i <= last + window and not first <= i <= last for i in anchors):
            return True
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
    top_sim = float(np.max(sims)) if len(cands) else 0.0
    top_overlap = max(overlaps, default=0.0)
    for i, ((rank, a, b, text), sim, overlap) in enumerate(zip(cands, sims, overlaps, strict=True)):
        index = seen.get(rank, 0)
        seen[rank] = index + 1
        _, score, front = passages[rank]
        ents = [e for e in entities.get(rank, ()) if e[0] >= a and e[1] <= b]
        spans = typed_spans(facts, text, ents, a) if wants_type else []
        match = bool(spans)
        keys = keys_in(text)
        stems = content_words(text) if facts.focus_stem else frozenset()
        agree = _agreement(facts.keys, keys)
        places = {text[x - a : y - a].lower() for x, y, c in ents if c in ("PLACE", "NORP")}
        foreign = {k for p in places for k in keys_in(p)} - facts.keys
        rows[i] = (
            float(sim),
            float(overlap),
            float(sim) - top_sim,
            float(overlap) - top_overlap,
            1.0 / rank,
            float(score),
            float(match),
            float(wants_type and not match),
            float(match and _near(facts.terms, text, spans)),
            float(match and _near(facts.words, text, spans)),
            float(plan.answer_type is AnswerType.REASON and bool(_REASON.search(text))),
            float(plan.answer_type is AnswerType.LIST and bool(_ENUMERATION.search(text))),
            agree,
            _agreement(facts.keys, passage_keys[rank]),
            min(len(foreign), 3) / 3.0 if facts.keys else 0.0,
            float(bool(facts.focus_stem) and facts.focus_stem in stems),
            index / max(1, counts[rank]),
            float(index == 0),
            float(facts.affirmative and _negates(facts.words, text)),
            min(1.0, len(text) / 300.0),
            float(plan.kind is Kind.METADATA and front),
        )
    return rows


def _negates(anchor_stems: frozenset[str], text: str, window: int = 3) -> bool:
    """A negation within ``window`` words before one of ``anchor_stems`` ("does not see a threat")."""
    if not _NEGATION.search(text):  # most sentences deny nothing: no need to split and stem them
        return False
    words = [m.group() for m in _WORD.finditer(text)]
    negations = [i for i, w in enumerate(words) if _NEGATION.fullmatch(w)]
    return any(
        stem(words[j]) in anchor_stems
        for i in negations
        for j in range(i + 1, min(len(words), i + 1 + window))
    )


def _agreement(wanted: frozenset[str], keys: frozenset[str]) -> float:
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
    best_near = bool(len(order)) and bool(rows[order[0], col("type_near_focus")] > 0)
    top3_near = bool(len(order)) and bool(rows[order[:3], col("type_near_focus")].max() > 0)
    near = rows[:, col("type_near_focus")] > 0 if len(order) else np.zeros(0, dtype=bool)
    gap = min(5.0, best - float(logits[near].max())) if near.any() else 5.0
    best_near_terms = bool(len(order)) and bool(rows[order[0], col("type_near_terms")] > 0)
    support = bool(near.any()) and bool((rows[near, col("entity_agreement")] >= 1.0).any())
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
            float(wants and best_near),
            float(wants and top3_near),
            float(wants and best_near_terms),
            gap if wants else 0.0,
            float(wants and support),
            agreement,
            float(passage_support),
            float(quantity_support),
            min(unknown_terms, 3) / 3.0,
            float(plan.kind is Kind.CITATION),
            float(plan.kind is Kind.METADATA),
        ],
        dtype=np.float32,
    )
