"""Extractive answers: sentence choice, [n] markers, highlights, citation and metadata answers."""

from __future__ import annotations

import re
import zlib
from typing import Any

import numpy as np
import pytest

from caucasus_qa.answer import Composed, compose_answer
from caucasus_qa.citing import sentence_footnotes
from caucasus_qa.lexicon import content_words
from caucasus_qa.query import Kind, question_kind
from caucasus_qa.query import plan as make_plan
from caucasus_qa.schema import DocumentRecord, Source
from caucasus_qa.settings import Settings

KIND_CITATION, KIND_GENERAL, KIND_METADATA = Kind.CITATION.value, Kind.GENERAL.value, Kind.METADATA.value


def compose(question: str, *args: Any, **kwargs: Any) -> Composed:
    """compose_answer over the question's plan, with the hand-weighted score (no learned model)."""
    return compose_answer(make_plan(question, Settings().answer.spacy_model), *args, **kwargs)


_SENTENCE_END = re.compile(r"\[(\d+)\](?=\s|$)")


class BagOfWords:
    """Stands in for the sentence embedder: hashed bag of stemmed content words, unit length."""

    dimension = 512

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in content_words(t):
                out[i, zlib.crc32(w.encode()) % self.dimension] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


def _src(rank: int, text: str, doc_id: str = "d1", **kw: Any) -> Source:
    fields: dict[str, Any] = dict(
        rank=rank,
        text=text,
        doc_id=doc_id,
        title="T",
        authors=[],
        section="",
        references=[],
        citation=f"C{rank}",
        score=0.5,
    )
    return Source(**{**fields, **kw})


SOURCES = [
    _src(
        1,
        "The weather was mild that year in the capital city. Iran moved 50,000 troops to the Armenian "
        "border in September 2022. Iran moved 50,000 troops to the Armenian border in September 2022 again.",
    ),
    _src(
        2,
        "Tehran opened a consulate in Kapan, the capital of Syunik province. Armenian troops held positions.",
    ),
]


def _sentences(answer: str) -> list[str]:
    return [p.strip() for p in re.split(r"(?<=\])\s+", answer) if p.strip()]


def test_question_kinds() -> None:
    assert question_kind("Which source does Souleimanov cite for the 70 percent figure?") == KIND_CITATION
    assert question_kind("Whom does Souleimanov rely on for the oil figure?") == KIND_CITATION
    assert question_kind("Where does Roubanis take Markedonov's phrase from?") == KIND_CITATION
    assert question_kind("Who wrote the GDC article?") == KIND_METADATA
    assert (
        question_kind("In which journal, and in what year, did Unlikely Alliances appear?") == KIND_METADATA
    )
    assert question_kind("Who is now Yerevan's leading source of weapons?") == KIND_GENERAL
    assert question_kind("How many troops did Iran move?") == KIND_GENERAL


@pytest.mark.parametrize(
    "question",
    [
        "What source backs the claim that Baku buys most of its drones from Israel?",
        "Whose research underpins the view that Iran fears encirclement?",
        "Which study corroborates the figure of 50,000 troops?",
        "What is the source of the 42% trade figure?",
        "Which report does Klaleche give for the Kosovo deployment?",
        "Which study does Khanin rely on?",
    ],
)
def test_asking_for_a_source_is_a_citation_question(question: str) -> None:
    assert question_kind(question) == KIND_CITATION


@pytest.mark.parametrize(
    "question",
    [
        "On what date was the Caucasus Watch piece published?",
        "What type of publication is the GDC piece?",
        "Whom does the author thank for comments on a draft?",
        "At which university does the author of Unlikely Alliances teach?",
        "Which funding source supported the article?",  # funding, not a footnote
    ],
)
def test_asking_about_the_document_is_a_metadata_question(question: str) -> None:
    assert question_kind(question) == KIND_METADATA


