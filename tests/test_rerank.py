"""The reranker seam: settings choose it, ``Assistant(reranker=...)`` injects it, and a real (tiny,
random) cross-encoder loaded from a directory orders the passages of ``ask`` exactly as it scores them."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from caucasus_qa.errors import StoreError
from caucasus_qa.passages import Hit
from caucasus_qa.rerank import CrossEncoderReranker, reranker_from
from caucasus_qa.schema import Chunk
from caucasus_qa.settings import Settings

QUESTION = "Why does Iran fear Azerbaijan's ties with Israel?"


def write_tiny_cross_encoder(directory: Path, texts: Sequence[str], seed: int = 0) -> Path:
    """A one-layer BERT sequence classifier with random weights and a WordPiece vocabulary of the
    commonest words of ``texts``, saved as a cross-encoder directory (model, config, tokenizer)."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    words = Counter(w for t in texts for w in re.findall(r"[a-z]+", t.lower()))
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *(w for w, _ in words.most_common(2000))]
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab=str(directory / "vocab.txt"), model_max_length=128)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=128,
        num_labels=1,
        initializer_range=0.5,  # scores spread well apart, so the order is the model's, not ties
    )
    torch.manual_seed(seed)
    BertForSequenceClassification(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def test_reranking_is_off_by_default_and_on_from_the_environment(monkeypatch, tmp_path):
    assert Settings().retrieval.rerank_model is None and reranker_from(Settings()) is None
    monkeypatch.setenv("CAUCASUS_QA_RETRIEVAL__RERANK_MODEL", str(tmp_path))
    monkeypatch.setenv("CAUCASUS_QA_RETRIEVAL__RERANK_DEPTH", "12")
    s = Settings()
    assert s.retrieval.rerank_model == tmp_path and s.retrieval.rerank_depth == 12
    chosen = reranker_from(s)
    assert isinstance(chosen, CrossEncoderReranker) and chosen.model_path == tmp_path


def test_a_directory_without_a_model_is_a_one_line_store_error(tmp_path):
    reranker = CrossEncoderReranker(tmp_path / "nothing-here")
    hit = Hit(Chunk("d:0", "d", "Some text.", "", 0, 0, 0, 10), 0.3)
    with pytest.raises(StoreError, match="rerank_model: no cross-encoder"):
        reranker.rerank("a question?", [hit])
    assert reranker.rerank("a question?", []) == []  # nothing to score: the model is not even loaded


class Reversing:
    """A reranker that puts the retrieved passages in reverse order (scores 0, 1, 2, ...)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []

    def rerank(self, query: str, hits: Sequence[Hit]) -> list[Hit]:
        self.seen.append((query, len(hits)))
        return [replace(h, rerank_score=float(i)) for i, h in enumerate(reversed(hits))]


@pytest.mark.integration
def test_an_injected_reranker_sees_rerank_depth_passages_and_its_order_is_kept(qa):
    from caucasus_qa import Assistant

    fake = Reversing()
    qa2 = Assistant(settings=qa.settings, reranker=fake, retrieval={"rerank_depth": 7})
    retrieved = [h.chunk.chunk_id for h in qa2.snapshot().retriever.retrieve(QUESTION, 7)]
    ans = qa2.ask(QUESTION, top_k=3)
    assert fake.seen == [(QUESTION, 7)]
    assert [s.chunk_id for s in ans.sources] == retrieved[::-1][:3]
    assert [s.rerank_score for s in ans.sources] == [0.0, 1.0, 2.0]
    draft = qa2.draft(QUESTION, top_k=3)  # what `train` learns from goes through the same seam
    assert [s.chunk_id for s in draft.sources] == retrieved[::-1][:3]


@pytest.mark.integration
def test_a_cross_encoder_from_settings_orders_the_passages_as_it_scores_them(qa, tmp_path):
    from sentence_transformers import CrossEncoder

    from caucasus_qa import Assistant

    texts = [c.text for c in qa.manifest().chunks.values()]
    model_dir = write_tiny_cross_encoder(tmp_path / "tiny-cross-encoder", texts)
    depth, k = 8, 4
    on = Assistant(settings=qa.settings, retrieval={"rerank_model": model_dir, "rerank_depth": depth})
    assert isinstance(on.reranker, CrossEncoderReranker)  # chosen by the settings, loaded from the directory
    ans = on.ask(QUESTION, top_k=k)

    # the cross-encoder's own scores of the passages retrieval found at the rerank depth
    retrieved = on.snapshot().retriever.retrieve(QUESTION, depth)
    own = CrossEncoder(str(model_dir), device="cpu", local_files_only=True)
    scores = np.asarray(own.predict([(QUESTION, h.chunk.text) for h in retrieved]), dtype=np.float64)
    order = np.argsort(-scores, kind="stable")
    assert len(set(np.round(scores, 4))) == len(scores), "tied scores would make the order arbitrary"
    assert [s.chunk_id for s in ans.sources] == [retrieved[i].chunk.chunk_id for i in order[:k]]
    assert [s.rerank_score for s in ans.sources] == pytest.approx(scores[order[:k]].tolist(), abs=1e-4)
    fused = [h.chunk.chunk_id for h in retrieved[:k]]
    assert [s.chunk_id for s in ans.sources] != fused, "the test needs an order the reranker changed"
    for s in ans.sources:  # score keeps its meaning: the question-to-best-chunk cosine of retrieval
        assert s.score == round(next(h.score for h in retrieved if h.chunk.chunk_id == s.chunk_id), 4)
    assert ans.to_dict()["sources"][0]["rerank_score"] == ans.sources[0].rerank_score

    off = Assistant(settings=qa.settings)
    assert off.reranker is None
    plain = off.ask(QUESTION, top_k=k)
    assert [s.chunk_id for s in plain.sources] == [
        h.chunk.chunk_id for h in off.snapshot().retriever.retrieve(QUESTION, k)
    ]
    assert all(s.rerank_score is None for s in plain.sources)
    assert plain.to_dict()["sources"][0]["rerank_score"] is None
