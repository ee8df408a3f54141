"""One number pattern on each side (issue 14): ``query.ASKS_NUMBER`` reads whether a question asks
for a number, ``focus.NUMBER`` whether a sentence holds one; the plan, the focus check and the
answer's number support all read these two."""

from __future__ import annotations

import pytest

from caucasus_qa import answer, focus
from caucasus_qa.focus import NUMBER
from caucasus_qa.query import asks_number, opening_quantity


def test_the_answer_reads_the_focus_checks_number_pattern() -> None:
    assert answer.NUMBER is focus.NUMBER
    assert not hasattr(answer, "_NUMBER") and not hasattr(focus, "_NUMBER")


@pytest.mark.parametrize(
    "question",
    [
        "How many drones did Iran deliver?",
        "Roughly how large was the Russian force sent to Karabakh?",
        "By how much did trade grow in 2023?",
        "In which year was the movement established?",
        "In what year did the war end?",
        "What share of Azerbaijan's arms comes from Israel?",
        "How old was the commander?",
        "How far is the border from Tabriz?",
    ],
)
def test_questions_that_ask_for_a_number(question: str) -> None:
    assert asks_number(question)


@pytest.mark.parametrize(
    "question",
    ["Why does Iran fear Azerbaijan?", "What did the minister say about the corridor?", "How come?"],
)
def test_questions_that_do_not(question: str) -> None:
    assert not asks_number(question)
    assert opening_quantity(question) is None


def test_the_opening_phrase_gives_the_count_and_what_follows() -> None:
    assert opening_quantity("How many advisers are in Baku?") == (True, "advisers are in Baku?")
    assert opening_quantity("  what share of its arms?") == (True, "of its arms?")
    assert opening_quantity("In what year did the war end?") == (False, "did the war end?")
    assert opening_quantity("How long did the siege last?") == (False, "did the siege last?")
    # asked later in the question: a number is expected, but there is no opening phrase to focus on
    assert opening_quantity("Roughly how many soldiers left Syria?") is None


@pytest.mark.parametrize(
    "sentence", ["Some 200 advisers", "hundreds of drones", "a dozen firms", "half its arms", "ten percent"]
)
def test_sentences_that_hold_a_number(sentence: str) -> None:
    assert NUMBER.search(sentence)


@pytest.mark.parametrize("sentence", ["Someone attended the talks.", "Often, tension rose."])
def test_sentences_that_do_not(sentence: str) -> None:
    assert not NUMBER.search(sentence)
