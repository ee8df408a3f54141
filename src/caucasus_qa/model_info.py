"""Facts about the embedding model read from its files, without importing torch.

Cheap paths (an unchanged re-ingest, ``docs``) need the tokenizer and the vector dimension but
not the network weights; loading sentence-transformers for them would cost seconds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .settings import Settings

if TYPE_CHECKING:
    from tokenizers import Tokenizer


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: Path
    dimension: int
    max_seq_tokens: int


def model_path(settings: Settings) -> Path:
    if settings.embed.model_path is not None:
        return settings.embed.model_path
    from .embed import default_model_path

    return default_model_path()


def model_info(settings: Settings) -> ModelInfo:
    path = model_path(settings)
    pooling = json.loads((path / "1_Pooling" / "config.json").read_text())
    st_config = json.loads((path / "sentence_bert_config.json").read_text())
    limit = min(
        int(st_config.get("max_seq_length", settings.embed.max_seq_tokens)), settings.embed.max_seq_tokens
    )
    return ModelInfo(settings.embed.model_name, path, int(pooling["word_embedding_dimension"]), limit)


@lru_cache(maxsize=4)
def _tokenizer(path: str) -> Tokenizer:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(path) / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def token_counter(settings: Settings) -> Callable[[Sequence[str]], list[int]]:
    """Word pieces (no special tokens) per text, with the model's own fast tokenizer."""
    tok = _tokenizer(str(model_path(settings)))

    def count(texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        return [len(e.ids) for e in tok.encode_batch(list(texts), add_special_tokens=False)]

    return count
