"""Follow-up rewriting (no model): unit cases and the gold conversations."""

from __future__ import annotations

import json

import pytest

from caucasus_qa.lexicon import content_words
from caucasus_qa.query import CONTEXT_LABEL, main_question, question_kind
from caucasus_qa.rewrite import is_follow_up, rewrite_query
from caucasus_qa.schema import DocumentRecord

from .conftest import REPO

RECORDS = {
    "001": DocumentRecord(
        doc_id="001",
        title="Unlikely Alliances: How the Wars in Karabakh and Gaza Shape Northwest Asian Security",
        authors=("Emil A. Souleimanov",),
        venue="Middle East Policy",
    ),
    "003": DocumentRecord(
        doc_id="003",
        title="Iran's Security Posture in the South Caucasus After the War in Ukraine",
        authors=("Ilya Roubanis",),
        venue="Caucasus Watch",
    ),
    "004": DocumentRecord(
        doc_id="004",
        title="Why Azerbaijani Wins In Nagorno-Karabakh Is A Win For Israel?",
        venue="Global Defense Corp",
    ),
}


def _conv(*turns: str) -> list[dict[str, str]]:
    roles = ["user", "assistant"]
    return [{"role": roles[i % 2], "content": t} for i, t in enumerate(turns)]


def test_single_question_unchanged() -> None:
    assert rewrite_query(_conv("How many troops did Iran move to the Armenian border?")) == (
        "How many troops did Iran move to the Armenian border?"
    )


def test_self_contained_follow_up_unchanged() -> None:
    msgs = _conv(
        "When was the Shusha Declaration signed?",
        "In June 2021 [1].",
        "How many joint military exercises did Turkey and Azerbaijan hold in 2022?",
    )
    assert rewrite_query(msgs) == "How many joint military exercises did Turkey and Azerbaijan hold in 2022?"


def test_what_about_carries_previous_question() -> None:
    q = rewrite_query(
        _conv("How did Iran react to Azerbaijan's embassy in Israel?", "…", "What about Turkey?")
    )
    assert q.startswith("What about Turkey?")
    assert "embassy in Israel" in q and CONTEXT_LABEL in q


def test_he_becomes_author_named_before() -> None:
    q = rewrite_query(
        _conv(
            "According to Souleimanov, what share of Azerbaijan's arms come from Israel?",
            "…",
            "Who does he cite for that?",
        ),
        RECORDS,
    )
    assert main_question(q) == "Who does Souleimanov cite for that?"
    assert question_kind(q) == "citation"


def test_he_from_who_wrote_question_via_catalog() -> None:
    q = rewrite_query(
        _conv("Who wrote the Middle East Policy article “Unlikely Alliances”?", "", "Where does he teach?"),
        RECORDS,
    )
    assert main_question(q) == "Where does Souleimanov teach?"


def test_he_from_assistant_answer() -> None:
    q = rewrite_query(
        _conv(
            "Who wrote the feature on Iran's posture?",
            "Ilya Roubanis wrote it [1].",
            "What is his affiliation?",
        ),
        RECORDS,
    )
    assert main_question(q) == "What is Roubanis's affiliation?"


def test_pronoun_without_known_person_keeps_pronoun_but_carries_context() -> None:
    q = rewrite_query(
        _conv("Which Israeli foreign minister visited Baku in 2023?", "", "What did he call for?"), RECORDS
    )
    assert main_question(q) == "What did he call for?"
    assert "foreign minister visited Baku" in q


def test_chain_of_follow_ups_keeps_topic() -> None:
    msgs = _conv(
        "When did Erdogan and Aliyev sign the Shusha Declaration?",
        "June 2021 [1].",
        "And which sectors did it cover?",
        "Defense, energy … [1].",
        "And who reported that?",
    )
    q = rewrite_query(msgs)
    assert q.startswith("And who reported that?")
    assert "which sectors did it cover" in q
    assert q.count(CONTEXT_LABEL) == 1  # one level of context, not nested


def test_context_ignored_for_question_kind() -> None:
    q = rewrite_query(
        _conv("Which theory does Klaleche's study rely on?", "", "Which four factors does it use?")
    )
    assert question_kind(q) == "general"  # "rely on" sits in the carried context only


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What about Hamas?", True),
        ("And what did the next government do?", True),
        ("Has Baku agreed to it?", True),
        ("When did he say that?", True),
        ("How does that compare with the republic to the north?", True),
        ("Turkey?", True),
        ("Which IRGC officer was assassinated in Tehran on May 22?", False),
        ("How many Mountain Jews still live in Azerbaijan?", False),
        ("What did Khanin say that Iran feared?", False),
    ],
)
def test_is_follow_up(question: str, expected: bool) -> None:
    assert is_follow_up(question) is expected


def test_gradio_content_parts_accepted() -> None:
    msgs = [
        {"role": "user", "content": [{"type": "text", "text": "How many troops did Iran move?"}]},
        {"role": "assistant", "content": "50,000 [1]."},
        {"role": "user", "content": {"text": "And where did it open a consulate?"}},
    ]
    q = rewrite_query(msgs)
    assert q.startswith("And where did it open a consulate?") and "troops" in q


def _conversations() -> list[dict[str, object]]:
    with (REPO / "eval" / "conversations.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.mark.parametrize("conv", _conversations(), ids=lambda c: str(c["id"]))
def test_gold_conversations_get_the_standalone_terms(conv: dict[str, object]) -> None:
    """The rewrite keeps the follow-up and brings in the first turn, so it shares more of the gold
    standalone question's content words than the bare follow-up does."""
    first, second = conv["turns"]  # type: ignore[misc]
    q = rewrite_query(_conv(first, "", second), RECORDS)
    gold = content_words(str(conv["standalone"]))
    assert main_question(q).rstrip("?").split()[-1] in second
    assert len(gold & content_words(q)) > len(gold & content_words(second))
