"""The benchmark's workers: each measurement that needs a clean peak RSS runs in its own process.

`bench/run.py` starts them as ``python bench/run.py --worker NAME --params JSON`` (see ``run.worker``),
which looks the function up in :data:`WORKERS` and prints its result as one line of JSON.
"""

from __future__ import annotations

import json
import resource
import statistics
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS_FILE = ROOT / "eval" / "questions.jsonl"


# -- helpers ----------------------------------------------------------------------------------------
def maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    i = min(len(s) - 1, max(0, round(q * (len(s) - 1))))
    return s[i]


def questions(n: int) -> list[str]:
    out = []
    with QUESTIONS_FILE.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                out.append(json.loads(line)["question"])
    return out[:n]


# -- workers (each in its own process) -----------------------------------------------------------
def w_ingest(p: dict[str, Any]) -> dict[str, Any]:
    from llama_index.core.schema import MetadataMode

    from caucasus_qa import Assistant
    from caucasus_qa.chunk import to_node

    embed = {"batch_size": p["batch_size"]} if p.get("batch_size") else {}
    if p.get("backend"):
        embed["backend"] = p["backend"]
    overrides: dict[str, Any] = {"embed": embed}
    qa = Assistant(corpus_dir=p["corpus"], store_dir=p["store"], **overrides)
    out: dict[str, Any] = {"embed": p["embed"]}
    t0 = time.perf_counter()
    if p["embed"] == "real":
        emb = qa.embedding
        emb.encode(["warm up the model"] * 4)
    elif p["embed"] == "pooled":
        from bench.pooled import PooledEmbedding, pool_vectors
        from bench.synthetic import paragraph_pool

        model = qa.embedding.model
        pool = paragraph_pool(Path(p["real_corpus"]))
        vecs = pool_vectors(model, pool.paragraphs, Path(p["cache"]))
        qa._embedding = PooledEmbedding(model, qa.settings.embed.model_name, pool.paragraphs, vecs)
    else:
        from bench.pooled import HashEmbedding

        qa._embedding = HashEmbedding()
    out["model_load_s"] = time.perf_counter() - t0
    # The NER pipeline is a model too: loaded apart, like the embedder above, so that the ingest ratio
    # compares the work done on the texts (its load, ~2 s here, is the same at any corpus size).
    from caucasus_qa.entities import load_pipeline

    t0 = time.perf_counter()
    load_pipeline(qa.settings.answer.spacy_model)
    out["ner_load_s"] = time.perf_counter() - t0
    rss_before = maxrss_mib()

    t0 = time.perf_counter()
    report = qa.ingest()
    out["ingest_s"] = time.perf_counter() - t0
    out["chunks"] = qa.store.count()
    out["docs"] = len(qa.manifest().docs)
    out["embedded_chunks"] = report.embedded_chunks
    out["peak_rss_mib"] = maxrss_mib()
    out["rss_before_ingest_mib"] = rss_before
    emb_stats = getattr(qa._embedding, "stats", None)
    if emb_stats:
        out["embed_stats"] = emb_stats

    if p["embed"] == "real":  # raw baseline: the model alone on exactly the texts ingest embedded
        m = qa.manifest()
        texts = [
            to_node(c, m.docs[c.doc_id].record).get_content(MetadataMode.EMBED) for c in m.chunks.values()
        ]
        model = qa.embedding.model
        bs = qa.settings.embed.batch_size
        t0 = time.perf_counter()
        model.encode(texts, batch_size=bs, normalize_embeddings=True, convert_to_numpy=True)
        out["raw_encode_s"] = time.perf_counter() - t0
        out["batch_size"] = bs

    # re-ingest of the unchanged corpus: a fresh Assistant, as a new `caucasus-qa ingest` would be
    qa2 = Assistant(corpus_dir=p["corpus"], store_dir=p["store"], **overrides)
    t0 = time.perf_counter()
    r2 = qa2.ingest()
    out["reingest_s"] = time.perf_counter() - t0
    out["reingest_embedded"] = r2.embedded_chunks
    out["reingest_model_loaded"] = qa2._embedding is not None
    return out


