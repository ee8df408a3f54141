"""Rerank stage (optional): retrieved passages re-scored against the question by a cross-encoder.

The seam is :class:`Reranker`, one method from the question and the ranked passages to the same
passages reordered, each with its ``rerank_score``. :class:`CrossEncoderReranker` implements it with a
``sentence_transformers.CrossEncoder`` loaded from a local directory (the setting
``retrieval.rerank_model``; no cross-encoder ships with the project, so reranking is off by default).
When it is on, the assistant retrieves ``retrieval.rerank_depth`` passages, reranks them and keeps
``top_k``; ``Hit.score`` (the question-to-best-chunk cosine) is left as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .errors import StoreError
from .passages import Hit
from .settings import Settings

if TYPE_CHECKING:
    from sentence_transformers import CrossEncoder


class Reranker(Protocol):
    """Reorders retrieved passages for a question."""

    def rerank(self, query: str, hits: Sequence[Hit]) -> list[Hit]:
        """``hits`` best first by this reranker, each with its ``rerank_score`` set; nothing dropped."""
        ...


@lru_cache(maxsize=2)
def load_cross_encoder(model_path: str, device: str = "auto") -> CrossEncoder:
    """Load (once per process) a ``CrossEncoder`` from a local directory; never from a model hub."""
    path = Path(model_path)
    if not (path / "config.json").is_file():
        raise StoreError(f"rerank_model: no cross-encoder (config.json) at {path}")
    from sentence_transformers import CrossEncoder
    from transformers.utils import logging as hf_logging

    from .embed import resolve_device

    hf_logging.disable_progress_bar()
    return CrossEncoder(str(path), device=resolve_device(device), local_files_only=True)


class CrossEncoderReranker:
    """:class:`Reranker` over a ``sentence_transformers.CrossEncoder``; each passage's text is paired
    with the question and scored (the model's activation applied: sigmoid for one label)."""

    def __init__(self, model_path: Path, device: str = "auto", batch_size: int = 32) -> None:
        self.model_path, self.device, self.batch_size = model_path, device, batch_size

    @property
    def model(self) -> CrossEncoder:
        """The cross-encoder, loaded on first use (the assistant is built without loading it)."""
        return load_cross_encoder(str(self.model_path), self.device)

    def rerank(self, query: str, hits: Sequence[Hit]) -> list[Hit]:
        if not hits:
            return []
        scores = self.model.predict(
            [(query, h.chunk.text) for h in hits],
            batch_size=self.batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        values = [float(s) for s in scores]
        order = sorted(range(len(hits)), key=lambda i: -values[i])  # stable: ties keep their order
        return [replace(hits[i], rerank_score=values[i]) for i in order]


def reranker_from(settings: Settings) -> Reranker | None:
    """The reranker the settings ask for: a cross-encoder when ``retrieval.rerank_model`` is set,
    else none."""
    if settings.retrieval.rerank_model is None:
        return None
    return CrossEncoderReranker(settings.retrieval.rerank_model, settings.embed.device)
