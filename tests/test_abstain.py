"""Abstention decision on synthetic features (no model, no store)."""

from __future__ import annotations

import pytest

from caucasus_qa.abstain import NOT_FOUND, Evidence, decide, not_found
from caucasus_qa.schema import Source
from caucasus_qa.settings import AbstainSettings, Settings


def _ev(**kw: object) -> Evidence:
    base: dict[str, object] = dict(
        best_similarity=0.8,
        coverage=1.0,
        best_coverage=1.0,
        unknown_terms=0,
        margin=1.0,
        top_score=0.7,
        sentence_coverage=1.0,
        number_support=True,
    )
    base.update(kw)
    return Evidence(**base)  # type: ignore[arg-type]


def test_strong_evidence_is_answered() -> None:
    d = decide(_ev(), Settings().abstain)
    assert not d.abstain and d.reasons == ()


def test_defaults_abstain_on_weak_similarity() -> None:
    s = Settings().abstain
    d = decide(_ev(best_similarity=s.min_similarity - 0.01), s)
    assert d.abstain and "similarity" in d.reasons[0]


@pytest.mark.parametrize(
    ("field", "value", "setting", "threshold", "word"),
    [
        ("best_similarity", 0.39, "min_similarity", 0.4, "similarity"),
        ("coverage", 0.29, "min_coverage", 0.3, "coverage"),
        ("sentence_coverage", 0.19, "min_sentence_coverage", 0.2, "sentence"),
        ("unknown_terms", 3, "max_unknown_terms", 2, "not in the corpus"),
        ("top_score", 0.01, "min_top_score", 0.02, "top passage"),
    ],
)
def test_each_floor_trips_alone(field: str, value: object, setting: str, threshold: float, word: str) -> None:
    s = AbstainSettings(**{setting: threshold})  # type: ignore[arg-type]
    assert decide(_ev(**{field: value}), s).abstain
    d = decide(_ev(**{field: value}), s)
    assert any(word in r for r in d.reasons), d.reasons
    # exactly at the threshold is not below it
    at = threshold if field != "unknown_terms" else int(threshold)
    assert not decide(_ev(**{field: at}), s).abstain


def test_missing_number_abstains_only_when_enabled() -> None:
    ev = _ev(number_support=False)
    assert decide(ev, AbstainSettings(require_number=True)).abstain
    assert not decide(ev, AbstainSettings(require_number=False)).abstain


def test_confidence_combines_similarity_and_coverage() -> None:
    s = AbstainSettings(min_confidence=0.9, coverage_weight=0.5, min_similarity=0.0)
    assert decide(_ev(best_similarity=0.6, best_coverage=0.7), s).abstain is False  # 0.95
    assert decide(_ev(best_similarity=0.6, best_coverage=0.5), s).abstain is True  # 0.85


def test_top_score_unused_by_default() -> None:
    assert Settings().abstain.min_top_score is None
    assert not decide(_ev(top_score=-5.0), Settings().abstain).abstain


def test_not_found_lists_closest_passages() -> None:
    src = [
        Source(
            rank=i,
            text="t",
            doc_id="d",
            title="T",
            authors=[],
            section="",
            references=[],
            citation=f"Cite {i}",
            score=0.1,
        )
        for i in (1, 2, 3, 4)
    ]
    text = not_found(src)
    assert text.startswith(NOT_FOUND)
    assert "[1] Cite 1" in text and "[3] Cite 3" in text and "[4]" not in text
    assert not_found([]) == NOT_FOUND
