"""Feedback JSONL, message-to-answer mapping and Markdown export."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from caucasus_qa.ui.chat import answer_for_message, chat_view, history_messages
from caucasus_qa.ui.export import conversation_markdown, write_markdown
from caucasus_qa.ui.feedback import append_feedback, feedback_record


def src(rank: int, chunk_id: str, **kw: Any) -> dict[str, Any]:
    base = {
        "rank": rank,
        "text": f"text of {chunk_id}",
        "doc_id": chunk_id.split(":")[0],
        "title": f"Title {chunk_id}",
        "authors": ["A. Author"],
        "section": "",
        "references": [],
        "citation": "",
        "score": 0.4,
        "chunk_id": chunk_id,
        "venue": "V",
        "date": "2024",
    }
    base.update(kw)
    return base


A1 = {
    "question": "First?",
    "query": "First?",
    "answer": "One. [1] Two. [2]",
    "abstained": False,
    "mode": "extractive",
    "sources": [src(1, "d1:0"), src(2, "d2:5")],
}
A2 = {
    "question": "And then?",
    "query": "First? And then?",
    "answer": "Three. [2] Again. [1]",
    "abstained": False,
    "mode": "extractive",
    "sources": [src(1, "d3:1"), src(2, "d1:0")],
}
A3 = {
    "question": "Who won the Tour de France?",
    "query": "Who won the Tour de France?",
    "answer": "The corpus does not appear to answer this question.",
    "abstained": True,
    "abstention_reasons": ["best sentence similarity 0.21 < 0.40"],
    "mode": "extractive",
    "sources": [src(1, "d2:5")],
}


def test_feedback_lines(tmp_path: Path) -> None:
    append_feedback(tmp_path, feedback_record(A1, True))
    append_feedback(tmp_path, feedback_record(A3, False))
    lines = (tmp_path / "feedback.jsonl").read_text().splitlines()
    assert len(lines) == 2
    up, down = (json.loads(x) for x in lines)
    assert up["vote"] == "up" and down["vote"] == "down"
    assert up["question"] == "First?" and up["answer"] == A1["answer"]
    assert up["chunk_ids"] == ["d1:0", "d2:5"]
    assert up["timestamp"].endswith("+00:00")
    assert down["abstained"] is True


def test_feedback_concurrent_appends_stay_whole(tmp_path: Path) -> None:
    big = {**A1, "answer": "x" * 20_000}
    threads = [
        threading.Thread(target=append_feedback, args=(tmp_path, feedback_record(big, i % 2 == 0)))
        for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = (tmp_path / "feedback.jsonl").read_text().splitlines()
    assert len(lines) == 8 and all(json.loads(x)["answer"] == big["answer"] for x in lines)


def test_like_index_maps_to_its_answer() -> None:
    answers = [A1, A2, A3]
    assert len(chat_view(answers)) == 6
    assert answer_for_message(answers, 1) is A1
    assert answer_for_message(answers, 5) is A3
    assert answer_for_message(answers, [3, 0]) is A2
    assert answer_for_message(answers, 0) is None  # a user message
    assert answer_for_message(answers, 7) is None


def test_history_messages_feed_the_assistant_plain_text() -> None:
    msgs = history_messages([A1], "Next?")
    assert msgs == [
        {"role": "user", "content": "First?"},
        {"role": "assistant", "content": A1["answer"]},
        {"role": "user", "content": "Next?"},
    ]


def test_export_renumbers_markers_into_one_reference_list(tmp_path: Path) -> None:
    md = conversation_markdown([A1, A2, A3])
    # turn 1: d1:0 → 1, d2:5 → 2; turn 2: d3:1 → 3, d1:0 keeps 1; turn 3: d2:5 keeps 2
    assert "One. [1] Two. [2]" in md
    assert "Three. [1] Again. [3]" in md
    assert "*Searched for:* First? And then?" in md
    assert "> **Not in these documents.**" in md
    assert "> *Why:* best sentence similarity 0.21 < 0.40." in md
    refs = md.split("## References", 1)[1]
    assert refs.count("\n1. ") == 1 and "\n3. " in refs and "\n4. " not in refs
    assert "Title d1:0" in refs.split("\n2. ")[0]
    path = write_markdown([A1], tmp_path / "out")
    assert path.suffix == ".md" and path.read_text(encoding="utf-8").startswith("# ")


def test_export_of_nothing_has_no_references() -> None:
    assert "References" not in conversation_markdown([])
