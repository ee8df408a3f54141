"""The ``Embedder`` protocol: what the project calls on an embedding model, and its torch implementation.

Two implementations: :class:`SentenceTransformerEncoder` (a local ``SentenceTransformer``, torch) here,
and :class:`caucasus_qa.onnx_backend.OnnxEncoder` (the same weights under ONNX Runtime). Both give
pooled, normalised text vectors (``encode``) and, for the sentence vectors pooled at ingest
(:mod:`caucasus_qa.sentvec`), each text's token embeddings and the character span of every token.
:class:`caucasus_qa.embed.SentenceTransformerEmbedding` puts either behind LlamaIndex's ``BaseEmbedding``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .errors import StoreError

Tokens = list[tuple[np.ndarray, np.ndarray]]  # per text: (pooled vector, token embeddings)

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


class Embedder(Protocol):
    """An embedding model as the project uses it."""

    @property
    def max_seq_length(self) -> int:
        """Word pieces per text, special tokens included; longer texts are truncated."""
        ...

    def get_embedding_dimension(self) -> int | None: ...

    def encode(
        self,
        sentences: Sequence[str],
        batch_size: int = 32,
        normalize_embeddings: bool = True,
        convert_to_numpy: bool = True,
        show_progress_bar: bool = False,
    ) -> np.ndarray:
        """(n, dim) float32 mean-pooled vectors of ``sentences`` (unit length when normalised)."""
        ...

    def encode_tokens(self, texts: Sequence[str], batch_size: int = 32) -> Tokens:
        """Per text, in order: its normalised pooled vector and its token embeddings (no padding)."""
        ...

    def token_offsets(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Character span of every word piece, as :meth:`encode` tokenizes (special tokens: (0, 0))."""
        ...


def normalised(m: np.ndarray) -> np.ndarray:
    """``m``'s rows (or ``m``) scaled to unit length, as float32."""
    return (m / np.clip(np.linalg.norm(m, axis=-1, keepdims=True), 1e-12, None)).astype(np.float32)


class SentenceTransformerEncoder:
    """:class:`Embedder` over a local ``SentenceTransformer``."""

    def __init__(self, model: SentenceTransformer) -> None:
        self.model = model

    @property
    def max_seq_length(self) -> int:
        length = self.model.max_seq_length
        if length is None:  # every model the project loads states one (sentence_bert_config.json)
            raise StoreError("model_path: the sentence-transformers model states no max_seq_length")
        return int(length)

    def get_embedding_dimension(self) -> int | None:
        return self.model.get_embedding_dimension()

    def encode(
        self,
        sentences: Sequence[str],
        batch_size: int = 32,
        normalize_embeddings: bool = True,
        convert_to_numpy: bool = True,
        show_progress_bar: bool = False,
    ) -> np.ndarray:
        """sentence-transformers sorts the texts by length internally to cut padding."""
        out = self.model.encode(
            list(sentences),
            batch_size=batch_size,
            normalize_embeddings=normalize_embeddings,
            convert_to_numpy=True,
            show_progress_bar=show_progress_bar,
        )
        return np.asarray(out, dtype=np.float32)

    def encode_tokens(self, texts: Sequence[str], batch_size: int = 32) -> Tokens:
        # output_value=None: per text a dict of the forward pass's tensors, token embeddings included
        outs: list[dict[str, Any]] = self.model.encode(  # type: ignore[assignment]
            list(texts), batch_size=batch_size, output_value=None, convert_to_numpy=False
        )
        found: Tokens = []
        for o in outs:
            n = int(o["attention_mask"].sum())
            found.append(
                (
                    normalised(o["sentence_embedding"].float().cpu().numpy()),
                    o["token_embeddings"][:n].float().cpu().numpy(),
                )
            )
        return found

    def token_offsets(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        enc = self.model.tokenizer(
            list(texts), return_offsets_mapping=True, truncation=True, max_length=self.max_seq_length
        )
        return [[(int(a), int(b)) for a, b in offs] for offs in enc["offset_mapping"]]
