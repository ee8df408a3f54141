"""Retrieve stage: ranked passages for a query, optionally restricted to some documents.

Hybrid retrieval, fused by LlamaIndex:

* **dense**: the Chroma collection that LlamaIndex's ``ChromaVectorStore`` wrote (MiniLM; title and
  section are embedded with each chunk), asked for ids and distances only (:class:`DenseRetriever`),
  a Chroma ``where`` filter on ``doc_id`` for the document filter;
* **keyword**: a ``bm25s`` index of title + authors + venue + section + chunk text + footnote
  references (see :mod:`caucasus_qa.bm25`), a weight mask for the document filter;
* **fusion**: ``QueryFusionRetriever`` (``num_queries=1``: no query generation, and an explicit
  ``MockLLM`` so that LlamaIndex never resolves its default OpenAI LLM) in relative-score mode, with
  per-retriever weights (LlamaIndex's own RRF ignores ``retriever_weights``; :class:`WeightedRRF`
  applies them and keys nodes by id rather than content hash);
* **passages**: overlapping or adjacent chunks of one document among the results are merged into one
  passage (chunks share a sentence of overlap; the duplicate sentence is dropped), never beyond
  :data:`MAX_PASSAGE_CHARS`.

``Hit.score`` (hence ``Source.score``) is the cosine similarity between the question and the passage's
best chunk under the embedder (-1..1, in practice 0..0.8), whichever retriever found it — comparable
across questions, and what the similarity floor (``min_score``) applies to. The order is the fused
order, so scores need not decrease with rank; ``Hit.fused`` holds the fusion score.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.llms import MockLLM
from llama_index.core.retrievers import QueryFusionRetriever
from llama_index.core.retrievers.fusion_retriever import FUSION_MODES
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from . import bm25 as bm25_mod
from .chunk import from_metadata
from .embed import SentenceTransformerEmbedding
from .manifest import Manifest
from .schema import Chunk
from .sentvec import ChunkRow
from .settings import Settings
from .store import Store

MAX_PASSAGE_CHARS = 1500
QUERY_CACHE = 64  # query embeddings kept by the retriever for the answer stage


@dataclass(frozen=True)
class Hit:
    chunk: Chunk  # for a merged passage: a synthetic chunk spanning its parts (first part's id)
    score: float  # cosine similarity of the question and the passage's best chunk
    fused: float = 0.0  # fusion score that set the order
    parts: tuple[str, ...] = field(default=())  # chunk ids merged into this passage


@dataclass(frozen=True)
class FusionConfig:
    """Knobs chosen on the dev split (see the evaluation report)."""

    dense_weight: float = 0.4
    bm25_weight: float = 0.6
    rrf_k: float = 20.0  # reciprocal_rerank mode only
    depth: int = 40  # candidates asked of each retriever
    mode: FUSION_MODES = FUSION_MODES.RELATIVE_SCORE
    merge: bool = True  # merge overlapping/adjacent result chunks into one passage
    sentence_weight: float = 0.5  # best sentence's cosine (vectors stored at ingest) added to the fused score
    sentence_depth: int = 20  # fused candidates re-scored that way
    spread: int = 3  # documents led with for a question about what several articles say


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


class HybridRetriever:
    """Dense + BM25, fused; built once per manifest version (the assistant rebuilds it after ingest)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        embedding: SentenceTransformerEmbedding,
        manifest: Manifest,
        config: FusionConfig | None = None,
        sentences: Callable[[str], Mapping[str, ChunkRow]] | None = None,
    ) -> None:
        self.config = config or FusionConfig()
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
            self._query_vectors[query] = vec
            if len(self._query_vectors) > QUERY_CACHE:
                self._query_vectors.popitem(last=False)
        return vec

    def retrieve(self, query: str, top_k: int, docs: Sequence[str] | None = None) -> list[Hit]:
        # The keyword search needs no vector: it runs on its own thread while the query is embedded.
        started = None
        if self.bm25 is not None and self.config.bm25_weight > 0:
            started = self.bm25.submit(query, self._depth(top_k), docs)
        vec = self.query_vector(query)
        mentioned = [d for d in self._mentioned(query) if not docs or d in docs]
        if not mentioned:
            hits = self._retrieve(query, vec, top_k, docs, started)
            return spread_over_documents(hits, self.config.spread) if asks_several_documents(query) else hits
        # The question names its documents ("according to Khanin and Roubanis"): each named document
        # contributes its own best passages, interleaved, before the unrestricted ranking — a fused
        # ranking over all documents tends to give every slot to whichever document matches best.
        # Within a named document its name carries no information, so it is dropped from the query.
        inner = strip_aliases(query, [n for d in mentioned for n in self.aliases[d]])
        inner_vec = self.query_vector(inner) if inner != query else vec
        per_doc = [self._retrieve(inner, inner_vec, top_k, [d]) for d in mentioned]
        return _interleave([*per_doc, self._retrieve(query, vec, top_k, docs, started)], top_k)

    def _depth(self, top_k: int) -> int:
        return max(self.config.depth, top_k * 2)

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
        fusion = WeightedRRF(retrievers, weights, cfg.rrf_k, top_k=depth, mode=cfg.mode)
        fused = fusion.retrieve(bundle)
        cosine = {n.node.node_id: cosine_from_chroma(n.score) for n in fusion.per_retriever.get(0, [])}
        scored = [(self._chunk(n), float(n.score or 0.0)) for n in fused]
        hits = self._passages(self._by_sentence(scored, vec), top_k)
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

    def _passages(self, scored: list[tuple[Chunk, float]], top_k: int) -> list[Hit]:
        """Passages in fused order (``Hit.score`` left at 0: the caller sets it from ``parts``)."""
        hits: list[Hit] = []
        for chunk, fused in scored:
            if self.config.merge:
                merged = False
                for i, h in enumerate(hits):
                    joined = merge_chunks(h.chunk, chunk)
                    if joined is not None:
                        hits[i] = Hit(joined, 0.0, h.fused, (*h.parts, chunk.chunk_id))
                        merged = True
                        break
                if merged:
                    continue
            elif any(_same_span(h.chunk, chunk) for h in hits):
                continue
            if len(hits) >= top_k:
                if not self.config.merge:
                    break
                continue  # a later chunk may still merge into a returned passage
            hits.append(Hit(chunk, 0.0, fused, (chunk.chunk_id,)))
        return hits