@pytest.mark.parametrize(
    "question",
    [
        "How much does Israel rely on Azerbaijan for its oil?",  # "rely on", but not on a source
        "Whom does Armenia rely on for arms?",
        "What kind of drones carried out the attack on Isfahan?",  # "carried out", not "carried by"
        "What does the report say about drones?",
        "Which think tank urged Washington to back Azerbaijan?",
    ],
)
def test_questions_about_the_subject_stay_general(question: str) -> None:
    assert question_kind(question) == KIND_GENERAL


def test_best_sentence_chosen_and_duplicates_dropped() -> None:
    c = compose("How many troops did Iran move to the Armenian border?", SOURCES, BagOfWords())  # type: ignore[arg-type]
    assert c.used[0].text == "Iran moved 50,000 troops to the Armenian border in September 2022."
    assert c.text.startswith("Iran moved 50,000 troops to the Armenian border in September 2022. [1]")
    assert sum("50,000" in u.text for u in c.used) == 1  # the repeated sentence is a near-duplicate
    assert all("weather" not in u.text for u in c.used)


def test_every_sentence_ends_with_a_valid_marker_and_spans_are_exact() -> None:
    c = compose("Where did Tehran open a consulate near the Armenian border?", SOURCES, BagOfWords())  # type: ignore[arg-type]
    ranks = {s.rank for s in SOURCES}
    parts = _sentences(c.text)
    assert 1 <= len(parts) <= 4
    for part in parts:
        m = _SENTENCE_END.search(part)
        assert m and part.endswith(m.group(0)) and int(m.group(1)) in ranks
    for u in c.used:
        assert SOURCES[u.source_rank - 1].text[u.start : u.end] == u.text
        assert u.text in c.text


def test_citation_answer_names_the_sentence_footnote() -> None:
    text = (
        "Azerbaijan buys drones from Israel. Around 70 percent of its arms come from Israel. Oil flows back."
    )
    marker_a = text.index("Israel.") + len("Israel.")
    marker_b = text.index("Israel. Oil") + len("Israel.")
    src = _src(
        1,
        text,
        markers=[(marker_a, 3), (marker_b, 4)],
        footnotes=[3, 4],
        references=["Smith, Drones, 2020.", "Frantzman, Did Azerbaijan's use of Israeli weapons, 2021."],
    )
    assert sentence_footnotes(src, text.index("Around"), marker_b) == [4]
    c = compose(
        "Which source does the author cite for the 70 percent of arms from Israel?", [src], BagOfWords()
    )  # type: ignore[arg-type]
    assert c.kind == KIND_CITATION
    assert "Frantzman" in c.text and "Smith" not in c.text and "(note 4)" in c.text
    assert c.used[0].text.startswith("Around 70 percent")
    assert c.text.endswith("[1]")


def test_metadata_answer_from_catalog() -> None:
    records = {
        "d1": DocumentRecord(
            doc_id="d1",
            title="Unlikely Alliances",
            authors=("Emil A. Souleimanov",),
            venue="Middle East Policy",
            date="2024",
            kind="journal-article",
        ),
        "d2": DocumentRecord(
            doc_id="d2", title="Why Azerbaijani Wins", venue="Global Defense Corp", date="2021"
        ),
    }
    sources = [
        _src(1, "Iran and Azerbaijan share a long border along the Aras river.", doc_id="d2"),
        _src(2, "Dr. Souleimanov is a professor of security studies in Prague.", doc_id="d1"),
    ]
    c = compose(
        "In which journal did Souleimanov's article appear?",
        sources,
        BagOfWords(),  # type: ignore[arg-type]
        records=records,
    )
    assert c.kind == KIND_METADATA
    first = _sentences(c.text)[0]
    assert "Emil A. Souleimanov" in first and "Middle East Policy" in first and "2024" in first
    assert first.endswith("[2]")  # cites the passage of the document asked about
    c2 = compose(
        "Which website published the piece Why Azerbaijani Wins?",
        sources,
        BagOfWords(),  # type: ignore[arg-type]
        records=records,
    )
    assert "Global Defense Corp (GDC)" in c2.text and "names no author" in c2.text
    assert c.answered_by_record and c2.answered_by_record  # the record holds what was asked
    c3 = compose(
        "When was the piece Why Azerbaijani Wins published, and in which journal?",
        sources,
        BagOfWords(),  # type: ignore[arg-type]
        records={**records, "d2": DocumentRecord(doc_id="d2", title="Why Azerbaijani Wins")},
    )
    assert not c3.answered_by_record  # no date and no venue on record: the judge decides
    c4 = compose(
        "What is the exact title of Souleimanov's article?",
        sources,
        BagOfWords(),
        records=records,  # type: ignore[arg-type]
    )
    assert c4.kind == KIND_METADATA and c4.answered_by_record and "“" in _sentences(c4.text)[0]


