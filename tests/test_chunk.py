"""Chunking on the real corpus: fits the embedder, keeps structure and citations, stable ids."""

from __future__ import annotations

import itertools
from functools import cache

import pytest
from llama_index.core.schema import MetadataMode

from caucasus_qa.chunk import Chunker, from_metadata, sentence_spans, to_node
from caucasus_qa.model_info import model_path, token_counter
from caucasus_qa.settings import Settings


@cache
def real_tokenizer():  # the model's own HF tokenizer, as sentence-transformers uses it
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_path(Settings())), local_files_only=True)


@pytest.fixture(scope="module")
def chunked(parsed_corpus):
    s = Settings()
    chunker = Chunker(
        token_counter(s), s.embed.max_seq_tokens, s.embed.chunk_tokens, s.embed.chunk_overlap_sentences
    )
    return {doc_id: (doc, chunker.chunk(doc)) for doc_id, doc in parsed_corpus.items()}


def test_every_chunk_fits_the_embedder_including_its_metadata(chunked):
    tok = real_tokenizer()
    worst = 0
    for doc, chunks in chunked.values():
        assert chunks, doc.doc_id
        for c in chunks:
            embedded = to_node(c, doc.record).get_content(MetadataMode.EMBED)
            n = len(tok(embedded, add_special_tokens=True, truncation=False)["input_ids"])
            worst = max(worst, n)
            assert n <= 256, (c.chunk_id, n)
            assert c.text in embedded and doc.record.title in embedded
    assert worst > 150  # chunks are not trivially small either


def test_chunk_spans_are_exact_and_stay_inside_one_section(chunked):
    for doc, chunks in chunked.values():
        for c in chunks:
            assert doc.text[c.start : c.end] == c.text
            covering = [p for p in doc.paragraphs if p.start < c.end and c.start < p.end]
            assert {p.section for p in covering} == {covering[0].section}
            assert c.section == " › ".join(covering[0].section)


def test_every_paragraph_sentence_lands_in_some_chunk(chunked):
    for doc, chunks in chunked.values():
        covered = bytearray(len(doc.text))
        for c in chunks:
            covered[c.start : c.end] = b"\x01" * (c.end - c.start)
        for p in doc.paragraphs:
            missing = [i for i in range(p.start, p.end) if not covered[i] and not doc.text[i].isspace()]
            assert not missing, (doc.doc_id, p.index, doc.text[missing[0] : missing[0] + 40])


def test_chunks_carry_the_references_of_the_footnotes_they_cite(chunked):
    doc, chunks = chunked["001_a928311d0961af7f"]
    cited = [c for c in chunks if c.footnotes]
    assert len(cited) >= 20
    for c in cited:
        assert len(c.references) == len(c.footnotes)
        for n, ref in zip(c.footnotes, c.references, strict=True):
            assert ref == doc.footnotes[n].text
    # the Turkish military-academy passage cites Ismayilov and Graham (note 5)
    academies = next(c for c in chunks if "one nation, two states" in c.text)
    assert any("Ismayilov" in r for r in academies.references)


def test_chunk_ids_are_deterministic_and_neighbours_linked(chunked, parsed_corpus):
    s = Settings()
    again = Chunker(
        token_counter(s), s.embed.max_seq_tokens, s.embed.chunk_tokens, s.embed.chunk_overlap_sentences
    )
    for doc_id, (_doc, chunks) in chunked.items():
        ids = [c.chunk_id for c in chunks]
        assert ids == [c.chunk_id for c in again.chunk(parsed_corpus[doc_id])]
        assert len(set(ids)) == len(ids) and all(i.startswith(doc_id + ":") for i in ids)
        for a, b in itertools.pairwise(chunks):
            assert a.next_id == b.chunk_id and b.prev_id == a.chunk_id
        assert chunks[0].prev_id == "" and chunks[-1].next_id == ""


def test_node_metadata_is_scalar_and_round_trips(chunked):
    doc, chunks = chunked["002_b66d9f311757d21f"]
    for c in chunks[:20]:
        node = to_node(c, doc.record)
        assert all(isinstance(v, str | int | float) for v in node.metadata.values())
        assert from_metadata(c.chunk_id, c.text, node.metadata) == c


def test_overlong_sentence_is_split_not_truncated(parsed_corpus):
    from dataclasses import replace

    from caucasus_qa.schema import Paragraph

    doc = parsed_corpus["004_2e4681bc52934605"]
    long_text = " ".join(["Azerbaijan bought Israeli drones and Iran protested loudly"] * 120)
    para = Paragraph(index=0, section=("Test",), text=long_text, start=0, end=len(long_text))
    fake = replace(doc, text=long_text, paragraphs=[para], footnotes={})
    s = Settings()
    chunks = Chunker(token_counter(s), s.embed.max_seq_tokens, s.embed.chunk_tokens, 0).chunk(fake)
    assert len(chunks) >= 4
    assert "".join(c.text for c in chunks).replace(" ", "") == long_text.replace(" ", "")
    tok = real_tokenizer()
    for c in chunks:
        assert len(tok(to_node(c, doc.record).get_content(MetadataMode.EMBED))["input_ids"]) <= 256


def test_sentence_spans_cover_text_without_loss():
    text = "Iran objected. Baku did not! Was it a threat? Yes — arguably."
    spans = sentence_spans(text)
    assert len(spans) == 4
    assert "".join(text[a:b] for a, b in spans) == text
