"""The QueryPlan: kind, expected answer type and focus from spaCy's parse (phrasings written for these
tests, not taken from the eval splits), and the follow-up context kept apart from the question."""

from __future__ import annotations

import pytest

from caucasus_qa.query import AnswerType, Kind, QueryPlan, plan, split_context
from caucasus_qa.settings import Settings

MODEL = Settings().answer.spacy_model


def _plan(question: str) -> QueryPlan:
    return plan(question, MODEL)


@pytest.mark.parametrize(
    ("question", "answer_type", "focus"),
    [
        ("What was the name of the envoy who brokered the prisoner swap?", AnswerType.PERSON, "envoy"),
        ("Name the general who led the spring offensive.", AnswerType.PERSON, "general"),
        ("Who led the delegation to the border talks?", AnswerType.PERSON, ""),
        ("Whose army took the hilltop?", AnswerType.PERSON, "army"),
        ("Which firms built the pipeline's pumping stations?", AnswerType.ORG, "firms"),
        ("Which port city did the new rail link reach first?", AnswerType.PLACE, "city"),
        ("Where were the talks held?", AnswerType.PLACE, ""),
        ("When was the railway finished?", AnswerType.DATE, ""),
        ("On which date did the ceasefire take effect?", AnswerType.DATE, "date"),
        ("In what year did the embassy open?", AnswerType.DATE, "year"),
        ("Roughly how many refugees crossed the border?", AnswerType.NUMBER, "refugees"),
        ("How many Iranian-owned banks opened branches there?", AnswerType.NUMBER, "banks"),
        ("What percentage of the budget went to defence?", AnswerType.NUMBER, "budget"),
        ("How long is the new highway?", AnswerType.NUMBER, ""),
        ("Which type of missile hit the depot?", AnswerType.PRODUCT, "missile"),
        ("What exactly did the defence minister say about the drills?", AnswerType.QUOTE, ""),
        ("For what reason did the minister resign?", AnswerType.REASON, ""),
        ("Why did Ankara back Baku in the war?", AnswerType.REASON, ""),
        ("List the sectors where the two states cooperate.", AnswerType.LIST, "sectors"),
        ("What steps did the government take after the blockade?", AnswerType.LIST, "steps"),
        ("Which source does the essay cite for the casualty count?", AnswerType.CITATION, ""),
        ("Who authored the piece in the policy journal?", AnswerType.RECORD, ""),
        ("What does the phrase 'frozen conflict' refer to?", AnswerType.DESCRIPTION, "phrase"),
        ("How does the Kremlin balance its two partners?", AnswerType.DESCRIPTION, ""),
        # a modifier is not the phrase's head; nouns typed by their ending; names of untyped things
        ("Which Brussels consulting firm drafted the plan?", AnswerType.ORG, "firm"),
        ("What were the names of the two fishermen the coastguard detained?", AnswerType.PERSON, "fishermen"),
        ("Which journalist broke the story of the raid?", AnswerType.PERSON, "journalist"),
        ("What was the name of the naval drill held off the coast?", AnswerType.NAME, "drill"),
        ("What code name did the army give the offensive?", AnswerType.NAME, "name"),
        ("What was the name of the freighter seized in the strait?", AnswerType.NAME, "freighter"),
        ("What exact words did the envoy use at the summit?", AnswerType.QUOTE, "words"),
    ],
)
def test_expected_answer_type_and_focus_from_the_parse(
    question: str, answer_type: AnswerType, focus: str
) -> None:
    p = _plan(question)
    assert p.answer_type is answer_type
    assert p.focus == focus


def test_kinds_and_flags() -> None:
    assert _plan("Which report does the author rely on for the oil figure?").kind is Kind.CITATION
    assert _plan("In which journal was the study published?").kind is Kind.METADATA
    assert _plan("Who commanded the brigade?").kind is Kind.GENERAL
    # a document's title is part of its record; a thanking the article reports is not an acknowledgment
    assert _plan("What is the full title of the essay on the corridor?").kind is Kind.METADATA
    assert _plan("What did the envoy say when he thanked his hosts?").kind is Kind.GENERAL
    assert _plan("Whom does the author thank for research help?").kind is Kind.METADATA
    assert _plan("Why did the talks stall?").why
    assert _plan("How do the two authors differ on the war's causes?").compound
    assert _plan("How many drones were delivered?").expects_number
    assert _plan("Which city hosted the summit?").typed
    assert not _plan("How does the Kremlin see the region?").typed


def test_the_question_entities_are_its_proper_noun_runs() -> None:
    p = _plan("Why did Moscow stop arming Yerevan after the Tbilisi summit?")
    assert {text for text, _ in p.entities} >= {"Moscow", "Yerevan", "Tbilisi"}
    two_words = _plan("What did the Revolutionary Guards say about the drills?")
    assert "Revolutionary Guards" in {text for text, _ in two_words.entities}


def test_a_follow_up_keeps_its_context_apart() -> None:
    query = "Who does he cite for that? (follow-up to: What does Smith say about drones?)"
    assert split_context(query) == ("Who does he cite for that?", "What does Smith say about drones?")
    p = _plan(query)
    assert p.question == "Who does he cite for that?"
    assert p.context == "What does Smith say about drones?"
    assert p.kind is Kind.CITATION  # read from the question asked, not from the context
    assert p.query == query


def test_the_plan_is_frozen_and_cached() -> None:
    p = _plan("Which firms built the stations?")
    assert p is _plan("Which firms built the stations?")
    with pytest.raises(AttributeError):
        p.focus = "x"  # type: ignore[misc]
