"""Cheap, honest vectors for the synthetic tiers (embedding 100,000 chunks on 2 CPU cores takes hours).

A synthetic chunk is made of sentences of real paragraphs. Every paragraph of the pool is embedded
ONCE with the real model; a chunk's vector is the normalised mean of the vectors of the pool
paragraphs its sentences come from (found by the first 40 characters of each sentence). So the
vectors are real MiniLM vectors of the text the chunk holds, averaged, not the model's vector of the
chunk itself: retrieval over them behaves like the real thing for latency and memory, and the ingest
pipeline (parse, chunk, Chroma writes, manifest, BM25) runs for real around them. A chunk with no
recognisable sentence (rare) gets the vector of a pool paragraph chosen by a hash of its text.

``HashEmbedding`` (random unit vectors seeded by the text) is for the smoke run only: no model load.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.bridge.pydantic import PrivateAttr

from caucasus_qa.embed import SentenceTransformerEmbedding
from caucasus_qa.sentvec import Encoded, sentence_pieces

KEY = 40
_SENT = re.compile(r"(?<=[.!?…”\"')\]])\s+")


def _keys(text: str) -> list[str]:
    return [s[:KEY] for s in _SENT.split(" ".join(text.split())) if len(s) >= 12]


def pool_vectors(model: Any, paragraphs: Sequence[str], cache_dir: Path, batch_size: int = 64) -> np.ndarray:
    """Real vectors of the pool paragraphs, computed once and cached by content."""
    h = hashlib.sha256("\x1e".join(paragraphs).encode()).hexdigest()[:16]
    cache = cache_dir / f"pool-{h}.npy"
    if cache.is_file():
        return np.load(cache)
    vecs = model.encode(list(paragraphs), batch_size=batch_size, normalize_embeddings=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(cache, np.asarray(vecs, dtype=np.float32))
    return np.asarray(vecs, dtype=np.float32)


class PooledEmbedding(SentenceTransformerEmbedding):
    """``encode`` from precomputed paragraph vectors; queries still go to the real model."""

    _vectors: Any = PrivateAttr()
    _index: Any = PrivateAttr()
    _stats: Any = PrivateAttr(default=None)

    def __init__(self, model: Any, model_name: str, paragraphs: Sequence[str], vectors: np.ndarray) -> None:
        super().__init__(model, model_name)
        self._vectors = vectors
        index: dict[str, int] = {}
        for i, p in enumerate(paragraphs):
            for k in _keys(p):
                index.setdefault(k, i)
        self._index = index
        self._stats = {"chunks": 0, "matched": 0, "seconds": 0.0}

    @property
    def stats(self) -> dict[str, float]:
        return dict(self._stats)

    def encode(self, texts: Sequence[str], show_progress_bar: bool = False) -> np.ndarray:
        t0 = time.perf_counter()
        out = np.zeros((len(texts), self._vectors.shape[1]), dtype=np.float32)
        for row, text in enumerate(texts):
            hits = {self._index[k] for k in _keys(text) if k in self._index}
            self._stats["chunks"] += 1
            if hits:
                self._stats["matched"] += 1
                v = self._vectors[sorted(hits)].mean(axis=0)
            else:
                seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")
                v = self._vectors[seed % len(self._vectors)]
            out[row] = v / (np.linalg.norm(v) or 1.0)
        self._stats["seconds"] += time.perf_counter() - t0
        return out

    def encode_with_sentences(
        self, texts: Sequence[str], body_starts: Sequence[int], on_slice: Callable[[int], None] | None = None
    ) -> list[Encoded]:
        """A sentence's vector is its pool paragraph's (the chunk's when not recognised)."""

        def of(sentence: str, chunk_vec: np.ndarray) -> np.ndarray:
            keys = [k for k in _keys(sentence) if k in self._index]
            return self._vectors[self._index[keys[0]]] if keys else chunk_vec

        out = by_sentence(self, texts, body_starts, of)
        if on_slice is not None:
            on_slice(len(texts))
        return out


def by_sentence(
    emb: SentenceTransformerEmbedding,
    texts: Sequence[str],
    body_starts: Sequence[int],
    sentence_vector: Callable[[str, np.ndarray], np.ndarray],
) -> list[Encoded]:
    """What ``encode_with_sentences`` gives, for the stand-in embeddings: chunk vectors from
    ``encode``, one vector per sentence (the same sentence spans the real pooling stores)."""
    out: list[Encoded] = []
    for text, start, vec in zip(texts, body_starts, emb.encode(texts), strict=True):
        body = text[start:]
        spans = sentence_pieces(body)
        sents = [sentence_vector(body[a:b], vec) for a, b in spans]
        out.append(
            Encoded(
                vec,
                np.asarray(spans, dtype=np.int32).reshape(-1, 2),
                np.asarray(sents, dtype=np.float32).reshape(-1, len(vec)),
            )
        )
    return out


class HashEmbedding(SentenceTransformerEmbedding):
    """Deterministic random unit vectors (smoke runs: exercises the pipeline without a model)."""

    _dim: int = PrivateAttr(default=384)

    def __init__(self, dim: int = 384, model_name: str = "sentence-transformers/all-MiniLM-L6-v2") -> None:
        super().__init__(None, model_name)  # type: ignore[arg-type]
        self._dim = dim

    @property
    def dimension(self) -> int:
        return self._dim

    def encode(self, texts: Sequence[str], show_progress_bar: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
            v = np.random.default_rng(seed).standard_normal(self._dim).astype(np.float32)
            out[row] = v / np.linalg.norm(v)
        return out

    def encode_with_sentences(
        self, texts: Sequence[str], body_starts: Sequence[int], on_slice: Callable[[int], None] | None = None
    ) -> list[Encoded]:
        out = by_sentence(self, texts, body_starts, lambda sentence, _vec: self.encode([sentence])[0])
        if on_slice is not None:
            on_slice(len(texts))
        return out
