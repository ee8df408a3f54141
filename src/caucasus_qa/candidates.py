"""Candidate answer sentences of the retrieved passages, and their vectors.

Sentence vectors come from ingest (:mod:`caucasus_qa.sentvec`); a sentence without one is encoded
in one batched ``encode`` and kept across questions (passages recur).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from .embed import SentenceTransformerEmbedding
from .schema import Source
from .sentvec import sentence_pieces


class SentenceVectors:
    """Sentence embeddings kept across questions (passages recur), so each sentence is encoded once.

    ``known`` gives the vectors stored at ingest (see :mod:`caucasus_qa.sentvec`) for the sentences
    of a document; only sentences it lacks are encoded here. ``spans`` gives the sentence spans
    stored with them for a source that is one whole chunk (None otherwise): the same Punkt spans,
    without running Punkt again.
    """

    def __init__(
        self,
        embedding: SentenceTransformerEmbedding,
        max_items: int = 50_000,
        known: Callable[[str], Mapping[str, np.ndarray]] | None = None,
        spans: Callable[[Source], Sequence[tuple[int, int]] | None] | None = None,
    ) -> None:
        self.embedding = embedding
        self.max_items = max_items
        self.known = known
        self.stored_spans = spans
        self._vecs: dict[str, np.ndarray] = {}

    def sentence_spans(self, source: Source) -> Sequence[tuple[int, int]]:
        """Stripped spans of the sentences of ``source.text``."""
        stored = self.stored_spans(source) if self.stored_spans is not None else None
        return stored if stored is not None else _sentence_pieces(source.text)

    def for_sources(self, sources: Sequence[Source], texts: Sequence[str]) -> np.ndarray:
        """Vectors of ``texts`` (sentences of ``sources``): stored ones first, the rest encoded."""
        if self.known is None or not texts:
            return self.encode(texts)
        stored: dict[str, np.ndarray] = {}
        for doc_id in dict.fromkeys(s.doc_id for s in sources):
            stored.update(self.known(doc_id))
        rest = iter(self.encode([t for t in texts if t not in stored]))
        stacked = np.stack([stored[t] if t in stored else next(rest) for t in texts])
        return stacked.astype(np.float32, copy=False)  # stored vectors are float16

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vecs))
        if missing:
            if len(self._vecs) + len(missing) > self.max_items:
                self._vecs.clear()
            for t, v in zip(missing, self.embedding.encode(missing), strict=True):
                self._vecs[t] = v
        if not texts:
            return np.zeros((0, self.embedding.dimension), dtype=np.float32)
        return np.stack([self._vecs[t] for t in texts])


@functools.lru_cache(maxsize=1 << 12)  # the same merged passages come back for related questions
def _sentence_pieces(text: str) -> tuple[tuple[int, int], ...]:
    return tuple(sentence_pieces(text))


def candidate_sentences(
    sources: Sequence[Source], min_chars: int, vectors: SentenceVectors
) -> list[tuple[int, int, int, str]]:
    return [
        (src.rank, a, b, src.text[a:b])
        for src in sources
        for a, b in vectors.sentence_spans(src)
        if b - a >= min_chars
    ]
