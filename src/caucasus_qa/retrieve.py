"""Retrieve stage: ranked passages for a query, optionally restricted to some documents.

Hybrid retrieval: dense (Chroma) and keyword (BM25) results fused with per-retriever weights (see
:mod:`caucasus_qa.fusion`); the best fused chunks re-scored by their best stored sentence vector;
the result merged into passages (:mod:`caucasus_qa.passages`). A question that names documents
(:mod:`caucasus_qa.aliases`) gets each named document's best passages first; one about what several
articles say leads with several documents.

``Hit.score`` (hence ``Source.score``) is the cosine similarity between the question and the passage's
best chunk under the embedder (-1..1, in practice 0..0.8), whichever retriever found it — comparable
across questions, and what the similarity floor (``min_score``) applies to. The order is the fused
order, so scores need not decrease with rank; ``Hit.fused`` holds the fusion score.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

import numpy as np
from llama_index.core.retrievers.fusion_retriever import FUSION_MODES
from llama_index.core.schema import NodeWithScore, QueryBundle

from . import bm25 as bm25_mod
from .aliases import AliasMatcher, document_aliases
from .chunk import from_metadata
from .embed import SentenceTransformerEmbedding
from .fusion import DenseRetriever, KeywordRetriever, WeightedRRF, cosine_from_chroma
from .manifest import Manifest
from .passages import Hit, interleave, passages, spread_over_documents
from .query_words import asks_several_documents, strip_aliases
from .schema import Chunk
from .sentvec import ChunkRow
from .settings import RetrievalSettings, Settings
from .store import Store

__all__ = ["Hit", "HybridRetriever"]

QUERY_CACHE = 64  # query embeddings kept by the retriever for the answer stage


class HybridRetriever:
    """Dense + BM25, fused; built once per manifest version (the assistant rebuilds it after ingest)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        embedding: SentenceTransformerEmbedding,
        manifest: Manifest,
        sentences: Callable[[str], Mapping[str, ChunkRow]] | None = None,
    ) -> None:
        self.config: RetrievalSettings = settings.retrieval  # the fusion's knobs
        self.sentences = sentences  # doc id -> chunk id -> its stored vectors (sentvec.ChunkRow)
        self.store = store
        self.embedding = embedding
        self.manifest = manifest
        self.bm25 = bm25_mod.load_or_build(settings, manifest)

        self.aliases = document_aliases(manifest)
        self.alias_names = frozenset(n.lower() for names in self.aliases.values() for n in names)
        self._mentioned = AliasMatcher(self.aliases)
        self._query_vectors: OrderedDict[str, list[float]] = OrderedDict()

    # -- public -------------------------------------------------------------------------------
    def query_vector(self, query: str) -> list[float]:
        """The query's embedding, kept for the last few queries (the answer stage reuses it)."""
        vec = self._query_vectors.get(query)
        if vec is None:
            vec = self.embedding.get_query_embedding(query)
            self._remember(query, vec)
        return vec

    def _remember(self, query: str, vec: list[float]) -> None:
        self._query_vectors[query] = vec
        while len(self._query_vectors) > QUERY_CACHE:
            self._query_vectors.popitem(last=False)

    def retrieve(self, query: str, top_k: int, docs: Sequence[str] | None = None) -> list[Hit]:
        # The keyword search needs no vector: it runs on its own thread while the query is embedded.
        started = None
        if self.bm25 is not None and self.config.bm25_weight > 0:
            started = self.bm25.submit(query, self._depth(top_k), docs)
        mentioned = [d for d in self._mentioned(query) if not docs or d in docs]
        if not mentioned:
            hits = self._retrieve(query, self.query_vector(query), top_k, docs, started)
            return spread_over_documents(hits, self.config.spread) if asks_several_documents(query) else hits
        # The question names its documents ("according to Khanin and Roubanis"): each named document
        # contributes its own best passages, interleaved, before the unrestricted ranking — a fused
        # ranking over all documents tends to give every slot to whichever document matches best.
        # Within a named document its name carries no information, so it is dropped from the query.
        inner = strip_aliases(query, [n for d in mentioned for n in self.aliases[d]])
        vec, inner_vec = self._vector_pair(query, inner)
        per_doc = [self._retrieve(inner, inner_vec, top_k, [d]) for d in mentioned]
        return interleave([*per_doc, self._retrieve(query, vec, top_k, docs, started)], top_k)

    def _vector_pair(self, query: str, inner: str) -> tuple[list[float], list[float]]:
        """The embeddings of the query and of its version without document names, the two encoded
        in one forward pass when neither is cached (two passes cost nearly twice one)."""
        cache = self._query_vectors
        if inner == query or query in cache or inner in cache:
            return self.query_vector(query), self.query_vector(inner)
        vec, inner_vec = (v.tolist() for v in self.embedding.encode([query, inner]))
        self._remember(query, vec)
        self._remember(inner, inner_vec)
        return vec, inner_vec

    def _depth(self, top_k: int) -> int:
        return max(self.config.fusion_depth, top_k * 2)

    def _retrieve(
        self,
        query: str,
        vec: list[float],
        top_k: int,
        docs: Sequence[str] | None,
        started: Future[bm25_mod.Ranking] | None = None,
    ) -> list[Hit]:
        cfg = self.config
        bundle = QueryBundle(query_str=query, embedding=vec)
        depth = self._depth(top_k)
        retrievers: list[Any] = [DenseRetriever(self.store, self.manifest, depth, docs)]
        weights = [cfg.dense_weight]
        if self.bm25 is not None and cfg.bm25_weight > 0:
            retrievers.append(KeywordRetriever(self.bm25, self.manifest, depth, docs, started))
            weights.append(cfg.bm25_weight)
        fusion = WeightedRRF(retrievers, weights, cfg.rrf_k, top_k=depth, mode=FUSION_MODES(cfg.fusion_mode))
        fused = fusion.retrieve(bundle)
        cosine = {n.node.node_id: cosine_from_chroma(n.score) for n in fusion.per_retriever.get(0, [])}
        scored = [(self._chunk(n), float(n.score or 0.0)) for n in fused]
        hits = passages(self._by_sentence(scored, vec), top_k, cfg.merge_adjacent)
        # A passage scores its best chunk's cosine. Chunks found by BM25 alone have none yet: their
        # vectors are taken for the returned passages only, from the sentence files (already read
        # for the re-scoring), else from Chroma (one read; a Chroma read was ~4 ms at 100k chunks).
        missing = {cid: h.chunk.doc_id for h in hits for cid in h.parts if cid not in cosine}
        if missing:
            q = np.asarray(vec, dtype=np.float32)
            stored = self._chunk_vectors(missing)
            for cid, emb in stored.items():
                cosine[cid] = float(emb @ q)
            rest = [cid for cid in missing if cid not in stored]
            for cid, got in self.store.embeddings_for(rest).items():
                cosine[cid] = float(np.asarray(got, dtype=np.float32) @ q)
        return [replace(h, score=max(cosine.get(cid, 0.0) for cid in h.parts)) for h in hits]

    # -- helpers ------------------------------------------------------------------------------
    def _by_sentence(self, scored: list[tuple[Chunk, float]], vec: list[float]) -> list[tuple[Chunk, float]]:
        """Re-score the best fused chunks by their best-matching sentence.

        A chunk embeds ~200 word pieces; a question is often answered by one sentence of it, which
        the chunk vector dilutes. The sentence vectors pooled at ingest give each of the top
        ``sentence_depth`` chunks its best sentence cosine, added with ``sentence_weight`` (chosen
        on the dev split). Chunks without stored vectors keep their fused score.
        """
        w, depth = self.config.sentence_weight, self.config.sentence_depth
        if self.sentences is None or w <= 0 or not scored:
            return scored
        q = np.asarray(vec, dtype=np.float32)
        head = []
        for chunk, fused in scored[:depth]:
            row = self.sentences(chunk.doc_id).get(chunk.chunk_id)
            best = float(np.max(row[1] @ q)) if row is not None and len(row[1]) else None
            head.append((chunk, fused + w * best if best is not None else fused))
        head.sort(key=lambda t: -t[1])
        return head + scored[depth:]

    def _chunk_vectors(self, doc_of: Mapping[str, str]) -> dict[str, np.ndarray]:
        """Chunk vectors kept in the sentence files, for the chunk ids (-> doc id) that have one."""
        if self.sentences is None:
            return {}
        found: dict[str, np.ndarray] = {}
        for cid, doc_id in doc_of.items():
            row = self.sentences(doc_id).get(cid)
            if row is not None and row.chunk is not None:
                found[cid] = row.chunk
        return found

    def _chunk(self, n: NodeWithScore) -> Chunk:
        known = self.manifest.chunks.get(n.node.node_id)
        if known is not None:
            return known
        node = n.node
        return from_metadata(node.node_id, node.get_content(), dict(node.metadata))
