"""Hybrid retrieval: fusion, filters, floor, passages, BM25 text and index life cycle."""

from __future__ import annotations

import itertools
import sys

import numpy as np
import pytest

from caucasus_qa.passages import MAX_PASSAGE_CHARS, merge_chunks
from caucasus_qa.schema import Chunk


def _chunk(pos: int, start: int, text: str, **kw: object) -> Chunk:
    return Chunk(
        chunk_id=f"d:{pos}",
        doc_id="d",
        text=text,
        section="",
        paragraph_index=kw.pop("paragraph", 0),  # type: ignore[arg-type]
        position=pos,
        start=start,
        end=start + len(text),
        prev_id=f"d:{pos - 1}" if pos else "",
        next_id=f"d:{pos + 1}",
    )


def test_overlapping_chunks_merge_without_repeating_the_shared_sentence():
    a = _chunk(0, 0, "One. Two.")
    b = _chunk(1, 5, "Two. Three.")
    merged = merge_chunks(b, a)
    assert merged is not None and merged.text == "One. Two. Three." and (merged.start, merged.end) == (0, 16)
    assert merged.next_id == "d:2"


def test_chunks_of_different_sections_do_not_merge():
    from dataclasses import replace

    a = _chunk(0, 0, "End of the abstract.")
    b = replace(_chunk(1, 21, "Start of the next section."), section="TURKEY")
    assert merge_chunks(a, b) is None and merge_chunks(b, a) is None


def test_far_apart_or_too_long_chunks_do_not_merge():
    assert merge_chunks(_chunk(0, 0, "One."), _chunk(3, 100, "Four.")) is None
    long_a = _chunk(0, 0, "x" * 900)
    long_b = _chunk(1, 900, "y" * 900)
    assert merge_chunks(long_a, long_b) is None
    assert merge_chunks(_chunk(0, 0, "a" * 10), _chunk(1, 10, "b" * 10)) is not None


@pytest.mark.integration
def test_fusion_never_resolves_an_llm(qa, monkeypatch):
    from llama_index.core import Settings as LlamaSettings

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    before = "llama_index.llms.openai" in sys.modules
    ans = qa.ask("Which company supplies Azerbaijan's drones?", top_k=5)
    assert ans.sources
    assert LlamaSettings._llm is None  # the default (OpenAI) LLM was never resolved
    assert ("llama_index.llms.openai" in sys.modules) == before


@pytest.mark.integration
def test_doc_filter_works_with_hybrid(qa):
    one = qa.ask("Israel Azerbaijan oil weapons", top_k=8, docs=["004_2e4681bc52934605"])
    assert one.sources and {s.doc_id for s in one.sources} == {"004_2e4681bc52934605"}
    two = ["000_58fd850d681a9b3e", "003_ccc9031e28dd9279"]
    both = qa.ask("Frantzman Jerusalem Post drones", top_k=10, docs=two)  # Frantzman is cited in 001 only
    assert both.sources and {s.doc_id for s in both.sources} <= set(two)