def test_affiliation_answered_from_the_record() -> None:
    aff = "Ph.D. candidate in political science, Mouloud Mammeri University of Tizi Ouzou"
    records = {
        "d1": DocumentRecord(doc_id="d1", title="Implications", authors=("T. Klaleche",), affiliation=aff)
    }
    sources = [_src(1, "Iran is located in a turbulent regional environment.", doc_id="d1")]
    asked = compose(
        "At which university does Klaleche study?",
        sources,
        BagOfWords(),  # type: ignore[arg-type]
        records=records,
    )
    assert asked.kind == KIND_METADATA and asked.answered_by_record
    assert f"{aff}. [1]" in asked.text
    not_asked = compose(
        "Who wrote Implications?",
        sources,
        BagOfWords(),  # type: ignore[arg-type]
        records=records,
    )
    assert aff not in not_asked.text and not_asked.answered_by_record  # the author is on record


def test_no_passages_no_answer() -> None:
    c = compose("Anything?", [], BagOfWords())  # type: ignore[arg-type]
    assert c.text == "" and c.used == []


# -- real corpus ------------------------------------------------------------------------------------


@pytest.mark.integration
def test_real_answer_markers_and_highlights(qa: Any) -> None:
    ans = qa.ask("How many troops did Iran move to its border with Armenia in September 2022?")
    assert not ans.abstained and "50,000" in ans.answer
    ranks = {s.rank for s in ans.sources}
    for part in _sentences(ans.answer):
        m = _SENTENCE_END.search(part)
        assert m and part.endswith(m.group(0)) and int(m.group(1)) in ranks
    spans = [(s, a, b) for s in ans.sources for a, b in s.highlights]
    assert spans
    for s, a, b in spans:
        quoted = s.text[a:b]
        assert quoted and quoted in ans.answer and f"[{s.rank}]" in ans.answer


@pytest.mark.integration
def test_real_citation_question_names_reference(qa: Any) -> None:
    ans = qa.ask(
        "Whom does Souleimanov rely on for the figure that Azerbaijani sources cover more than 40 percent "
        "of Israel's oil consumption?"
    )
    assert not ans.abstained and "Haaretz" in ans.answer
    assert any("Haaretz" in r for s in ans.sources for r in s.references)


@pytest.mark.integration
def test_real_metadata_question(qa: Any) -> None:
    ans = qa.ask("Who wrote the Middle East Policy article “Unlikely Alliances”?")
    assert "Souleimanov" in ans.answer and "Middle East Policy" in ans.answer
    n = int(re.search(r"\[(\d+)\]", ans.answer).group(1))  # type: ignore[union-attr]
    assert ans.sources[n - 1].doc_id.startswith("001_")


@pytest.mark.integration
def test_real_abstains_off_corpus(qa: Any) -> None:
    ans = qa.ask("How many kilometres long is the Great Wall of China?")
    assert ans.abstained and ans.answer.startswith("The corpus does not appear to answer")
    assert ans.sources and "[1]" in ans.answer  # still lists the closest passages
    assert ans.abstention_reasons and all(isinstance(r, str) and r for r in ans.abstention_reasons)
    assert ans.to_dict()["abstention_reasons"] == ans.abstention_reasons


