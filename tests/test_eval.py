"""An eval run on a few real questions, end to end through Assistant.ask and the baselines."""

from __future__ import annotations

import pytest

from caucasus_qa.evaluation.report import text_report, write_report
from caucasus_qa.evaluation.runner import load_items, run_eval

from .conftest import REPO

pytestmark = pytest.mark.integration


def test_eval_runs_on_a_few_questions(qa, tmp_path):
    questions, conversations = load_items([REPO / "eval/questions.jsonl", REPO / "eval/conversations.jsonl"])
    wanted = {"factoid", "citation", "metadata", "unanswerable"}
    picked = []
    for t in sorted(wanted):
        picked.append(next(q for q in questions if q.type == t and q.split == "dev"))
    result = run_eval(qa, picked, conversations[:1], top_k=5)
    systems = result["systems"]
    assert set(systems) == {"hybrid", "naive", "bm25"}
    for s in systems.values():
        assert s["overall"]["n"] == 3  # unanswerable excluded from retrieval metrics
        assert 0.0 <= s["overall"]["mrr@10"] <= 1.0
        assert s["curve"] == sorted(s["curve"])  # hit@k never decreases with k
    ours = systems["hybrid"]["overall"]
    assert ours["hit@5"] >= 2 / 3
    assert ours["mean_passage_chars"] <= 1500
    assert systems["naive"]["overall"]["mean_passage_chars"] > ours["mean_passage_chars"]
    assert result["latency"]["embed_p50_s"] > 0 and result["latency"]["retrieve_p50_s"] > 0
    assert result["conversations"]["n"] == 1
    per_type = result["keyword_recall_by_type"]
    assert set(per_type) == {"factoid", "citation", "metadata"}  # answerable types only
    assert all(v["n"] == 1 and 0.0 <= v["keyword_recall"] <= 1.0 for v in per_type.values())
    overall = sum(v["keyword_recall"] for v in per_type.values()) / 3
    assert result["answers"]["keyword_recall"] == pytest.approx(overall)
    assert 0.0 <= result["answers"]["false_abstention"] <= 1.0
    text = text_report(result)
    assert "ours (hybrid)" in text and "per type, answer keyword recall" in text
    files = write_report(result, tmp_path / "report")
    assert {p.name for p in files} == {"report.md", "hit_at_k.png", "by_type.png"}
    assert all(p.stat().st_size > 0 for p in files)
    md = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "Keyword recall per question type" in md and "| citation | 1 |" in md
