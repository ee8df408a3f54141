"""Retrieve stage: ranked passages for a query, optionally restricted to some documents.

Dense retrieval goes through LlamaIndex (``VectorStoreIndex`` over the Chroma vector store, with
``MetadataFilters`` that the Chroma integration turns into a ``where`` clause).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from llama_index.core import VectorStoreIndex
from llama_index.core.schema import NodeWithScore
from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters

from .chunk import from_metadata
from .embed import SentenceTransformerEmbedding
from .schema import Chunk
from .store import Store


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # cosine similarity for dense hits


def doc_filters(docs: Sequence[str] | None) -> MetadataFilters | None:
    if not docs:
        return None
    if len(docs) == 1:
        return MetadataFilters(
            filters=[MetadataFilter(key="doc_id", value=docs[0], operator=FilterOperator.EQ)]
        )
    return MetadataFilters(
        filters=[MetadataFilter(key="doc_id", value=list(docs), operator=FilterOperator.IN)]
    )


def cosine_from_chroma(similarity: float | None) -> float:
    # llama-index's Chroma store reports exp(-distance); with the cosine space distance = 1 - cos.
    if similarity is None or similarity <= 0:
        return 0.0
    return 1.0 + math.log(similarity)


class DenseRetriever:
    def __init__(self, store: Store, embedding: SentenceTransformerEmbedding) -> None:
        self.index = VectorStoreIndex.from_vector_store(store.vector_store, embed_model=embedding)

    def retrieve(self, query: str, top_k: int, docs: Sequence[str] | None = None) -> list[Hit]:
        retriever = self.index.as_retriever(similarity_top_k=top_k, filters=doc_filters(docs))
        return [_hit(n) for n in retriever.retrieve(query)]


def _hit(n: NodeWithScore) -> Hit:
    node = n.node
    chunk = from_metadata(node.node_id, node.get_content(), dict(node.metadata))
    return Hit(chunk, cosine_from_chroma(n.score))
