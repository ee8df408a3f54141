"""parse_document on the real corpus: whole sentences, spans, sections, no footnote text or chrome."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from caucasus_qa.catalog import load_catalog
from caucasus_qa.parse import parse_document

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
D0, D1, D2, D3, D4 = (
    "000_58fd850d681a9b3e",
    "001_a928311d0961af7f",
    "002_b66d9f311757d21f",
    "003_ccc9031e28dd9279",
    "004_2e4681bc52934605",
)
# paragraphs and distinct section paths per document, from reading the files
SHAPE = {D0: (23, 4), D1: (38, 8), D2: (59, 12), D3: (31, 9), D4: (19, 1)}


def _para(doc: Any, needle: str) -> Any:
    found = [p for p in doc.paragraphs if needle in p.text]
    assert len(found) == 1, f"{needle!r} in {len(found)} paragraphs"
    return found[0]


@pytest.mark.parametrize("doc_id", sorted(SHAPE))
def test_shape(parsed_corpus: dict[str, Any], doc_id: str) -> None:
    doc = parsed_corpus[doc_id]
    assert (len(doc.paragraphs), len({p.section for p in doc.paragraphs})) == SHAPE[doc_id]


@pytest.mark.parametrize("doc_id", sorted(SHAPE))
def test_spans_are_exact(parsed_corpus: dict[str, Any], doc_id: str) -> None:
    doc = parsed_corpus[doc_id]
    assert doc.text == "\n\n".join(p.text for p in doc.paragraphs)
    for i, p in enumerate(doc.paragraphs):
        assert p.index == i
        assert doc.text[p.start : p.end] == p.text
        assert p.text == p.text.strip() and "\n" not in p.text and "  " not in p.text
        assert all(0 <= off <= len(p.text) for off, _ in p.marker_offsets)
        assert tuple(n for _, n in p.marker_offsets) == p.footnotes


@pytest.mark.parametrize(
    ("doc_id", "sentence"),
    [
        (D1, "Ankara refrained from establishing a formal military alliance with its Turkic-majority"),
        (D1, "The analysis reveals the dynamics of unlikely alliances"),
        (D1, "Most important, if Israel and Iran, or Iran and Azerbaijan, engage"),
        (D1, 'spoke of forging a "united and strong front against our common challenges.”'),
        (D1, "which has raised concerns that Armenia, with a population of about three million"),
        (D1, "has imperiled the détente between Turkey and Israel"),
        (D2, "and the second war to the Treaty of Turkmenchay in 1828"),
        (D2, "The two countries concluded a ceasefire agreement brokered by Russia"),
        (D2, "He stressed that Turkey was determined to support Azerbaijan"),
        (D3, "Initially, the three states convened to negotiate the future"),
        (D3, "The common denominator between these initiatives was that Iran"),
        (D3, "the trilateral relationship between Iran, Turkey and Russia. The Astana Forum"),
        (D3, "there was an assumption that Washington would be try to drive a wedge"),
        (D3, "Volatility stems from “plus three” component of the region"),
        (D3, "Neither the International North South Trade Corridor nor"),
        (D3, "support for Baku. What Iran fears is a secessionist threat"),
        (D3, "sanctions against Iran will be rendered ineffective."),
        (D3, "their common mistrust of Kurdish-led militias"),
        (D3, "Moscow could do little to address the arms race disparity"),
    ],
)
def test_broken_sentences_are_whole(parsed_corpus: dict[str, Any], doc_id: str, sentence: str) -> None:
    _para(parsed_corpus[doc_id], sentence)


def test_002_title_repaired(parsed_corpus: dict[str, Any]) -> None:
    from caucasus_qa.catalog import infer_record

    raw = (CORPUS / f"{D2}.txt").read_text(encoding="utf-8")
    assert "AZERBAIJAN'S" in infer_record(D2, raw).title
    assert parsed_corpus[D2].record.title.startswith("The Implications of Azerbaijan's")


@pytest.mark.parametrize("doc_id", sorted(SHAPE))
def test_no_footnote_text_in_body(parsed_corpus: dict[str, Any], doc_id: str) -> None:
    doc = parsed_corpus[doc_id]
    for p in doc.paragraphs:
        assert "<sup>" not in p.text and "⁽" not in p.text and "\ue000" not in p.text
        assert not any(c in p.text for c in "¹²³⁴⁵⁶⁷⁸⁹⁰"), p.text[:80]
        assert "http" not in p.text, p.text[:80]
    for fn in doc.footnotes.values():
        probe = fn.text[:60]
        assert probe not in doc.text, probe


def test_footnote_markers_positions(parsed_corpus: dict[str, Any]) -> None:
    p = _para(parsed_corpus[D1], "Ankara refrained from establishing")
    assert p.footnotes == (5,)
    off = dict((n, o) for o, n in p.marker_offsets)[5]
    assert p.text[:off].endswith("“one nation, two states” to showcase their cultural affinities.")
    p3 = _para(parsed_corpus[D3], "their common mistrust")
    off24 = dict((n, o) for o, n in p3.marker_offsets)[24]
    assert p3.text[:off24].endswith("is their common")


@pytest.mark.parametrize(
    ("doc_id", "needle", "section"),
    [
        (D0, "Two projects appear to be on Iran’s South Caucasus agenda", ("Plans for the Present",)),
        (D0, "From the start, the Russian invasion", ()),
        (D1, "This study analyzes how ongoing conflicts", ("Abstract",)),
        (D1, "The dissolution of the USSR in 1991", ("TURKEY'S UNLIKELY ALLIANCE WITH AZERBAIJAN",)),
        (D1, "Marina Tovar", ("CONCLUSION", "ACKNOWLEDGMENT")),
        (D2, "Turkey is Azerbaijan's top partner.", ("Azerbaijan-Turkey Strategic Partnership",)),
        (
            D2,
            "Iran seeks to preserve the regional balance",
            ("The Limits of Iran's Strategic Response to Threats",),
        ),
        (D3, "Georgia’s relationship to Tehran is historically", ("Georgia",)),
        (D3, "Iran, Turkey, and Russia share sufficient", ("Conclusions",)),
        (D3, "is a London-born political analyst", ("About the author",)),
        (D4, "On the face of it, Israel is a winner", ()),
    ],
)
def test_sections(parsed_corpus: dict[str, Any], doc_id: str, needle: str, section: tuple[str, ...]) -> None:
    assert _para(parsed_corpus[doc_id], needle).section == section


def test_captions_are_paragraphs_not_headings(parsed_corpus: dict[str, Any]) -> None:
    doc = parsed_corpus[D4]
    assert _para(doc, "LORA ballistic missile used by Azerbaijani Army").text == (
        "LORA ballistic missile used by Azerbaijani Army"
    )
    assert all(p.section == () for p in doc.paragraphs)
    cap = _para(parsed_corpus[D3], "IRGC Soldiers Along the Araxes River")
    assert cap.text == "IRGC Soldiers Along the Araxes River. (Hossein Zohrevand via Wikicommons)"


@pytest.mark.parametrize(
    ("doc_id", "chrome"),
    [
        (D0, "Read more"),
        (D0, "Explore More in The Russia File"),
        (D0, "The Human Tragedy of War"),
        (D0, "Kennan Institute is the premier US center"),
        (D0, "A blog of the Kennan Institute"),
        (D0, "BY VLADIMIR"),
        (D1, "open access article"),
        (D1, "Wiley Periodicals"),
        (D1, "emil.aslan@fsv.cuni.cz"),
        (D1, "How to cite this article"),
        (D3, "Feature Article"),
        (D4, "Be the first to comment"),
        (D4, "Leave a Reply"),
        (D4, "Akismet"),
        (D4, "Unauthorized use"),
    ],
)
def test_chrome_absent(parsed_corpus: dict[str, Any], doc_id: str, chrome: str) -> None:
    assert chrome not in parsed_corpus[doc_id].text


def test_front_matter_dropped_but_content_kept(parsed_corpus: dict[str, Any]) -> None:
    assert parsed_corpus[D3].paragraphs[0].text.startswith("Iran's engagement in the South Caucasus")
    assert parsed_corpus[D4].paragraphs[0].text.startswith("At the outbreak of the war")
    assert parsed_corpus[D0].paragraphs[0].text.startswith("From the start, the Russian invasion")
    assert parsed_corpus[D1].paragraphs[0].text.startswith("Dr. Souleimanov is a professor")
    assert "The opinions expressed in this article" in parsed_corpus[D0].text
    assert "Azerbaijan will continue its mutually profitable relationship" in parsed_corpus[D4].text


def test_markdown_unwrapped(parsed_corpus: dict[str, Any]) -> None:
    text = parsed_corpus[D1].text
    assert "*" not in text and "](" not in text and "\\" not in text
    assert "$17 billion" in parsed_corpus[D2].text


def test_deterministic_and_fast() -> None:
    catalog = load_catalog(CORPUS)
    raws = {p.stem: p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt"))}
    t0 = time.perf_counter()
    first = [parse_document(raw, doc_id=k, record=catalog[k]) for k, raw in raws.items()]
    elapsed = time.perf_counter() - t0
    second = [parse_document(raw, doc_id=k, record=catalog[k]) for k, raw in raws.items()]
    assert first == second
    assert elapsed < 1.0, elapsed


def test_record_inferred_when_missing() -> None:
    raw = (CORPUS / f"{D3}.txt").read_text(encoding="utf-8")
    doc = parse_document(raw, doc_id=D3, path="x.txt", content_hash="abc")
    assert doc.record.title == "Iran's Security Posture in the South Caucasus After the War in Ukraine"
    assert doc.record.authors == ("Ilya Roubanis",)
    assert doc.record.date == "2024-05-30"
    assert doc.content_hash == "abc" and doc.record.path == "x.txt"
    assert doc.paragraphs[0].text.startswith("Iran's engagement")


def test_small_markdown_document() -> None:
    raw = (
        "# A Title\n\n**Jane Doe**\n\n## Part One\n\n"
        "First para cites this.<sup>1</sup> More text that goes\n\n"
        "<sup>1</sup> A reference, <https://example.org/x>.\n\n"
        "on after the note.<sup>2</sup>\n\n### Sub\n\nSecond para.\n"
    )
    doc = parse_document(raw, doc_id="x")
    assert doc.record.title == "A Title" and doc.record.authors == ("Jane Doe",)
    assert [p.text for p in doc.paragraphs] == [
        "First para cites this. More text that goes on after the note.",
        "Second para.",
    ]
    assert [p.section for p in doc.paragraphs] == [("Part One",), ("Part One", "Sub")]
    assert doc.footnotes[1].text == "A reference, https://example.org/x."
    assert doc.unresolved_markers == [2]
    assert doc.resolved_marker_count == 1
