"""``caucasus-qa train``: fit the sentence scorer and the abstention judge on the training split.

Every training question goes through the same ``Assistant.draft`` that answers users (plan,
retrieve, compose, with the hand-weighted score so that the training set does not depend on the
models being fitted). Its candidate sentences are labelled by the gold evidence: a sentence that
covers a gold quote, or holds every gold keyword the question does not already contain, is an
answer sentence. Two logistic regressions (scikit-learn) are fitted on standardised features:

* the sentence model on the candidates of the answerable questions;
* the judge on one row per question (answerable or not), from the draft's judge features with the
  new sentence model's logits; its threshold is the one that abstains on at most
  ``max_false_abstention`` of the answerable questions in 5-fold out-of-fold predictions.

Features and coefficients are rounded (4 decimals) so that running ``train`` again on the same
corpus and questions writes the same file byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..assistant import Assistant, Draft
from ..features import JUDGE_FEATURES, SENTENCE_FEATURES, judge_row
from ..scorer import LinearModel, Models
from ..settings import AnswerSettings
from .metrics import covers_normalized
from .questions import Question, normalize_for_match

DECIMALS = 4
FOLDS = 5
TARGET = AnswerSettings().max_false_abstention  # the default false-abstention budget of the judge
OFF_TOPIC = AnswerSettings().off_topic_quantile  # answerable questions under the similarity floor


@dataclass(frozen=True)
class Example:
    """One training question's draft, reduced to what fitting needs."""

    question: Question
    draft: Draft
    labels: np.ndarray  # 1 for each candidate sentence that answers, in the draft's candidate order

    @property
    def unanswerable(self) -> bool:
        return self.question.type == "unanswerable"


def sentence_labels(question: Question, draft: Draft) -> np.ndarray:
    """1 for a candidate that covers a gold quote or holds every gold keyword not in the question."""
    quotes = [normalize_for_match(q) for q in question.evidence]
    asked = normalize_for_match(question.question)
    keys = [k for k in (normalize_for_match(k) for k in question.keywords) if k and k not in asked]
    out = np.zeros(len(draft.composed.candidates), dtype=np.float32)
    for i, c in enumerate(draft.composed.candidates):
        s = normalize_for_match(c.text)
        if any(covers_normalized(q, s) or (len(s) > 30 and s in q) for q in quotes) or (
            keys and all(k in s for k in keys)
        ):
            out[i] = 1.0
    return out


def collect(
    qa: Assistant, questions: Sequence[Question], top_k: int = 10, say: Callable[[str], None] | None = None
) -> list[Example]:
    """Draft every question (``qa`` must score by hand: ``answer.learned`` off)."""
    if qa.models() is not None:
        raise ValueError("collect() needs an assistant with answer.learned off")
    out = []
    for i, q in enumerate(questions):
        draft = qa.draft(q.question, top_k=top_k)
        out.append(Example(q, draft, sentence_labels(q, draft)))
        if say is not None and (i + 1) % 50 == 0:
            say(f"  drafted {i + 1} of {len(questions)}")
    return out


def _fit(x: np.ndarray, y: np.ndarray, names: tuple[str, ...], c: float) -> LinearModel:
    from sklearn.linear_model import LogisticRegression

    x = np.round(x.astype(np.float64), DECIMALS)
    mean = np.round(x.mean(axis=0), DECIMALS)
    scale = np.round(x.std(axis=0), DECIMALS)
    scale[scale < 1e-4] = 1.0  # a constant feature: left at its mean, weight 0
    model = LogisticRegression(C=c, max_iter=5000, solver="lbfgs")
    model.fit((x - mean) / scale, y.astype(int))
    return LinearModel(
        names,
        tuple(float(v) for v in mean),
        tuple(float(v) for v in scale),
        tuple(float(round(v, DECIMALS)) for v in model.coef_[0]),
        float(round(model.intercept_[0], DECIMALS)),
    )


def _judge_rows(examples: Sequence[Example], sentence: LinearModel) -> np.ndarray:
    rows = []
    for e in examples:
        c = e.draft.composed
        if not len(c.candidates):
            rows.append(np.zeros(len(JUDGE_FEATURES), dtype=np.float32))
            continue
        logits = sentence.logits(c.features)
        rows.append(
            judge_row(
                e.draft.plan,
                c.features,
                logits,
                c.best_similarity,
                c.coverage,
                c.sentence_coverage,
                c.passage_support,
                c.quantity_support,
                len(c.unknown_terms),
            )
        )
    return np.asarray(rows, dtype=np.float32)