@pytest.mark.integration
def test_real_abstention_names_the_missing_quantity(qa: Any) -> None:
    # the articles report the January 2023 Isfahan attack but never how many drones took part
    ans = qa.ask("How many drones were used in the January 2023 attack on the Isfahan nuclear installations?")
    assert ans.abstained
    assert any("quantity" in r for r in ans.abstention_reasons)


@pytest.mark.integration
def test_real_answer_has_no_abstention_reasons(qa: Any) -> None:
    ans = qa.ask("Who wrote the Middle East Policy article “Unlikely Alliances”?")
    assert not ans.abstained and ans.abstention_reasons == []


@pytest.mark.integration
def test_real_affiliation_comes_from_the_record(qa: Any) -> None:
    ans = qa.ask("Where does Souleimanov teach?")
    assert not ans.abstained
    assert "Charles University in Prague" in ans.answer
    assert "Charles University" in next(
        d.record.affiliation for d in qa.documents() if d.record.doc_id.startswith("001_")
    )


@pytest.mark.integration
def test_real_follow_up_is_rewritten(qa: Any) -> None:
    msgs = [
        {
            "role": "user",
            "content": "According to Souleimanov, what share of Azerbaijan's military equipment "
            "comes from Israel?",
        },
        {"role": "assistant", "content": "Around 70 percent [1]."},
        {"role": "user", "content": "Which source does he cite for that?"},
    ]
    ans = qa.chat(msgs)
    assert ans.question == "Which source does he cite for that?"
    assert (
        ans.query.startswith("Which source does Souleimanov cite for that?")
        and "military equipment" in ans.query
    )
    assert "Frantzman" in ans.answer


def test_document_names_find_surnames_and_acronyms_as_the_record_scan_did():
    from caucasus_qa.lexicon import DocumentNames, stem, words
    from caucasus_qa.schema import DocumentRecord

    records = {
        f"d{i}": DocumentRecord(
            f"d{i}", f"T{i}", (f"Ann Author{i}",), venue="Global Defense Corp" if i == 7 else "x"
        )
        for i in range(50)
    }
    names = DocumentNames(records)
    for q in (
        "What does Author3 say, and how does GDC see it?",
        "Author12's view vs Author3",
        "nothing here",
    ):
        qwords = {stem(w) for w in words(q)}
        scan = [
            d
            for d, r in records.items()
            if any(stem(a.split()[-1]) in qwords for a in r.authors) or (r.venue != "x" and "gdc" in qwords)
        ]
        assert names.referenced(q) == scan
    assert names.referenced("What does Author3 say, and how does GDC see it?") == ["d3", "d7"]
    assert stem("author12") in names.author_stems and stem("ann") in names.author_stems


def test_why_answer_quotes_the_two_sentences_after_the_one_matching_the_question() -> None:
    text = (
        "Baku will keep cultivating its ties with Israel despite the truce. "
        "The truce is unfinished business. "
        "Israeli arms give Baku a qualitative edge over Yerevan. Wine exports rose in spring. "
        "Tourism also grew."
    )
    c = compose(
        "Why will Baku keep cultivating its ties with Israel despite the truce?",
        [_src(1, text)],
        BagOfWords(),
    )  # type: ignore[arg-type]
    quoted = [u.text for u in c.used]
    assert quoted[0].startswith("Baku will keep cultivating")
    assert "The truce is unfinished business." in quoted
    assert "Israeli arms give Baku a qualitative edge over Yerevan." in quoted  # the second one after it
    assert len(quoted) <= 4 and not any("Tourism" in q for q in quoted)
    assert [u.start for u in c.used] == sorted(u.start for u in c.used)  # in reading order
