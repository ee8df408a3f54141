"""The named API endpoints through gradio_client, against a server started on a free loopback port."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client(ui_url: str) -> Any:
    from gradio_client import Client

    return Client(ui_url, verbose=False)


def markers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\[(\d+)\]", text)]


def test_named_endpoints(client: Any) -> None:
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/ask", "/chat"} <= names
    assert not any("like" in n or "upload" in n or "remove" in n for n in names), names


def test_ask_returns_answer_dict_with_sources_and_markers(client: Any) -> None:
    out = client.predict(
        question="Why does Israel cooperate with Azerbaijan?", top_k=4, docs=[], api_name="/ask"
    )
    assert set(out) >= {"question", "query", "answer", "abstained", "sources", "timings"}
    assert not out["abstained"]
    assert 1 <= len(out["sources"]) <= 4
    ranks = {s["rank"] for s in out["sources"]}
    found = markers(out["answer"])
    assert found and set(found) <= ranks
    assert all(s["text"] and s["doc_id"] and s["chunk_id"] for s in out["sources"])


def test_ask_filters_by_document(client: Any, qa: Any) -> None:
    doc = qa.documents()[3].record.doc_id
    out = client.predict(question="What is Iran's security posture?", top_k=5, docs=[doc], api_name="/ask")
    assert out["sources"] and {s["doc_id"] for s in out["sources"]} == {doc}


def test_ask_rejects_an_empty_question(client: Any) -> None:
    with pytest.raises(Exception, match="question: empty"):
        client.predict(question="   ", top_k=5, docs=[], api_name="/ask")


def test_chat_endpoint_keeps_sessions_apart(ui_url: str) -> None:
    from gradio_client import Client

    a, b = Client(ui_url, verbose=False), Client(ui_url, verbose=False)
    chat_a, cards_a, box_a, export_a = a.predict(
        "Why does Israel cooperate with Azerbaijan?", 3, [], "extractive", api_name="/chat"
    )
    assert [m["role"] for m in chat_a] == ["user", "assistant"]
    assert box_a == ""
    assert 'id="cqa-t1-s1"' in cards_a
    chat_a2, cards_a2, _, export_a2 = a.predict("What about Iran?", 3, [], "extractive", api_name="/chat")
    assert len(chat_a2) == 4 and 'id="cqa-t2-s1"' in cards_a2  # the follow-up is turn 2 of a's session
    # plain values, no Gradio update dict: the fourth is the conversation exported as a Markdown file
    for path, turns in ((export_a, 1), (export_a2, 2)):
        assert isinstance(path, str) and path.endswith(".md")
        md = Path(path).read_text(encoding="utf-8")
        assert "Why does Israel cooperate with Azerbaijan?" in md
        assert ("What about Iran?" in md) == (turns == 2)
    chat_b, _, _, _ = b.predict("What role does Turkey play?", 3, [], "extractive", api_name="/chat")
    assert len(chat_b) == 2  # b's conversation does not contain a's turns
