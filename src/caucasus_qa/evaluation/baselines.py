"""The two baselines the eval compares against, on the same questions and the same embedder.

* **naive**: the "afternoon version" — ``Document``s of the cleaned texts (body + footnote texts, as the
  eval set's validator sees them), ``SentenceSplitter(chunk_size=1024, chunk_overlap=200)``, an in-memory
  ``VectorStoreIndex``, dense top-k.
* **bm25**: LlamaIndex's ``BM25Retriever`` (bm25s, English stemmer and stopwords) over the same naive chunks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llama_index.core import Document, VectorStoreIndex
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.retrievers.bm25 import BM25Retriever

from .metrics import Passage, doc_stem
from .questions import cleaned_texts


class NaiveBaselines:
    def __init__(self, embedding: Any, corpus_dir: str | Path | None = None, max_k: int = 50) -> None:
        texts = cleaned_texts(corpus_dir)
        docs = [
            Document(text=text, metadata={"doc_id": doc_stem(name)}) for name, text in sorted(texts.items())
        ]
        splitter = SentenceSplitter(chunk_size=1024, chunk_overlap=200)
        self.nodes = splitter.get_nodes_from_documents(docs)
        self.index = VectorStoreIndex(self.nodes, embed_model=embedding)
        self.max_k = max_k
        self.bm25 = BM25Retriever.from_defaults(
            nodes=self.nodes, similarity_top_k=min(max_k, len(self.nodes))
        )

    def retrieve(
        self, question: str, top_k: int, vector: list[float] | None = None
    ) -> tuple[list[Passage], list[Passage]]:
        """(dense, bm25) passages for ``question``; ``vector`` skips embedding it again."""
        bundle = QueryBundle(query_str=question, embedding=vector)
        dense = self.index.as_retriever(similarity_top_k=top_k).retrieve(bundle)
        keyword = self.bm25.retrieve(bundle)[:top_k]
        return _passages(dense), _passages(keyword)


def _passages(nodes: list[NodeWithScore]) -> list[Passage]:
    return [Passage(n.node.get_content(), str(n.node.metadata.get("doc_id", ""))) for n in nodes]
