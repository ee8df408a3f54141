"""Property-based tests (hypothesis) of cleaning, parsing, footnotes and chunking on generated text.

Two kinds of input: arbitrary Unicode (control characters, odd spaces, very long lines, stray
markers) where the only promise is *no crash and self-consistent output*; and generated articles
(paragraphs of random-script words, soft line wraps, ``<sup>N</sup>`` markers, footnote entries with
numbers missing or duplicated) where conservation is checked: every word of the body, as
``clean_text`` normalises it, is in the parsed text exactly as often as in the input; every marker
is resolved or listed in ``unresolved_markers``; every non-space character lands in some chunk.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caucasus_qa.chunk import Chunker
from caucasus_qa.clean import clean_text
from caucasus_qa.errors import DocumentError
from caucasus_qa.footnotes import extract_markers, to_sentinels
from caucasus_qa.loaders import decode_bytes
from caucasus_qa.model_info import token_counter
from caucasus_qa.parse import parse_document
from caucasus_qa.schema import DocumentRecord, ParsedDocument
from caucasus_qa.settings import Settings

RECORD = DocumentRecord(doc_id="gen", title="Generated Title", authors=("Ann Example",))
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# any character at all (surrogates aside), weighted towards the awkward ones
awkward = st.sampled_from(
    list("\x00\x01\x07\x0b\x0c\x1b\x7f\x85\x9f\r\n\t \u00a0\u00ad\u200b\u200d\u2028\u2029\ufeff\ue000\ue001")
    + list("⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾<>/[]()*_#-•—’“”鈥檚浪花直播")
)
any_text = st.text(st.one_of(st.characters(exclude_categories=["Cs"]), awkward), max_size=400)


@cache
def chunker() -> Chunker:
    s = Settings()
    return Chunker(
        token_counter(s), s.embed.max_seq_tokens, s.embed.chunk_tokens, s.embed.chunk_overlap_sentences
    )


def check_spans(doc: ParsedDocument) -> None:
    for p in doc.paragraphs:
        assert doc.text[p.start : p.end] == p.text
        assert p.text == p.text.strip() and p.text
        for offset, _ in p.marker_offsets:
            assert 0 <= offset <= len(p.text)
    markers = {n for p in doc.paragraphs for n in p.footnotes}
    assert set(doc.unresolved_markers) == {n for n in markers if n not in doc.footnotes}


def check_chunks(doc: ParsedDocument) -> None:
    chunks = chunker().chunk(doc)
    covered = bytearray(len(doc.text))
    for c in chunks:
        assert c.text == doc.text[c.start : c.end] and c.text.strip()
        covered[c.start : c.end] = b"\x01" * (c.end - c.start)
        assert set(c.footnotes) <= set(doc.footnotes)
    lost = [i for i, ch in enumerate(doc.text) if not covered[i] and not ch.isspace()]
    assert not lost, doc.text[lost[0] : lost[0] + 40]
    assert len({c.chunk_id for c in chunks}) == len(chunks)


# -- arbitrary input: no crash, consistent output ---------------------------------------------------


@FAST
@given(any_text)
def test_clean_text_never_crashes_and_leaves_no_control_characters(text):
    out = clean_text(text)
    assert "\r" not in out
    assert not [ch for ch in out if (ord(ch) < 32 and ch not in "\n\t") or 0x7F <= ord(ch) <= 0x9F]


@FAST
@given(st.binary(max_size=300))
def test_decode_bytes_returns_text_or_a_document_error(data):
    try:
        text = decode_bytes(data, "x.txt")
    except DocumentError as err:
        assert str(err).startswith("x.txt: ") and "\n" not in str(err)
    else:
        assert isinstance(text, str)


@FAST
@given(any_text)
def test_markers_round_trip(text):
    """Whatever is in the text, sentinels come out again and offsets stay inside the result."""
    body, numbers, offsets = extract_markers(to_sentinels(text.replace("\ue000", "").replace("\ue001", "")))
    assert "\ue000" not in body and "\ue001" not in body
    assert len(numbers) == len(offsets)
    assert all(0 <= o <= len(body) for o, _ in offsets)


@SLOW
@given(st.lists(any_text, min_size=1, max_size=6), st.sampled_from(["\n", "\n\n", "\n\n\n", "\r\n"]))
def test_parse_and_chunk_never_crash_on_arbitrary_text(parts, sep):
    doc = parse_document(sep.join(parts), doc_id="gen", record=RECORD)
    check_spans(doc)
    check_chunks(doc)


@settings(max_examples=6, deadline=None)
@given(st.integers(2_000, 60_000), st.sampled_from(["word ", "x", "ab. ", "https://e.com/" + "a" * 50]))
def test_very_long_lines_parse_and_chunk(n, unit):
    text = (unit * (n // len(unit) + 1))[:n]
    doc = parse_document(text, doc_id="gen", record=RECORD)
    check_spans(doc)
    check_chunks(doc)


# -- generated articles: conservation ---------------------------------------------------------------

# word characters from every script; no markdown, hyphens, superscripts or other structure. Latin-1
# and Latin Extended letters are left out *here*: ftfy's mojibake repair (``Â`` + space → NBSP ...)
# depends on their neighbours, so a marker beside one legitimately changes the cleaned word.
letters = st.characters(
    categories=["Lu", "Ll", "Lo", "Nd"], exclude_characters="_", min_codepoint=0x250
) | st.characters(categories=["Lu", "Ll", "Nd"], max_codepoint=0x7F)
word = st.text(letters, min_size=1, max_size=12)


@st.composite
def article(draw: st.DrawFn) -> tuple[str, list[str], list[int], set[int]]:
    """(raw text, body paragraphs as written but without markers, marker numbers used, entry numbers)."""
    paragraphs: list[str] = []
    plain: list[str] = []
    used: list[int] = []
    for _ in range(draw(st.integers(1, 6))):
        words = ["Zq", *draw(st.lists(word, min_size=14, max_size=120))]  # never a heading or a label
        text_words = list(words)
        for _ in range(draw(st.integers(0, 3))):
            i = draw(st.integers(1, len(words) - 1))
            n = draw(st.integers(1, 30))
            used.append(n)
            text_words[i] = f"{text_words[i]}<sup>{n}</sup>"
        # soft line wraps inside the paragraph (lines of 13+ words: a shorter line may be a heading)
        lines, line = [], []
        for w in text_words:
            line.append(w)
            if len(line) >= 13 and draw(st.integers(0, 8)) == 0:
                lines.append(" ".join(line))
                line = []
        if line:
            lines.append(" ".join(line))
        paragraphs.append("\n".join(lines) + ".")
        plain.append(re.sub(r"<sup>\d+</sup>", "", paragraphs[-1]))
    entries = draw(st.lists(st.integers(1, 30), max_size=8))  # may miss markers, repeat numbers
    notes = [f"<sup>{n}</sup> Zq Note number {n}, Tbilisi Press, 2021." for n in entries]
    raw = "\n\n".join(paragraphs + notes) + "\n"
    return raw, plain, used, set(entries)


@SLOW
@given(article())
def test_parse_conserves_body_text_and_accounts_for_every_marker(art):
    raw, plain, used, entries = art
    doc = parse_document(raw, doc_id="gen", record=RECORD)
    check_spans(doc)
    expected = Counter(clean_text("\n\n".join(plain)).split())  # mojibake repair sees the same lines
    assert Counter(doc.text.split()) == expected
    found = [n for p in doc.paragraphs for n in p.footnotes]
    assert Counter(found) == Counter(used)  # every marker found where it stood, none invented
    assert set(doc.unresolved_markers) == set(used) - entries
    assert set(doc.footnotes) == entries
    check_chunks(doc)


@SLOW
@given(st.lists(st.text(string.ascii_letters + "  .,;!?\n", min_size=1, max_size=3000), max_size=4))
def test_chunks_cover_ascii_prose(parts):
    parts = parts or ["x"]
    doc = parse_document("\n\n".join(parts), doc_id="gen", record=RECORD)
    check_spans(doc)
    check_chunks(doc)