def document_aliases(manifest: Manifest) -> dict[str, list[str]]:
    """Names by which a question can point at a document: its authors' surnames, its venue's acronym."""
    out: dict[str, list[str]] = {}
    for doc_id, entry in manifest.docs.items():
        rec = entry.record
        names = [a.split()[-1] for a in rec.authors if a.split()]
        acronym = rec.venue_acronym()  # "Global Defense Corp" -> "GDC"
        if acronym:
            names.append(acronym)
        out[doc_id] = [n for n in names if len(n) >= 3]
    return out


class AliasMatcher:
    """Finds the documents a query names.

    An alias made of word characters only (nearly all: surnames, acronyms) occurs as a whole word
    exactly when it equals one of the query's maximal ``\\w+`` runs, a dict lookup per word; the few
    others ("O'Neil") go through one compiled pattern. One alternation of all aliases cost ~1 ms a
    query at 10,000 documents, and a pattern per alias was recompiled past ``re``'s cache.
    """

    _RUN = re.compile(r"\w+")

    def __init__(self, aliases: Mapping[str, Sequence[str]]) -> None:
        self.owners: dict[str, list[str]] = {}
        for doc_id, names in aliases.items():
            for n in names:
                self.owners.setdefault(n, []).append(doc_id)
        other = [n for n in self.owners if not self._RUN.fullmatch(n)]
        alt = "|".join(re.escape(n) for n in sorted(other, key=len, reverse=True))
        self.pattern = re.compile(rf"\b(?:{alt})\b") if alt else None

    def __call__(self, query: str) -> list[str]:
        """Documents whose alias appears in the query as a whole word (case-sensitive), in query order."""
        if not self.owners:
            return []
        matches = [m for m in self._RUN.finditer(query) if m.group() in self.owners]
        if self.pattern is not None:
            matches += self.pattern.finditer(query)
        first: dict[str, int] = {}
        for m in sorted(matches, key=lambda m: m.start()):
            for doc_id in self.owners[m.group()]:
                first.setdefault(doc_id, m.start())
        return sorted(first, key=lambda d: first[d])