def fit_models(
    examples: Sequence[Example],
    max_false_abstention: float = TARGET,
    c: float = 1.0,
    folds: int = FOLDS,
    off_topic: float = OFF_TOPIC,
) -> Models:
    """The sentence model, the judge, the judge's threshold from out-of-fold predictions, and the
    similarity floor under which ``off_topic`` of the answerable questions fall."""
    sentence = _fit_sentence(examples, c)
    x = _judge_rows(examples, sentence)
    y = np.asarray([e.unanswerable for e in examples], dtype=np.float32)
    judge = _fit(x, y, JUDGE_FEATURES, c)
    oof = out_of_fold_judge(examples, c, folds)
    answerable = np.sort(oof[y == 0])
    # the smallest threshold that abstains on at most max_false_abstention of the answerable questions
    allowed = int(np.floor(max_false_abstention * len(answerable)))
    threshold = float(answerable[len(answerable) - allowed - 1]) if len(answerable) > allowed else 1.0
    meta = {
        "questions": len(examples),
        "unanswerable": int(y.sum()),
        "sentences": int(sum(len(e.labels) for e in examples if not e.unanswerable)),
        "answer_sentences": int(sum(int(e.labels.sum()) for e in examples if not e.unanswerable)),
        "max_false_abstention": max_false_abstention,
        "C": c,
    }
    sims = [float(e.draft.composed.best_similarity) for e in examples if not e.unanswerable]
    floor = round(float(np.percentile(sims, 100 * off_topic)), DECIMALS) if sims else 0.0
    return Models(sentence, judge, round(threshold, DECIMALS), meta, floor)


def _fit_sentence(examples: Sequence[Example], c: float) -> LinearModel:
    use = [e for e in examples if not e.unanswerable and len(e.labels)]
    x = np.concatenate([e.draft.composed.features for e in use])
    y = np.concatenate([e.labels for e in use])
    return _fit(x, y, SENTENCE_FEATURES, c)


def fold_of(i: int, folds: int = FOLDS) -> int:
    return i % folds


def out_of_fold_judge(examples: Sequence[Example], c: float, folds: int = FOLDS) -> np.ndarray:
    """Each question's probability of "not answered" from models fitted on the other folds."""
    out = np.zeros(len(examples), dtype=np.float64)
    for k in range(folds):
        train = [e for i, e in enumerate(examples) if fold_of(i, folds) != k]
        held = [i for i in range(len(examples)) if fold_of(i, folds) == k]
        sentence = _fit_sentence(train, c)
        x = _judge_rows(train, sentence)
        y = np.asarray([e.unanswerable for e in train], dtype=np.float32)
        judge = _fit(x, y, JUDGE_FEATURES, c)
        held_x = _judge_rows([examples[i] for i in held], sentence)
        out[held] = judge.probabilities(np.round(held_x, DECIMALS))
    return out


def fold_models(
    examples: Sequence[Example],
    max_false_abstention: float = TARGET,
    c: float = 1.0,
    folds: int = FOLDS,
    off_topic: float = OFF_TOPIC,
) -> list[Models]:
    """The models fitted without each fold (for the train-CV column of the report)."""
    return [
        fit_models(
            [e for i, e in enumerate(examples) if fold_of(i, folds) != k],
            max_false_abstention,
            c,
            folds,
            off_topic,
        )
        for k in range(folds)
    ]


def summary(models: Models) -> dict[str, Any]:
    """The fitted weights by feature name, for the terminal."""
    return {
        "sentence": dict(zip(models.sentence.features, models.sentence.coef, strict=True)),
        "judge": dict(zip(models.judge.features, models.judge.coef, strict=True)),
        "threshold": models.threshold,
        **models.meta,
    }


def cross_validated_answers(
    qa: Assistant, examples: Sequence[Example], models: Sequence[Models], top_k: int = 10
) -> dict[str, Any]:
    """Answer metrics of the training questions, each answered by the models fitted without its fold
    (``models[k]`` from :func:`fold_models`): the train-CV column of the report."""
    from . import metrics as M

    outcomes: list[M.AnswerOutcome] = []
    recalls: list[float] = []
    before = qa.models()
    try:
        for i, e in enumerate(examples):
            qa.use_models(models[fold_of(i, len(models))])
            ans = qa.ask(e.question.question, top_k=top_k)
            unans = e.unanswerable
            keys = e.question.keywords
            outcomes.append(
                M.AnswerOutcome(
                    ans.abstained, M.answer_correct(ans.answer, ans.abstained, keys, unans), unans
                )
            )
            if not unans:
                recalls.append(M.answer_keyword_recall(ans.answer, ans.abstained, keys))
    finally:
        qa.use_models(before)
    out = M.answer_scores(outcomes)
    out["keyword_recall"] = M.mean(recalls)
    out["questions"] = float(len(examples))
    return out


def train_cv(
    qa: Assistant, path: Any, top_k: int = 10, max_false_abstention: float | None = None
) -> dict[str, Any]:
    """The train-CV column: draft the training split, fit a model per fold, answer each held-out fold."""
    from .questions import load_questions

    questions = [q for q in load_questions(path) if q.split == "train"]
    before = qa.models()
    qa.use_models(None)
    try:
        examples = collect(qa, questions, top_k=top_k)
    finally:
        qa.use_models(before)
    target = qa.settings.answer.max_false_abstention if max_false_abstention is None else max_false_abstention
    off_topic = qa.settings.answer.off_topic_quantile
    return cross_validated_answers(qa, examples, fold_models(examples, target, off_topic=off_topic), top_k)
