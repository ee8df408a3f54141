"""Metric functions on hand-made rankings with known answers."""

from __future__ import annotations

import math

import pytest

from caucasus_qa.evaluation import metrics as M

Q1 = "Iran moved 50,000 troops to the border"
Q2 = "Israel buys Azerbaijani oil"


def P(text: str, doc: str = "d1", refs: tuple[str, ...] = ()) -> M.Passage:
    return M.Passage(text, doc, refs)


def test_covers_normalises_case_punctuation_and_whitespace():
    assert M.covers("Israel’s oil", "WHAT about ISRAEL'S   oil?")
    assert M.covers("initi-atives", "new initiatives")
    assert not M.covers("Israel's gas", "Israel's oil")


def test_substantial_overlap_for_a_quote_cut_by_a_footnote():
    quote = (
        "Again on September 16, 2022 Iran moved a massive 50,000 troops force along its border with Armenia"
    )
    cut = quote.replace("Iran moved", "Iran Roubanis, Old enemies, moved")
    assert M.covers(quote, cut)
    assert not M.covers(quote, "Iran moved troops to its border with Armenia in a show of force")


def test_substantial_overlap_for_a_quote_longer_than_the_passage():
    quote = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    assert M.covers(quote, "five six seven eight nine ten")  # the passage lies inside the quote
    assert not M.covers(quote, "five six seven")  # too few shared shingles


def test_rank_metrics_on_a_known_ranking():
    passages = [
        P("nothing here"),
        P("we know Iran moved 50,000 troops to the border."),
        P("Israel buys Azerbaijani oil"),
    ]
    cov = M.coverage([Q1, Q2], passages)
    assert cov == [set(), {0}, {1}]
    assert M.hit_at(cov, 1) == 0.0 and M.hit_at(cov, 2) == 1.0
    assert M.reciprocal_rank(cov, 10) == pytest.approx(0.5)
    assert M.reciprocal_rank(cov, 1) == 0.0
    assert M.evidence_recall(cov, 2, 2) == 0.0 and M.evidence_recall(cov, 2, 3) == 1.0
    assert M.quote_recall(cov, 2, 2) == 0.5
    ideal = 1 + 1 / math.log2(3)
    assert M.ndcg_at(cov, 2, 10) == pytest.approx((1 / math.log2(3) + 1 / math.log2(4)) / ideal)


def test_ndcg_is_one_for_a_perfect_ranking_and_zero_for_none():
    assert M.ndcg_at([{0}, {1}], 2) == pytest.approx(1.0)
    assert M.ndcg_at([{0, 1}], 2) == pytest.approx(1.0)  # capped: one passage holding everything
    assert M.ndcg_at([set(), set()], 1) == 0.0
    assert M.ndcg_at([{0}, {0}], 1) == pytest.approx(1.0)  # a duplicate adds nothing


def test_references_count_only_when_asked_and_document_level_quotes():
    passages = [P("A claim.", refs=("Frantzman, Jerusalem Post",))]
    assert M.coverage(["Frantzman, Jerusalem Post"], passages) == [set()]
    assert M.coverage(["Frantzman, Jerusalem Post"], passages, with_references=True) == [{0}]
    meta = M.coverage(["BY SOMEONE"], [P("x", "d2"), P("y", "d1")], ["d1.txt"], document_level=[True])
    assert meta == [set(), {0}]


def test_answer_metrics():
    assert M.keyword_recall("It was in 2015, in Syria.", ["2015", "syria", "Iran"]) == pytest.approx(2 / 3)
    assert M.answer_correct("In 2015.", False, ["2015"], unanswerable=False)
    not_found = "The corpus does not appear to answer this. The closest passages are [1] Caucasus Watch."
    assert M.answer_keyword_recall(not_found, True, ["Caucasus Watch"]) == 0.0
    assert M.answer_keyword_recall(not_found, False, ["Caucasus Watch"]) == 1.0
    assert not M.answer_correct("In 2015.", True, ["2015"], unanswerable=False)
    assert M.answer_correct("", True, [], unanswerable=True)
    outcomes = [
        M.AnswerOutcome(abstained=False, correct=True, unanswerable=False),
        M.AnswerOutcome(abstained=False, correct=False, unanswerable=False),
        M.AnswerOutcome(abstained=True, correct=True, unanswerable=True),
        M.AnswerOutcome(abstained=True, correct=False, unanswerable=False),
        M.AnswerOutcome(abstained=False, correct=False, unanswerable=True),
    ]
    s = M.answer_scores(outcomes)
    assert s["precision"] == pytest.approx(1 / 3)
    assert s["accuracy"] == pytest.approx(2 / 5)
    assert s["abstention_precision"] == pytest.approx(1 / 2)
    assert s["abstention_recall"] == pytest.approx(1 / 2)
    assert s["false_abstention"] == pytest.approx(1 / 3)


def test_percentile():
    assert M.percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert M.percentile([1.0, 2.0], 50) == pytest.approx(1.5)
    assert M.percentile([], 95) == 0.0
