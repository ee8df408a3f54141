"""The two small learned models: a sentence scorer and an abstention judge, logistic regressions.

Both ship as a few coefficients in ``models/scorer.json`` (package data), written by
``caucasus-qa train`` from the training split (``eval/train.jsonl``) and reproduced exactly by
running it again. Scoring is a dot product here, so answering imports no scikit-learn.

* ``sentence``: the probability that a candidate sentence holds the answer, from
  :data:`~caucasus_qa.features.SENTENCE_FEATURES`; the answer quotes the best of them.
* ``judge``: the probability that the question is *not* answered by the passages, from
  :data:`~caucasus_qa.features.JUDGE_FEATURES`; above ``threshold`` the assistant abstains. The
  threshold was set on out-of-fold predictions over the training split, for at most
  ``answer.max_false_abstention`` (3 %) false abstention on its answerable questions.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import StoreError
from .features import JUDGE_FEATURES, SENTENCE_FEATURES

DEFAULT_PATH = Path(__file__).with_name("models") / "scorer.json"


@dataclass(frozen=True)
class LinearModel:
    """Standardised features, then a logistic regression: ``logit = ((x - mean) / scale) · coef + b``."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def logits(self, rows: np.ndarray) -> np.ndarray:
        if rows.size == 0:
            return np.zeros(len(rows), dtype=np.float32)
        mean = np.asarray(self.mean, dtype=np.float32)
        scale = np.asarray(self.scale, dtype=np.float32)
        return ((rows - mean) / scale) @ np.asarray(self.coef, dtype=np.float32) + np.float32(self.intercept)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logits(rows)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LinearModel:
        return cls(
            tuple(d["features"]),
            tuple(float(x) for x in d["mean"]),
            tuple(float(x) for x in d["scale"]),
            tuple(float(x) for x in d["coef"]),
            float(d["intercept"]),
        )


@dataclass(frozen=True)
class Models:
    sentence: LinearModel
    judge: LinearModel
    threshold: float  # abstain when the judge's probability of "not answered" is above this
    meta: dict[str, Any]
    # abstain, whatever the judge says, when no sentence is even this similar to the question: the
    # training questions are all about the corpus, so the judge never saw a question off its topics
    min_similarity: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "sentence": self.sentence.to_dict(),
            "judge": self.judge.to_dict(),
            "threshold": self.threshold,
            "min_similarity": self.min_similarity,
            "meta": self.meta,
        }

    def dumps(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=True) + "\n"


@functools.lru_cache(maxsize=4)
def load_models(path: str | None = None) -> Models:
    """The models in ``path`` (default: the shipped file), checked against the feature lists."""
    where = Path(path) if path else DEFAULT_PATH
    try:
        d = json.loads(where.read_text(encoding="utf-8"))
        models = Models(
            LinearModel.from_dict(d["sentence"]),
            LinearModel.from_dict(d["judge"]),
            float(d["threshold"]),
            dict(d.get("meta", {})),
            float(d.get("min_similarity", 0.0)),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"{where}: not a scorer file ({exc}); run `caucasus-qa train`") from None
    if models.sentence.features != SENTENCE_FEATURES or models.judge.features != JUDGE_FEATURES:
        raise StoreError(f"{where}: written for other features; run `caucasus-qa train`")
    return models
