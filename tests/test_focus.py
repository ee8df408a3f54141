"""Focus checks behind abstention: named things and counted things must be in the passages."""

from __future__ import annotations

from caucasus_qa.abstain import Evidence, decide
from caucasus_qa.focus import (
    entities_supported,
    quantity_focus,
    quantity_supported,
    question_entities,
)
from caucasus_qa.settings import AbstainSettings

DOC_NAMES = frozenset({"souleimanov", "khanin", "gdc"})  # lower-case, as the retriever builds it


def test_entities_map_capitals_and_demonyms_and_skip_titles_and_document_names():
    assert question_entities("Why does Tehran see Baku as a threat?") == {"iran", "azerbaijan"}
    assert question_entities("Why did US-Azerbaijan ties sour under Obama?") == {
        "united states",
        "azerbaijan",
        "obama",
    }
    assert question_entities("According to Souleimanov, why is Baku nervous?", DOC_NAMES) == {"azerbaijan"}
    assert question_entities("Which website published “Why Azerbaijani Wins”?") == set()
    assert question_entities("Who pressed New Delhi to arm Armenia?") == {"india", "armenia"}


def test_entities_must_occur_together_in_one_passage():
    q = "What position has Kazakhstan taken on the Zangezur corridor?"
    apart = ["Kazakhstan became independent in 1991.", "Baku wants the Zangezur corridor."]
    together = ["Kazakhstan has said nothing about the Zangezur corridor, officials in Astana noted."]
    assert not entities_supported(q, apart)
    assert entities_supported(q, together)
    assert entities_supported("Why does Tehran fear Baku?", ["Iranian elites fear Azerbaijani irredentism."])


def test_quantity_focus_is_the_counted_noun():
    assert quantity_focus("How many Mountain Jews still live in Azerbaijan?") == ["jews"]
    assert quantity_focus("How many Armenian soldiers died in the clashes?") == ["soldi"]
    assert quantity_focus("How many Israeli military advisers are stationed in Azerbaijan?") == ["advis"]
    assert quantity_focus("How much did the railroad cost?") == []
    assert quantity_focus("Why does Iran fear Azerbaijan?") == []


def test_quantity_needs_a_number_beside_what_it_counts():
    q = "How many Israeli military advisers are stationed in Azerbaijan?"
    assert not quantity_supported(q, ["Azerbaijan bought 40 percent of its arms from Israel. Advisers came."])
    assert quantity_supported(q, ["Some 200 Israeli advisers are said to work in Baku."])
    assert quantity_supported("Why does Iran fear Azerbaijan?", ["No numbers here."])
    assert quantity_supported("In what year did the war end?", ["The war ended in 1994."])


def test_decision_names_the_failed_focus_checks():
    ev = Evidence(
        best_similarity=0.9,
        coverage=1.0,
        best_coverage=1.0,
        unknown_terms=0,
        margin=0.2,
        entity_support=False,
        quantity_support=False,
    )
    strict = decide(ev, AbstainSettings(require_entities=True, require_quantity=True))
    assert strict.abstain and len(strict.reasons) == 2
    assert "names" in strict.reasons[0] and "quantity" in strict.reasons[1]
    lenient = decide(ev, AbstainSettings(require_entities=False, require_quantity=False))
    assert not lenient.abstain


def test_a_count_stands_beside_what_it_counts_and_a_year_is_not_a_count():
    q = "How many drones were used in the January 2023 attack on Isfahan?"
    assert not quantity_supported(
        q, ["An attack in January 2023 was carried out with small quadcopter drones."]
    )
    assert not quantity_supported(
        q,
        [
            "Around 70 percent of Azerbaijan's military equipment, including drones and missiles,"
            " came from Israel."
        ],
    )
    assert not quantity_supported(
        q, ["Israeli Harop drones destroyed Armenian Iskandar missiles and an S-300 SAM."]
    )
    assert quantity_supported(q, ["Iran has supplied hundreds of drones to Russia since 2022."])
    assert quantity_supported(q, ["Three small drones hit the Isfahan plant."])
    assert quantity_supported(q, ["The attackers used drones, 3 of them armed."])
    when = "In what year did Azerbaijan buy its first drones?"  # a year answers this one
    assert quantity_supported(when, ["Azerbaijan bought its first Israeli drones in 2008."])
