"""Load test: concurrent clients ask through the Gradio API while an ingest runs, Chroma in server mode.

    python bench/loadtest.py [--clients 20] [--duration 60]      (or: make loadtest)

Starts ``chroma run`` from this venv on a free loopback port (its data in a temporary directory),
indexes the two short articles, serves ``build_app(qa)`` on loopback, then for ``--duration``
seconds runs ``--clients`` gradio_client clients asking ``/ask`` in a loop while separate
``caucasus-qa ingest`` processes add the other articles one by one (the ingest only adds, so every
chunk cited at any time must still be in the store at the end). Everything stops by itself: the
clients at the deadline (each request bounded by ``--request-timeout``), the ingest loop at the
deadline, the server and the UI in ``finally``.

Passes (exit 0) when there were zero errors and every cited chunk id is present in the store; prints
request count, throughput and p50/p95/max latency, and writes them as JSON with ``--json PATH``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
FIRST = ("000_58fd850d681a9b3e.txt", "004_2e4681bc52934605.txt", "catalog.toml")
LATER = ("001_a928311d0961af7f.txt", "002_b66d9f311757d21f.txt", "003_ccc9031e28dd9279.txt")
QUESTIONS = (
    "Why does Iran see Azerbaijan as a threat?",
    "What role did Russian peacekeepers play in Karabakh?",
    "How did the war in Ukraine change the Israel-Iran-Azerbaijan triangle?",
    "What does Israel buy from Azerbaijan?",
    "How many joint military exercises did Turkey and Azerbaijan hold in 2022?",
    "What is the Zangezur corridor?",
    "Who wrote about Russia's war in Ukraine and the South Caucasus?",
    "What happened in the 2020 Karabakh war?",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_chroma(data: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    chroma = Path(sys.executable).parent / "chroma"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"chroma run exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("chroma run: no heartbeat within 120 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=20)


def ingest_loop(corpus: Path, store: Path, url: str, deadline: float, log: list[dict[str, Any]]) -> None:
    """Add the long articles one at a time, each by a separate ``caucasus-qa ingest`` process."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    for name in LATER:
        if time.monotonic() >= deadline - 5:
            return
        shutil.copy(CORPUS / name, corpus / name)
        t0 = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "caucasus_qa.cli", "ingest", "--no-progress", "--json",
             "--corpus-dir", str(corpus), "--store-dir", str(store), "--chroma-url", url],
            env=env, capture_output=True, text=True, timeout=max(10.0, deadline - time.monotonic() + 120),
        )  # fmt: skip
        entry: dict[str, Any] = {"doc": name, "rc": proc.returncode, "seconds": time.monotonic() - t0}
        if proc.returncode:
            entry["stderr"] = proc.stderr.strip().splitlines()[-1:]
        log.append(entry)


def client_loop(
    client: Any, n: int, deadline: float, timeout: float, results: list[dict[str, Any]], lock: threading.Lock
) -> None:
    i = n
    while time.monotonic() < deadline:
        question = QUESTIONS[i % len(QUESTIONS)]
        i += 1
        t0 = time.monotonic()
        try:
            out = client.submit(question=question, top_k=5, docs=[], api_name="/ask").result(timeout=timeout)
            row = {
                "client": n,
                "ok": bool(out.get("answer")),
                "latency": time.monotonic() - t0,
                "cited": [s["chunk_id"] for s in out.get("sources", [])],
                "abstained": out.get("abstained"),
            }
            if not row["ok"]:
                row["error"] = "empty answer"
        except Exception as err:
            row = {"client": n, "ok": False, "latency": time.monotonic() - t0,
                   "error": f"{type(err).__name__}: {err}"[:300]}  # fmt: skip
        with lock:
            results.append(row)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--duration", type=float, default=60.0, help="seconds of asking")
    p.add_argument("--request-timeout", type=float, default=120.0)
    p.add_argument("--json", type=Path, help="write the figures here")
    args = p.parse_args(argv)
    if not 1 <= args.clients <= 200 or not 1 <= args.duration <= 1800:
        raise SystemExit("--clients must be 1..200 and --duration 1..1800 s")

    sys.path.insert(0, str(REPO / "src"))
    from caucasus_qa import Assistant
    from caucasus_qa.ui.app import build_app, launch_options

    tmp = Path(tempfile.mkdtemp(prefix="cqa-load-"))
    server, app = None, None
    try:
        server, url = start_chroma(tmp / "chroma-server", tmp / "chroma.log")
        corpus, store = tmp / "corpus", tmp / "store"
        corpus.mkdir()
        for name in FIRST:
            shutil.copy(CORPUS / name, corpus / name)
        qa = Assistant(corpus_dir=corpus, store_dir=store, store={"chroma_url": url})
        qa.ingest()
        qa.ask(QUESTIONS[0])  # warm: model, retriever
        app = build_app(qa)
        _, ui_url, _ = app.launch(
            server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
            **launch_options(qa),
        )  # fmt: skip
        print(f"chroma {url}, ui {ui_url}: {args.clients} clients for {args.duration:.0f} s", flush=True)

        from gradio_client import Client

        # connected before the clock starts; httpx's 5 s default read timeout would count a busy
        # 2-core machine's queueing as errors, so requests get --request-timeout instead
        httpx_kwargs = {"timeout": args.request_timeout}
        clients = [Client(ui_url, verbose=False, httpx_kwargs=httpx_kwargs) for _ in range(args.clients)]
        results: list[dict[str, Any]] = []
        ingests: list[dict[str, Any]] = []
        lock = threading.Lock()
        start = time.monotonic()
        deadline = start + args.duration
        threads = [
            threading.Thread(target=client_loop, args=(c, n, deadline, args.request_timeout, results, lock))
            for n, c in enumerate(clients)
        ]
        threads.append(threading.Thread(target=ingest_loop, args=(corpus, store, url, deadline, ingests)))
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=args.duration + args.request_timeout + 300)
        elapsed = time.monotonic() - start

        stored = set(qa.store.all_ids())
        cited = {c for r in results for c in r.get("cited", [])}
        dangling = sorted(cited - stored)
        errors = [r for r in results if not r["ok"]]
        lat = [r["latency"] for r in results if r["ok"]]
        figures = {
            "clients": args.clients,
            "duration_s": args.duration,
            "elapsed_s": round(elapsed, 1),
            "requests": len(results),
            "errors": len(errors),
            "error_samples": [r["error"] for r in errors[:5]],
            "throughput_rps": round(len(lat) / elapsed, 2),
            "p50_s": round(percentile(lat, 0.50), 3),
            "p95_s": round(percentile(lat, 0.95), 3),
            "max_s": round(max(lat), 3) if lat else None,
            "mean_s": round(statistics.fmean(lat), 3) if lat else None,
            "abstained": sum(1 for r in results if r.get("abstained")),
            "cited_chunks": len(cited),
            "dangling_citations": dangling[:10],
            "store_chunks_at_end": len(stored),
            "ingests": ingests,
        }
        print(json.dumps(figures, indent=2))
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
        ok = not errors and not dangling and results and all(i["rc"] == 0 for i in ingests)
        print("PASS" if ok else "FAIL", flush=True)
        return 0 if ok else 1
    finally:
        if app is not None:
            app.close()
        if server is not None:
            stop(server)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