@pytest.mark.integration
def test_similarity_floor_applies_to_cosine_scores(qa):
    ans = qa.ask("Why does Iran see Azerbaijan as a threat?", top_k=10)
    assert all(-1.0 <= s.score <= 1.0 for s in ans.sources)
    floor = sorted(s.score for s in ans.sources)[len(ans.sources) // 2]
    kept = qa.ask("Why does Iran see Azerbaijan as a threat?", top_k=10, min_score=floor)
    assert kept.sources and all(s.score >= floor for s in kept.sources)
    assert len(kept.sources) < len(ans.sources)
    assert not qa.ask("Why does Iran see Azerbaijan as a threat?", top_k=10, min_score=0.99).sources


@pytest.mark.integration
def test_passage_score_is_the_cosine_of_its_best_chunk_whichever_retriever_found_it(qa, monkeypatch):
    from llama_index.core.schema import QueryBundle

    from caucasus_qa.fusion import DenseRetriever

    question = "Which source gives the share of Israeli weapons in Azerbaijan's arsenal?"  # names no document
    r = qa.snapshot().retriever
    reads: list[list[str]] = []
    real_read = type(qa.store).embeddings_for
    monkeypatch.setattr(
        type(qa.store), "embeddings_for", lambda self, ids: reads.append(list(ids)) or real_read(self, ids)
    )
    hits = r.retrieve(question, 10)
    assert not any(reads)  # BM25-only chunks are scored from the vectors kept in the sentence files
    monkeypatch.undo()
    q = np.asarray(r.query_vector(question), dtype=np.float32)
    stored = qa.store.embeddings_for([cid for h in hits for cid in h.parts])
    dense = DenseRetriever(qa.store, qa.manifest(), 40, None).retrieve(
        QueryBundle(question, embedding=r.query_vector(question))
    )
    assert {cid for h in hits for cid in h.parts} - {n.node.node_id for n in dense}, "no BM25-only chunk"
    for h in hits:
        best = max(float(np.asarray(stored[cid], dtype=np.float32) @ q) for cid in h.parts)
        assert h.score == pytest.approx(best, abs=1e-4)


@pytest.mark.integration
def test_dense_retriever_reads_chunks_the_manifest_does_not_know_from_the_store(qa):
    from types import SimpleNamespace

    from llama_index.core.schema import QueryBundle

    from caucasus_qa.fusion import DenseRetriever

    r = qa.snapshot().retriever
    bundle = QueryBundle(
        "Israeli drones in Azerbaijan", embedding=r.query_vector("Israeli drones in Azerbaijan")
    )
    known = DenseRetriever(qa.store, qa.manifest(), 5, None).retrieve(bundle)
    stale = SimpleNamespace(chunks={})  # as if another process ingested after this manifest was read
    unknown = DenseRetriever(qa.store, stale, 5, None).retrieve(bundle)  # type: ignore[arg-type]
    assert [n.node.node_id for n in unknown] == [n.node.node_id for n in known]
    assert [n.score for n in unknown] == pytest.approx([n.score for n in known])
    for n in unknown:
        chunk = r._chunk(n)
        assert chunk == qa.manifest().chunks[n.node.node_id]


@pytest.mark.integration
def test_the_store_is_counted_once_per_manifest_version(qa, monkeypatch):
    calls = []
    count = type(qa.store).count
    monkeypatch.setattr(type(qa.store), "count", lambda self: calls.append(1) or count(self))
    qa._indexed = None
    for _ in range(3):
        qa.ask("What does Iran fear?", top_k=3)
    assert len(calls) == 1


@pytest.mark.integration
def test_passages_are_deduplicated_and_bounded(qa):
    for question in (
        "What did Iran do on its border with Armenia?",
        "Who wrote about the Zangezur corridor?",
    ):
        ans = qa.ask(question, top_k=10)
        assert all(len(s.text) <= MAX_PASSAGE_CHARS for s in ans.sources)
        spans = sorted((s.doc_id, s.start, s.end) for s in ans.sources)
        for (d1, _s1, e1), (d2, s2, _e2) in itertools.pairwise(spans):
            assert d1 != d2 or s2 >= e1, "overlapping passages were returned"
        assert len({s.text for s in ans.sources}) == len(ans.sources)


@pytest.mark.integration
def test_bm25_finds_a_passage_by_a_footnote_author(qa):
    qa.ask("warm up", top_k=1)
    index = qa.snapshot().retriever.bm25
    hits = index.search("Frantzman", 3)
    chunks = [qa.manifest().chunks[cid] for cid, _ in hits]
    top = chunks[0]
    assert "Frantzman" not in top.text and any("Frantzman" in r for r in top.references)
    ans = qa.ask(
        "Who does Souleimanov cite for the share of Israeli weapons in Azerbaijan's arsenal?", top_k=5
    )
    assert any(any("Frantzman" in r for r in s.references) for s in ans.sources)


@pytest.mark.integration
def test_keyword_index_ranks_as_llamaindex_bm25_retriever_and_filters_by_document(qa):
    # KeywordIndex skips the retriever's node rebuilding; its ranking must be the retriever's own.
    import bm25s
    from llama_index.core.schema import QueryBundle
    from llama_index.retrievers.bm25 import BM25Retriever

    from caucasus_qa.bm25 import TOKEN_PATTERN, stemmer

    qa.ask("warm up", top_k=1)
    index = qa.snapshot().retriever.bm25
    assert index.bm25.corpus is None  # the index holds chunk ids only, not the saved corpus
    saved = bm25s.BM25.load(str(qa.settings.store.store_dir / "bm25"), load_corpus=True, show_progress=False)
    reference = BM25Retriever(existing_bm25=saved, similarity_top_k=15, token_pattern=TOKEN_PATTERN)
    reference.stemmer = stemmer()
    for query in ("Israeli drones supplied to Azerbaijan", "Zangezur corridor Iran red line", "Frantzman"):
        expected = [
            (n.node.node_id, round(n.score or 0.0, 5)) for n in reference.retrieve(QueryBundle(query))
        ]
        got = [(cid, round(score, 5)) for cid, score in index.search(query, 15)]
        assert got == [e for e in expected if e[1] > 0]
    doc = next(iter(qa.manifest().docs))
    only = index.search("Israel Azerbaijan Iran", 15, [doc])
    assert only and all(qa.manifest().chunks[cid].doc_id == doc for cid, _ in only)
    assert index.search("Israel", 10_000)  # k beyond the corpus is clamped, not an error
    assert index.search("qwxyzzy unknownword", 5) == []


@pytest.mark.integration
def test_bm25_index_is_rebuilt_when_ingest_adds_a_document(mini_corpus, tmp_path):
    from caucasus_qa import Assistant

    store = tmp_path / "store"
    qa = Assistant(corpus_dir=mini_corpus, store_dir=store)
    qa.ingest()
    stamp = (store / "bm25" / "stamp.json").read_text()
    assert not qa.ask("zorbanite quarry", top_k=3).sources or all(
        "zorbanite" not in s.text.lower() for s in qa.ask("zorbanite quarry", top_k=3).sources
    )
    extra = tmp_path / "note.md"
    extra.write_text(
        "# Quarry Note\n\nThe zorbanite quarry near Lachin employs four hundred people.\n", "utf-8"
    )
    qa.ingest([extra])
    assert (store / "bm25" / "stamp.json").read_text() != stamp
    from caucasus_qa import bm25

    index = bm25.load_or_build(qa.settings, qa.manifest())
    assert index is not None
    top = index.search("zorbanite", 1)
    assert top and qa.manifest().chunks[top[0][0]].doc_id == "note"
    (store / "bm25" / bm25.IDS_FILE).unlink()  # a store from before ids.json was kept: rebuilt on load
    again = bm25.load_or_build(qa.settings, qa.manifest())
    assert again is not None and again.search("zorbanite", 1) == top
    assert (store / "bm25" / bm25.IDS_FILE).exists()
    assert qa.ask("zorbanite quarry", top_k=3).sources[0].doc_id == "note"


def test_documents_named_in_a_question_are_found_by_surname_or_venue_acronym():
    from caucasus_qa.aliases import AliasMatcher
    from caucasus_qa.query_words import strip_aliases

    def mentioned_docs(query, aliases):
        return AliasMatcher(aliases)(query)

    aliases = {"000": ["Khanin"], "003": ["Roubanis"], "004": ["GDC"], "001": ["Souleimanov"]}
    q = "What military goods is Tehran supplying to Moscow's war, according to Khanin and Roubanis?"
    assert mentioned_docs(q, aliases) == ["000", "003"]
    assert mentioned_docs("How do the GDC article and Klaleche's study differ?", aliases) == ["004"]
    assert mentioned_docs("What does khanin think?", aliases) == []  # names are case-sensitive
    assert mentioned_docs("Why does Iran fear Azerbaijan?", aliases) == []
    assert mentioned_docs("Roubanis, then Khanin?", aliases) == ["003", "000"]  # in query order
    shared = {"a": ["Smith"], "b": ["Smith", "Smithson"], "c": ["Lee"]}
    assert mentioned_docs("Smithson and Smith on Lee", shared) == ["b", "a", "c"]
    assert mentioned_docs("anything", {"a": []}) == []
    odd = {"a": ["O'Neil"], "b": ["Khanin"], "c": ["Al-Amin"]}  # names with non-word characters
    assert mentioned_docs("Khanin's view and O'Neil's, then Al-Amin", odd) == ["b", "a", "c"]
    assert mentioned_docs("O'Neill and Al-Aminah", odd) == []  # whole words only
    assert (
        strip_aliases(q, ["Khanin", "Roubanis"]) == "What military goods is Tehran supplying to Moscow's war?"
    )
    assert strip_aliases("According to Souleimanov, why is Baku nervous?", ["Souleimanov"]) == (
        "why is Baku nervous?"
    )


@pytest.mark.integration
def test_each_named_document_contributes_passages_near_the_top(qa):
    hits = qa.ask("What goods is Iran supplying to Russia's war, according to Khanin and Roubanis?", top_k=4)
    top = [s.doc_id for s in hits.sources[:4]]
    assert {"000_58fd850d681a9b3e", "003_ccc9031e28dd9279"} <= set(top[:2])
    alone = qa.ask("Why does Souleimanov think Azerbaijan is vulnerable?", top_k=3)
    assert all(s.doc_id == "001_a928311d0961af7f" for s in alone.sources[:2])


def test_a_question_about_what_several_articles_say_leads_with_several_documents(qa):
    from dataclasses import replace

    from caucasus_qa.passages import Hit, spread_over_documents
    from caucasus_qa.query_words import asks_several_documents

    assert asks_several_documents("Which leader do two of the articles credit with reconciling them?")
    assert asks_several_documents("How has Ankara helped young Azerbaijanis, according to the articles?")
    assert asks_several_documents("What do both authors say about drones?")
    assert not asks_several_documents("Why does the article say Iran fears Azerbaijan?")
    assert not asks_several_documents("What did Aliyev say in 2012?")

    hits = [Hit(replace(_chunk(i, i * 100, "x" * 50), doc_id=d), 0.5) for i, d in enumerate("aabacb")]
    spread = spread_over_documents(hits, 3)
    assert [h.chunk.doc_id for h in spread] == list("abcaab")  # best of a, b, c first, then in order
    assert sorted(map(id, spread)) == sorted(map(id, hits))  # nothing lost, nothing repeated
    assert spread_over_documents(hits, 1) == hits

    question = "What do both authors say about the Zangezur corridor?"
    r = qa.snapshot().retriever
    plain = [h.chunk.doc_id for h in r._retrieve(question, r.query_vector(question), 10, None)]
    assert len(set(plain[:3])) < 3, "the plain ranking repeats a document in its first three"
    spread = [s.doc_id for s in qa.ask(question, top_k=10).sources]
    assert len(set(spread[:3])) == 3 and spread[0] == plain[0] and sorted(spread) == sorted(plain)
