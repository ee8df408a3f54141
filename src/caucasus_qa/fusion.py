"""Fusion of the retrieve stage: the dense and keyword retrievers and their weighted fusion.

* **dense**: the Chroma collection that LlamaIndex's ``ChromaVectorStore`` wrote (MiniLM; title and
  section are embedded with each chunk), asked for ids and distances only (:class:`DenseRetriever`),
  a Chroma ``where`` filter on ``doc_id`` for the document filter;
* **keyword**: a ``bm25s`` index of title + authors + venue + section + chunk text + footnote
  references (see :mod:`caucasus_qa.bm25`), a weight mask for the document filter
  (:class:`KeywordRetriever`);
* **fusion**: ``QueryFusionRetriever`` (``num_queries=1``: no query generation, and an explicit
  ``MockLLM`` so that LlamaIndex never resolves its default OpenAI LLM) in relative-score mode, with
  per-retriever weights (LlamaIndex's own RRF ignores ``retriever_weights``; :class:`WeightedRRF`
  applies them and keys nodes by id rather than content hash).

The knobs of the fusion, and of what :mod:`caucasus_qa.retrieve` does with its result, are the
``retrieval`` settings (:class:`~caucasus_qa.settings.RetrievalSettings`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.llms import MockLLM
from llama_index.core.retrievers import QueryFusionRetriever
from llama_index.core.retrievers.fusion_retriever import FUSION_MODES
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from . import bm25 as bm25_mod
from .manifest import Manifest
from .store import Store


def chroma_where(docs: Sequence[str] | None) -> dict[str, Any] | None:
    """Chroma ``where`` filter restricting a query to ``docs`` (None: all documents)."""
    if not docs:
        return None
    return {"doc_id": docs[0]} if len(docs) == 1 else {"doc_id": {"$in": list(docs)}}


def cosine_from_chroma(similarity: float | None) -> float:
    """Cosine similarity from a dense score exp(-distance) (cosine space: distance = 1 - cos)."""
    if similarity is None or similarity <= 0:
        return 0.0
    return 1.0 + math.log(similarity)


class DenseRetriever(BaseRetriever):
    """Dense half of the fusion: nearest chunks by cosine, from the Chroma collection.

    Written by hand rather than ``VectorStoreIndex.as_retriever()`` because LlamaIndex's retriever
    asks Chroma for every hit's text and metadata and rebuilds a node from its JSON: at the real
    corpus that was 19 ms of a query whose Chroma search alone takes 2 ms (bench/RESULTS.md),
    while the chunks are already in memory (the manifest). Here Chroma returns ids and distances
    only; text and metadata are fetched just for ids the manifest does not know (a store written
    by another process since it was read). Scores are what LlamaIndex's Chroma store reports,
    exp(-distance) (the fusion weights were chosen on dev with them); the collection's space is
    cosine, so distance = 1 - cos (:func:`cosine_from_chroma`).
    """

    def __init__(self, store: Store, manifest: Manifest, top_k: int, docs: Sequence[str] | None) -> None:
        super().__init__()
        self.store, self.manifest, self.top_k, self.docs = store, manifest, top_k, docs

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        got = self.store.collection.query(
            query_embeddings=[query_bundle.embedding],
            n_results=self.top_k,
            where=chroma_where(self.docs),
            include=["distances"],
        )
        ids, distances = got["ids"][0], got["distances"][0]
        known = self.manifest.chunks
        unknown = self.store.nodes_for([i for i in ids if i not in known])
        out = []
        for cid, dist in zip(ids, distances, strict=True):
            chunk = known.get(cid)
            node = TextNode(id_=cid, text=chunk.text) if chunk is not None else unknown.get(cid)
            if node is not None:
                out.append(NodeWithScore(node=node, score=math.exp(-float(dist))))
        return out


class WeightedRRF(QueryFusionRetriever):
    """``QueryFusionRetriever`` whose fusion modes honour ``retriever_weights`` and key nodes by id.

    LlamaIndex's reciprocal-rank mode ignores the weights, and both modes key nodes by content hash
    (our BM25 nodes carry a different metadata view of the same chunk). Here, rank from 1:

    * ``reciprocal_rerank``: score = Σ_i weight_i / (rrf_k + rank_i);
    * ``relative_score`` / ``dist_based_score``: each retriever's scores are scaled to 0..1 (min–max,
      or mean ± 3 std), multiplied by its weight and summed.
    """

    def __init__(
        self,
        retrievers: list[Any],
        weights: list[float],
        rrf_k: float,
        top_k: int,
        mode: FUSION_MODES = FUSION_MODES.RECIPROCAL_RANK,
    ) -> None:
        super().__init__(
            retrievers,
            llm=MockLLM(),  # never used with num_queries=1; stops Settings.llm resolving OpenAI
            mode=mode,
            similarity_top_k=top_k,
            num_queries=1,
            use_async=False,
            retriever_weights=weights,
        )
        self.rrf_k = rrf_k
        self.per_retriever: dict[int, list[NodeWithScore]] = {}

    def _ranked(self, results: dict[tuple[str, int], list[NodeWithScore]]) -> dict[int, list[NodeWithScore]]:
        self.per_retriever = {
            idx: sorted(hits, key=lambda x: x.score or 0.0, reverse=True)
            for (_, idx), hits in results.items()
        }
        return self.per_retriever

    def _fused(self, nodes: dict[str, NodeWithScore], fused: dict[str, float]) -> list[NodeWithScore]:
        order = sorted(fused, key=lambda key: -fused[key])
        return [NodeWithScore(node=nodes[key].node, score=fused[key]) for key in order]

    def _reciprocal_rerank_fusion(
        self, results: dict[tuple[str, int], list[NodeWithScore]]
    ) -> list[NodeWithScore]:
        fused: dict[str, float] = {}
        nodes: dict[str, NodeWithScore] = {}
        for idx, ranked in self._ranked(results).items():
            for rank, n in enumerate(ranked, start=1):
                key = n.node.node_id
                nodes.setdefault(key, n)
                fused[key] = fused.get(key, 0.0) + self._retriever_weights[idx] / (self.rrf_k + rank)
        return self._fused(nodes, fused)

    def _relative_score_fusion(
        self, results: dict[tuple[str, int], list[NodeWithScore]], dist_based: bool | None = False
    ) -> list[NodeWithScore]:
        fused: dict[str, float] = {}
        nodes: dict[str, NodeWithScore] = {}
        for idx, ranked in self._ranked(results).items():
            scores = [n.score or 0.0 for n in ranked]
            if not scores:
                continue
            if dist_based:
                mu = sum(scores) / len(scores)
                sd = (sum((x - mu) ** 2 for x in scores) / len(scores)) ** 0.5
                lo, hi = mu - 3 * sd, mu + 3 * sd
            else:
                lo, hi = min(scores), max(scores)
            for n, x in zip(ranked, scores, strict=True):
                key = n.node.node_id
                nodes.setdefault(key, n)
                scaled = (x - lo) / (hi - lo) if hi > lo else (1.0 if x > 0 else 0.0)
                fused[key] = fused.get(key, 0.0) + self._retriever_weights[idx] * scaled
        return self._fused(nodes, fused)


class KeywordRetriever(BaseRetriever):
    """Keyword half of the fusion: BM25 hits with a positive score (a query term in the chunk).

    ``started``: the same search already submitted (see :meth:`HybridRetriever.retrieve`).
    """

    def __init__(
        self,
        index: bm25_mod.KeywordIndex,
        manifest: Manifest,
        top_k: int,
        docs: Sequence[str] | None,
        started: Future[bm25_mod.Ranking] | None = None,
    ) -> None:
        super().__init__()
        self.index, self.manifest, self.top_k, self.docs = index, manifest, top_k, docs
        self.started = started

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        known = self.manifest.chunks
        search = self.started or self.index.submit(query_bundle.query_str, self.top_k, self.docs)
        return [
            NodeWithScore(node=TextNode(id_=cid, text=known[cid].text), score=score)
            for cid, score in search.result()
            if cid in known  # the index is rebuilt from the manifest's chunks file
        ]