def mentioned_docs(query: str, aliases: Mapping[str, Sequence[str]]) -> list[str]:
    """Documents whose alias appears in the query as a whole word (case-sensitive), in query order."""
    return AliasMatcher(aliases)(query)


def strip_aliases(query: str, names: Sequence[str]) -> str:
    """The query without the document names in it ("…, according to Khanin and Roubanis?" → "…?")."""
    alt = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    out = re.sub(rf"\b(?:{alt})(?:['’]s)?\b", "\x00", query)
    out = re.sub(r"(?:\b(?i:according to|by)\s+)?\x00(?:\s*(?:,|and)\s*\x00)*", "\x00", out)
    out = re.sub(r"\s*,?\s*\x00\s*", " ", out)
    out = re.sub(r"\s+([,?.!])", r"\1", re.sub(r"\s{2,}", " ", out)).strip(" ,")
    return re.sub(r",([?.!])$", r"\1", out) or query


_SEVERAL_DOCUMENTS = re.compile(
    r"\b(?:(?:the|two|both|several|all|these|different)\s+(?:\w+\s+)?(?:articles|authors|pieces|studies|analyses)"
    r"|(?:two|both|several|each|all)\s+of\s+the(?:m|se)?\b(?:\s+(?:articles|authors|pieces|studies))?)\b",
    re.I,
)


def asks_several_documents(query: str) -> bool:
    """The question asks what several (unnamed) documents say: "according to the articles", "two of
    the articles", "both authors"."""
    return bool(_SEVERAL_DOCUMENTS.search(query))


def spread_over_documents(hits: list[Hit], documents: int) -> list[Hit]:
    """The best passage of each of the first ``documents`` documents in the ranking first, then the
    rest in order: a question about what several articles say needs each of them near the top, and
    a fused ranking tends to give the first places to whichever document matches best."""
    leaders: list[Hit] = []
    seen: set[str] = set()
    for h in hits:
        if h.chunk.doc_id not in seen and len(seen) < documents:
            seen.add(h.chunk.doc_id)
            leaders.append(h)
    return leaders + [h for h in hits if not any(h is g for g in leaders)]


def _interleave(lists: list[list[Hit]], top_k: int) -> list[Hit]:
    """Round-robin over all lists but the last, then the last in order; overlapping passages dropped."""
    pool = [h for rank in itertools.zip_longest(*lists[:-1]) for h in rank if h is not None]
    pool += lists[-1]
    hits: list[Hit] = []
    for h in pool:
        if not any(_overlaps(h.chunk, g.chunk) for g in hits):
            hits.append(h)
    return hits[:top_k]


def _overlaps(a: Chunk, b: Chunk) -> bool:
    return a.doc_id == b.doc_id and a.start < b.end and b.start < a.end


def _same_span(a: Chunk, b: Chunk) -> bool:
    return a.doc_id == b.doc_id and a.start == b.start and a.end == b.end


def merge_chunks(a: Chunk, b: Chunk, limit: int = MAX_PASSAGE_CHARS) -> Chunk | None:
    """One passage for two chunks of a document that overlap or touch, or None (too long or apart).

    Chunks touch when one ends where the next begins up to whitespace (consecutive positions). The
    text is rebuilt from the two texts and their spans, so the shared sentence appears once.
    """
    if a.doc_id != b.doc_id or a.section != b.section:
        return None  # a passage, like a chunk, stays inside one section (its citation names it)
    first, second = (a, b) if (a.start, a.end) <= (b.start, b.end) else (b, a)
    if second.end <= first.end:  # contained
        return first
    adjacent = second.start >= first.end and (
        first.next_id == second.chunk_id
        or second.prev_id == first.chunk_id
        or second.position == first.position + 1
    )
    if second.start < first.end:
        text = first.text + second.text[first.end - second.start :]
    elif adjacent:
        sep = "\n\n" if second.paragraph_index != first.paragraph_index else " "
        text = first.text + sep + second.text
    else:
        return None
    if len(text) > limit:
        return None
    numbers = list(dict.fromkeys((*first.footnotes, *second.footnotes)))
    refs = list(dict.fromkeys((*first.references, *second.references)))
    return replace(
        first,
        text=text,
        end=second.end,
        footnotes=tuple(numbers),
        references=tuple(refs),
        next_id=second.next_id,
    )
