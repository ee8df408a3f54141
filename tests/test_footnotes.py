"""Footnotes on the real corpus: exact counts, every marker resolved, entries clean."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from caucasus_qa.footnotes import extract_markers, match_endnote_item, match_entry, resolve_ibid, to_sentinels

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
SUP = "[⁰¹²³⁴⁵⁶⁷⁸⁹]+"

# (entries, markers in the body) counted by hand and by the regexes below; every marker has an entry.
EXPECTED = {
    "000_58fd850d681a9b3e": (0, 0),
    "001_a928311d0961af7f": (51, 51),
    "002_b66d9f311757d21f": (40, 40),
    "003_ccc9031e28dd9279": (83, 83),
    "004_2e4681bc52934605": (0, 0),
}


def _raw_counts(doc_id: str) -> tuple[int, int]:
    """Independent count on the raw file: (entry lines, body markers)."""
    raw = (CORPUS / f"{doc_id}.txt").read_text(encoding="utf-8")
    if doc_id.startswith("001"):
        entries = len(re.findall(r"(?m)^<sup>\d+</sup>", raw))
        return entries, len(re.findall(r"<sup>\d+</sup>", raw)) - entries
    if doc_id.startswith("002"):
        return len(re.findall(r"(?m)^- \(\d+\)", raw)), len(re.findall(r"⁽[⁰¹²³⁴⁵⁶⁷⁸⁹]+⁾", raw))
    entries = len(re.findall(f"(?m)^{SUP} ", raw))
    body = sum(len(re.findall(SUP, re.sub(f"^{SUP} ", "", line))) for line in raw.split("\n"))
    return entries, body


@pytest.mark.parametrize("doc_id", sorted(EXPECTED))
def test_raw_counts_match_expectation(doc_id: str) -> None:
    assert _raw_counts(doc_id) == EXPECTED[doc_id]


@pytest.mark.parametrize("doc_id", sorted(EXPECTED))
def test_every_marker_resolves(parsed_corpus: dict[str, Any], doc_id: str) -> None:
    doc = parsed_corpus[doc_id]
    entries, markers = EXPECTED[doc_id]
    assert len(doc.footnotes) == entries
    assert sorted(doc.footnotes) == list(range(1, entries + 1))
    cited = [n for p in doc.paragraphs for n in p.footnotes]
    assert len(cited) == markers
    assert doc.resolved_marker_count == markers
    assert doc.unresolved_markers == []
    assert sorted(cited) == list(range(1, markers + 1))  # each cited once, in order of numbers


@pytest.mark.parametrize("doc_id", sorted(EXPECTED))
def test_footnote_text_is_clean(parsed_corpus: dict[str, Any], doc_id: str) -> None:
    for fn in parsed_corpus[doc_id].footnotes.values():
        assert fn.text and fn.text == fn.text.strip()
        assert "<sup>" not in fn.text and "](" not in fn.text and "<http" not in fn.text
        assert not re.search(r"(?<!\w)\*|\*(?!\w)", fn.text), fn.text
        assert "\ue000" not in fn.text


def test_entries_continued_elsewhere_are_whole(parsed_corpus: dict[str, Any]) -> None:
    d1, d2, d3 = (parsed_corpus[k] for k in sorted(EXPECTED)[1:4])
    # 001 note 34 continues on the next page, after a body paragraph and a page separator
    assert d1.footnotes[34].text.endswith("geographically and politically landlocked country.")
    assert "for shipments of goods, effectively establishing" in d1.footnotes[34].text
    # 002 note 24: "*Anadolu" / "- Agency*"
    assert "Anadolu Agency, November 4, 2022" in d2.footnotes[24].text
    # 003 note 12: "officials be-" … body text of the next page … "lieve," CNN
    assert 'US intel officials believe," CNN, November 4, 2022' in d3.footnotes[12].text
    # 003 note 22: a URL broken across lines and wrapped in a markdown link
    assert "https://www.reuters.com/world/middle-east/turkeys-erdogan-says-hamas" in d3.footnotes[22].text
    # 003 further citations on their own lines belong to the entry above them
    assert "Joseph W. Sullivan" in d3.footnotes[8].text
    assert "Lilian Acedian" in d3.footnotes[83].text
    assert d3.footnotes[32].text.endswith("shusha-declaration-published-in-turkeys-official-gazette")


def test_ibid_resolved_to_previous_entry(parsed_corpus: dict[str, Any]) -> None:
    notes = parsed_corpus["001_a928311d0961af7f"].footnotes
    assert notes[39].text.startswith("Ibid. (Avi Monakov")
    assert notes[39].text[len("Ibid. (") : -1] == notes[38].text


def test_urls_kept_in_entries(parsed_corpus: dict[str, Any]) -> None:
    notes = parsed_corpus["001_a928311d0961af7f"].footnotes
    assert "https://aircenter.az/en/single/azerbaijan-turkiye-military-cooperation" in notes[6].text


def test_markers_to_sentinels_and_back() -> None:
    text = to_sentinels("ally.<sup>3</sup> with it. ⁽⁹⁾ This common²⁴ mistrust, EU.¹")
    clean, numbers, offsets = extract_markers(text)
    assert clean == "ally. with it. This common mistrust, EU."
    assert numbers == (3, 9, 24, 1)
    assert [clean[:o] for o, _ in offsets] == ["ally.", "ally. with it.", "ally. with it. This common", clean]


def test_entry_matchers() -> None:
    assert match_entry("<sup>12</sup> Joshua W. Walker") == (12, "Joshua W. Walker")
    assert match_entry("¹² Natasha Bertrand") == (12, "Natasha Bertrand")
    assert match_entry("In 2012 the") is None
    assert match_endnote_item("- (7) Yildirim Zafer") == (7, "Yildirim Zafer")
    assert match_endnote_item("- Agency*, November") == (None, "Agency*, November")


def test_resolve_ibid_chain() -> None:
    out = resolve_ibid({1: "A, 1.", 2: "Ibid.", 3: "Ibid., 45."})
    assert out == {1: "A, 1.", 2: "Ibid. (A, 1.)", 3: "Ibid., 45. (A, 1.)"}
