"""Sentence vectors pooled from the chunk pass: exact chunk vectors, stored per document, used by ask."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from llama_index.core.schema import MetadataMode

from caucasus_qa import Assistant
from caucasus_qa.chunk import to_node
from caucasus_qa.embed import SentenceTransformerEmbedding
from caucasus_qa.sentvec import ChunkRow, SentenceStore, pool_sentences, sentence_dir, sentence_pieces

pytestmark = pytest.mark.integration


def embed_texts(qa: Assistant, n: int) -> tuple[list[str], list[int], list[str]]:
    manifest = qa.manifest()
    chunks = list(manifest.chunks.values())[:n]
    records = {d: e.record for d, e in manifest.docs.items()}
    texts = [to_node(c, records[c.doc_id]).get_content(MetadataMode.EMBED) for c in chunks]
    return texts, [len(t) - len(c.text) for t, c in zip(texts, chunks, strict=True)], [c.text for c in chunks]


def test_pooling_keeps_chunk_vectors_and_gives_one_vector_per_sentence(qa):
    texts, starts, bodies = embed_texts(qa, 12)
    encoded = pool_sentences(qa.embedding.model, texts, starts, batch_size=4)
    plain = qa.embedding.encode(texts)
    for enc, ref, body in zip(encoded, plain, bodies, strict=True):
        assert np.allclose(enc.vector, ref, atol=1e-5)  # the chunk vector is what encode gives
        assert [tuple(s) for s in enc.spans.tolist()] == sentence_pieces(body)
        assert np.allclose(np.linalg.norm(enc.sentences, axis=1), 1.0, atol=1e-5)
    # a pooled sentence vector is closest to that sentence encoded alone, among its chunk's sentences
    enc, body = encoded[0], bodies[0]
    alone = qa.embedding.encode([body[a:b] for a, b in enc.spans.tolist()])
    sims = enc.sentences @ alone.T
    assert len(sims) >= 2
    assert (sims.argmax(axis=1) == np.arange(len(sims))).mean() >= 0.75


def test_store_round_trip_remove_and_prune(tmp_path):
    store = SentenceStore(tmp_path / "sentences")
    chunk_a, chunk_b = np.array([0.6, 0.8, 0, 0], np.float32), np.array([0.1, 0.2, 0.3, 0.4], np.float32)
    rows = {
        "d:0000:a": ChunkRow(
            np.array([[0, 5], [6, 9]], dtype=np.int32), np.eye(2, 4, dtype=np.float32), chunk_a
        ),
        "d:0001:b": ChunkRow(
            np.array([[0, 3]], dtype=np.int32), np.ones((1, 4), dtype=np.float32) / 2, chunk_b
        ),
    }
    store.write("d", rows)
    store.write("e", {"e:0000:c": rows["d:0001:b"]._replace(chunk=None)})
    back = store.read("d")
    assert list(back) == list(rows)
    for k, (spans, vecs, chunk, _) in rows.items():
        assert np.array_equal(back[k].spans, spans) and np.allclose(back[k].vectors, vecs, atol=1e-3)
        assert np.array_equal(back[k].chunk, chunk)  # float32, exact: passage scores come from it
    assert store.read("e")["e:0000:c"].chunk is None  # a row without its chunk vector stays without
    store.prune(["d"])
    assert store.read("e") == {} and store.read("d")
    store.remove("d")
    assert store.read("d") == {} and list(store.dir.iterdir()) == []
    store.path("x").parent.mkdir(exist_ok=True)
    store.path("x").write_bytes(b"not a vector file")
    assert store.read("x") == {}  # damaged: no vectors, the answer stage encodes instead
    store.write("y", rows)
    store.path("y").write_bytes(store.path("y").read_bytes()[:-7])
    assert store.read("y") == {}  # truncated


def test_files_of_the_earlier_npz_format_are_not_read_and_prune_deletes_them(tmp_path):
    store = SentenceStore(tmp_path / "sentences")
    store.dir.mkdir()
    old = store.path("d").with_suffix(".npz")  # what an earlier version wrote for document "d"
    spans, vecs = np.array([[0, 4], [5, 9], [0, 2]], np.int32), np.eye(3, 4, dtype=np.float16)
    np.savez(old, chunk_ids=np.array(["d:0", "d:1"]), counts=np.array([2, 1]), spans=spans, vectors=vecs)
    assert store.read("d") == {}  # no rows: the answer stage encodes those sentences at question time
    store.prune(["d"])
    assert not old.exists()


def test_ingest_stores_vectors_that_ask_uses_instead_of_encoding(qa, monkeypatch):
    store = SentenceStore(sentence_dir(qa.settings))
    manifest = qa.manifest()
    for doc_id, entry in manifest.docs.items():
        rows = store.read(doc_id)
        assert set(rows) == set(entry.chunk_ids)
        stored = qa.store.embeddings_for(list(rows))
        for cid, (spans, vecs, chunk, _) in rows.items():
            assert [tuple(s) for s in spans.tolist()] == sentence_pieces(manifest.chunks[cid].text)
            assert vecs.shape == (len(spans), qa.embedding.dimension)
            assert np.allclose(chunk, stored[cid], atol=1e-6)  # the vector Chroma holds
    calls: list[int] = []
    real = SentenceTransformerEmbedding.encode

    def counting(self, texts, show_progress_bar=False):
        calls.append(len(texts))
        return real(self, texts, show_progress_bar)

    monkeypatch.setattr(SentenceTransformerEmbedding, "encode", counting)
    question = "Which drone maker's products did Azerbaijan use against Armenian air defences?"
    ans = qa.ask(question)
    assert not ans.abstained and ans.sources
    assert calls == [1]  # the question, once: no sentence encoded, no second question embedding


def test_missing_vectors_fall_back_to_encoding(mini_corpus, tmp_path):
    qa = Assistant(corpus_dir=mini_corpus, store_dir=tmp_path / "store")
    qa.ingest()
    question = "How many Russian peacekeepers entered Karabakh?"
    with_stored = qa.ask(question)
    for p in sentence_dir(qa.settings).iterdir():
        p.unlink()
    fresh = Assistant(corpus_dir=mini_corpus, store_dir=tmp_path / "store")
    without = fresh.ask(question)
    assert without.sources and without.answer  # answered, not an error
    assert len(fresh.snapshot().vectors._vecs) > 10  # the passages' sentences were encoded at question time
    assert with_stored.sources[0].chunk_id == without.sources[0].chunk_id
    again = fresh.ingest()  # an unchanged corpus over a store without its vector files: nothing to do
    assert again.unchanged_docs == 2 and again.embedded_chunks == 0 and fresh.ask(question).answer


def test_changed_document_keeps_vectors_of_reused_chunks_and_remove_drops_the_file(mini_corpus, tmp_path):
    qa = Assistant(corpus_dir=mini_corpus, store_dir=tmp_path / "store")
    qa.ingest()
    store = SentenceStore(sentence_dir(qa.settings))
    doc = "004_2e4681bc52934605"
    before = store.read(doc)
    path = mini_corpus / f"{doc}.txt"
    anchor = "Some 2,000 Russian peacekeepers entered the region"
    path.write_text(path.read_text("utf-8").replace(anchor, "A trout accord was signed. " + anchor), "utf-8")
    report = qa.ingest()
    assert 1 <= report.embedded_chunks <= 2
    after = store.read(doc)
    assert set(after) == set(qa.manifest().docs[doc].chunk_ids)
    kept = set(before) & set(after)
    assert len(kept) >= len(after) - 2
    for cid in kept:  # reused chunks carry their stored sentence vectors over unchanged
        assert np.array_equal(after[cid][1], before[cid][1])
    qa.remove(doc)
    assert store.read(doc) == {} and not store.path(doc).exists()


def test_rebuild_replaces_the_directory_and_leaves_no_staging(mini_corpus, tmp_path):
    qa = Assistant(corpus_dir=mini_corpus, store_dir=tmp_path / "store")
    qa.ingest()
    stale = sentence_dir(qa.settings) / "stale.npz"
    stale.write_bytes(b"x")
    qa.ingest(rebuild=True)
    names = {p.name for p in Path(qa.settings.store.store_dir).iterdir()}
    assert "sentences" in names and not any(n.startswith("sentences") and n != "sentences" for n in names)
    assert not stale.exists()
    for doc_id, entry in qa.manifest().docs.items():
        assert set(SentenceStore(sentence_dir(qa.settings)).read(doc_id)) == set(entry.chunk_ids)


def test_onnx_encoder_pools_the_same_way(qa, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from caucasus_qa.embed import default_model_path
    from caucasus_qa.onnx_backend import OnnxEncoder

    enc = OnnxEncoder(default_model_path(), tmp_path, quantize=False)
    texts, starts, _ = embed_texts(qa, 4)
    pooled = pool_sentences(enc, texts, starts, batch_size=2)
    plain = enc.encode(texts)
    torch_pooled = pool_sentences(qa.embedding.model, texts, starts, batch_size=2)
    for a, ref, t in zip(pooled, plain, torch_pooled, strict=True):
        assert np.allclose(a.vector, ref, atol=1e-5)
        assert np.array_equal(a.spans, t.spans)
        assert np.allclose(a.sentences, t.sentences, atol=1e-3)


def test_retriever_rescores_the_top_chunks_by_their_best_sentence(qa):
    from types import SimpleNamespace

    from caucasus_qa.retrieve import HybridRetriever
    from caucasus_qa.settings import RetrievalSettings

    chunks = list(qa.manifest().chunks.values())[:4]
    q = np.zeros(4, dtype=np.float32)
    q[0] = 1.0
    vectors = {  # chunk 2 holds a sentence pointing exactly at the question; chunk 3 has no vectors
        chunks[0].chunk_id: (np.zeros((1, 2)), np.array([[0.1, 1, 0, 0]], dtype=np.float32)),
        chunks[1].chunk_id: (np.zeros((1, 2)), np.array([[0.2, 1, 0, 0]], dtype=np.float32)),
        chunks[2].chunk_id: (np.zeros((2, 2)), np.array([[0, 1, 0, 0], [1, 0, 0, 0]], dtype=np.float32)),
    }
    scored = [(chunks[0], 0.9), (chunks[1], 0.8), (chunks[2], 0.7), (chunks[3], 0.6)]
    fake = SimpleNamespace(
        config=RetrievalSettings(sentence_weight=0.5, sentence_depth=3), sentences=lambda d: vectors
    )
    out = HybridRetriever._by_sentence(fake, scored, list(q))  # type: ignore[arg-type]
    assert [c.chunk_id for c, _ in out] == [chunks[i].chunk_id for i in (2, 0, 1, 3)]
    assert out[0][1] == pytest.approx(0.7 + 0.5 * 1.0) and out[3][1] == 0.6  # beyond the depth: kept
    off = SimpleNamespace(config=RetrievalSettings(sentence_weight=0.0), sentences=lambda d: vectors)
    assert HybridRetriever._by_sentence(off, scored, list(q)) == scored  # type: ignore[arg-type]


@pytest.mark.integration
def test_stored_sentence_spans_are_the_punkt_sentences_of_the_chunk_and_only_of_it(qa):
    from dataclasses import replace

    from caucasus_qa.candidates import _sentence_pieces

    ans = qa.ask("How does Iran view Israel's presence in Azerbaijan?", top_k=5)
    for src in ans.sources:
        chunk = qa.manifest().chunks[src.chunk_id]
        whole = replace(src, text=chunk.text)
        assert qa.snapshot().stored_spans(whole) == list(_sentence_pieces(chunk.text))
        assert qa.snapshot().stored_spans(replace(src, text=chunk.text + " Another sentence.")) is None