def w_serve(p: dict[str, Any]) -> dict[str, Any]:
    from caucasus_qa import Assistant
    from caucasus_qa.stages import retrieve

    overrides: dict[str, Any] = {"embed": {"backend": p["backend"]} if p.get("backend") else {}}
    # `ask` and retrieval are timed in two assistants, each warmed up by three questions that are not
    # timed, so that each timed question is new to the assistant that answers it, as in a serving
    # process (retrieving it first in the same one would have read its sentence files). The first
    # assistant alone sets the peak RSS of a serving process; the second shares its model.
    # Warm means the store's files are in the OS page cache, as on a server that has been answering
    # for a while (otherwise whichever loop runs first pays the disk reads for the other).
    for f in sorted((Path(p["store"]) / "sentences").iterdir()):
        f.read_bytes()
    qa = Assistant(corpus_dir=p["corpus"], store_dir=p["store"], **overrides)
    asked = questions(p["n_questions"] + 3)
    warm, qs = asked[:3], asked[3:]
    t0 = time.perf_counter()
    qa.ask(warm[0])
    first = time.perf_counter() - t0
    for q in warm:
        qa.ask(q)
    ask: list[float] = []
    embed: list[float] = []
    retr: list[float] = []
    for q in qs:
        t = time.perf_counter()
        qa.embedding.get_query_embedding(q)
        embed.append(time.perf_counter() - t)
        t = time.perf_counter()
        qa.ask(q)
        ask.append(time.perf_counter() - t)
    rss = maxrss_mib()
    qa_r = Assistant(corpus_dir=p["corpus"], store_dir=p["store"], **overrides)
    qa_r._embedding = qa.embedding
    r = qa_r.settings.retrieval
    for q in warm:
        retrieve(qa_r.snapshot(), q, r.top_k, None, qa_r.reranker, r.rerank_depth)
    for q in qs:
        t = time.perf_counter()
        retrieve(qa_r.snapshot(), q, r.top_k, None, qa_r.reranker, r.rerank_depth)
        retr.append(time.perf_counter() - t)
    return {
        "n": len(qs),
        "first_ask_s": first,
        "ask_p50_s": statistics.median(ask),
        "ask_p95_s": pct(ask, 0.95),
        "retrieve_p50_s": statistics.median(retr),
        "retrieve_p95_s": pct(retr, 0.95),
        "embed_p50_s": statistics.median(embed),
        "embed_p95_s": pct(embed, 0.95),
        "peak_rss_mib": rss,
        "chunks": qa.store.count(),
    }


def w_embedders(p: dict[str, Any]) -> dict[str, Any]:
    """Raw throughput of each backend, and of torch at several batch sizes, on the same chunk texts."""
    from llama_index.core.schema import MetadataMode

    from caucasus_qa.chunk import to_node
    from caucasus_qa.embed import build_embedding
    from caucasus_qa.manifest import Manifest

    store = Path(p["store"])
    m = Manifest.load(store / "manifest.json", store / "chunks.jsonl")
    texts = [to_node(c, m.docs[c.doc_id].record).get_content(MetadataMode.EMBED) for c in m.chunks.values()]
    texts = texts[: p["n"]]
    models = {
        b: build_embedding(
            None, "sentence-transformers/all-MiniLM-L6-v2", "auto", 64, b, Path(p["cache"])
        ).model
        for b in ("torch", "onnx", "onnx-int8")
    }
    for model in models.values():
        model.encode(texts[:8], batch_size=8)  # warm up
    out: dict[str, Any] = {"n_texts": len(texts), "backend_chunks_per_s": {}, "torch_batch_chunks_per_s": {}}
    runs: dict[str, list[float]] = {}
    for name in ("torch", "onnx", "onnx-int8", "torch", "onnx", "onnx-int8"):  # interleaved, twice
        t = time.perf_counter()
        models[name].encode(texts, batch_size=64, normalize_embeddings=True)
        runs.setdefault(name, []).append(len(texts) / (time.perf_counter() - t))
    out["backend_chunks_per_s"] = {k: max(v) for k, v in runs.items()}
    for bs in p["batch_sizes"]:
        t = time.perf_counter()
        models["torch"].encode(texts, batch_size=bs, normalize_embeddings=True)
        out["torch_batch_chunks_per_s"][str(bs)] = len(texts) / (time.perf_counter() - t)
    return out


WORKERS = {"ingest": w_ingest, "serve": w_serve, "embedders": w_embedders}
