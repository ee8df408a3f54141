"""Sentence features for the learned scorer: entity agreement, the expected type near the focus, a
denied premise; the judge's reasons; every named document quoted. Sentences written for these tests."""

from __future__ import annotations

import numpy as np

from caucasus_qa.abstain import explain, judge
from caucasus_qa.answer import compose_answer
from caucasus_qa.features import JUDGE_FEATURES, SENTENCE_FEATURES
from caucasus_qa.query import plan
from caucasus_qa.schema import DocumentRecord
from caucasus_qa.scorer import LinearModel, Models, load_models
from caucasus_qa.settings import Settings
from tests.test_answer import BagOfWords, _src

MODEL = Settings().answer.spacy_model


def _rows(question: str, sentences: list[str], entities: dict[int, list[tuple[int, int, str]]] | None = None):
    text = " ".join(sentences)
    c = compose_answer(plan(question, MODEL), [_src(1, text)], BagOfWords(), entities=entities or {})  # type: ignore[arg-type]
    by_text = {cand.text: row for cand, row in zip(c.candidates, c.features, strict=True)}
    return [dict(zip(SENTENCE_FEATURES, by_text[s].tolist(), strict=True)) for s in sentences], c


def test_entity_agreement_prefers_the_pair_the_question_names() -> None:
    rows, _ = _rows(
        "How much oil does Israel buy from Azerbaijan each year?",
        [
            "Iran buys electricity from Azerbaijan under a swap deal signed in the spring.",
            "Israel buys roughly a third of its crude oil from Azerbaijan every year.",
        ],
    )
    iran_azerbaijan, israel_azerbaijan = rows
    assert israel_azerbaijan["entity_agreement"] == 1.0
    assert iran_azerbaijan["entity_agreement"] == 0.5


def test_foreign_actors_are_counted_against_the_question() -> None:
    sentence = "Iran and Russia both sold arms to Armenia during the war years."
    ents = {1: [(0, 4, "PLACE"), (9, 15, "PLACE"), (35, 42, "PLACE")]}
    rows, _ = _rows("Which weapons did Turkey sell to Azerbaijan during the war?", [sentence], ents)
    assert rows[0]["foreign_entities"] > 0 and rows[0]["entity_agreement"] == 0.0


def test_the_expected_type_counts_only_near_the_focus_and_only_when_new() -> None:
    near = "The commander of the brigade, Colonel Rustam Aliyev, ordered the retreat at dawn."
    far = "Colonel Rustam Aliyev spoke on television; months later, the brigade that retreated was disbanded."
    named = "General Karimov said that the brigade had retreated in good order after the shelling."
    text = " ".join([near, far, named])
    ents = {1: []}
    for name in ("Rustam Aliyev",):
        ents[1] += [(m, m + len(name), "PERSON") for m in _all(text, name)]
    ents[1].append((text.index("Karimov"), text.index("Karimov") + len("Karimov"), "PERSON"))
    rows, _ = _rows("Who was the commander of the brigade, if not General Karimov?", [near, far, named], ents)
    assert rows[0]["type_match"] == 1.0 and rows[0]["type_near_focus"] == 1.0
    assert rows[1]["type_match"] == 1.0 and rows[1]["type_near_focus"] == 0.0  # a person, but far from it
    assert rows[2]["type_match"] == 0.0  # the only person there is the one the question names


def test_a_sentence_denying_the_questions_premise_is_flagged() -> None:
    rows, _ = _rows(
        "Why does Armenia fear the corridor?",
        [
            "Armenia does not fear the corridor as such, officials say.",
            "Armenia fears the corridor would cut its border with Iran in two.",
        ],
    )
    assert rows[0]["negated_term"] == 1.0 and rows[1]["negated_term"] == 0.0
    rows, _ = _rows(
        "Which convictions does the president lack?", ["The president does not share these convictions."]
    )
    assert rows[0]["negated_term"] == 0.0  # the question asks about an absence itself


def test_the_learned_model_moves_a_denial_below_the_answer() -> None:
    models = load_models()
    question = "Why does Armenia fear the corridor?"
    sources = [
        _src(1, "Armenia does not fear the corridor as such, officials say. The weather was cold."),
        _src(2, "Armenia fears the corridor would cut its border with Iran in two."),
    ]
    config = Settings().answer  # the tuned denial_penalty
    c = compose_answer(plan(question, MODEL), sources, BagOfWords(), models=models, config=config)  # type: ignore[arg-type]
    assert c.used[0].text.startswith("Armenia fears the corridor")


def test_every_named_document_keeps_a_sentence() -> None:
    records = {
        "d1": DocumentRecord("d1", "On drones", ("Ann Kowalski",)),
        "d2": DocumentRecord("d2", "On pipelines", ("Ben Moreau",)),
    }
    sources = [
        _src(
            1, "Drones decided the war in the south. Drones were bought from abroad. Drones flew daily.", "d1"
        ),
        _src(2, "Pipelines matter less than drones, in this view of the war.", "d2"),
    ]
    c = compose_answer(
        plan("What do Kowalski and Moreau say about drones in the war?", MODEL),
        sources,
        BagOfWords(),  # type: ignore[arg-type]
        records=records,
        models=load_models(),
    )
    assert {u.source_rank for u in c.used} == {1, 2}


def test_an_abstention_names_the_missing_type() -> None:
    p = plan("Who was the commander of the brigade that crossed the river?", MODEL)
    _, c = _rows(p.question, ["The brigade crossed the river at night and took the town by morning."])
    f = dict(zip(JUDGE_FEATURES, c.judge.tolist(), strict=True))
    assert f["typed_top3_near"] == 0.0
    reasons = explain(c, p, 0.9)
    assert reasons[0] == "asks for a person's name; no person is named in the best sentences near 'commander'"
    n = len(JUDGE_FEATURES)
    always = Models(
        load_models().sentence,
        LinearModel(JUDGE_FEATURES, (0.0,) * n, (1.0,) * n, (0.0,) * n, 5.0),
        0.5,
        {},
    )
    decision = judge(c, p, always)
    assert decision.abstain and decision.reasons[0].startswith("asks for a person's name")


def test_a_question_off_the_corpus_topics_is_abstained_on_whatever_the_judge_says() -> None:
    p = plan("Who won the cycling race in the Alps?", MODEL)
    _, c = _rows(p.question, ["The brigade crossed the river at night and took the town by morning."])
    n = len(JUDGE_FEATURES)
    never = LinearModel(JUDGE_FEATURES, (0.0,) * n, (1.0,) * n, (0.0,) * n, -50.0)  # "answered", always
    answering = Models(load_models().sentence, never, 0.5, {}, min_similarity=0.0)
    assert not judge(c, p, answering).abstain
    floored = Models(load_models().sentence, never, 0.5, {}, min_similarity=c.best_similarity + 0.01)
    decision = judge(c, p, floored)
    assert decision.abstain and decision.reasons[0].startswith("the passages are not about the question")
    assert load_models().min_similarity > 0.1  # `caucasus-qa train` set a floor from the training split


def test_judge_features_are_finite_and_complete() -> None:
    _, c = _rows("How many troops crossed?", ["Some 4,000 troops crossed the river in March."])
    assert c.judge.shape == (len(JUDGE_FEATURES),) and np.isfinite(c.judge).all()
    assert c.features.shape == (1, len(SENTENCE_FEATURES))


def _all(text: str, sub: str) -> list[int]:
    out, at = [], text.find(sub)
    while at >= 0:
        out.append(at)
        at = text.find(sub, at + 1)
    return out
