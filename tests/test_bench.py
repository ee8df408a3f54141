"""The benchmark's own parts behave (no timings are asserted anywhere: benchmarks are not tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS, REPO


def test_synthetic_corpus_is_deterministic(tmp_path: Path) -> None:
    from bench.synthetic import digest, generate

    a = generate(CORPUS, tmp_path / "a", 4, target_chars=1500)
    b = generate(CORPUS, tmp_path / "b", 4, target_chars=1500)
    assert [p.name for p in a] == [f"syn_{i:05d}.txt" for i in range(4)]
    assert digest(a) == digest(b)
    other = generate(CORPUS, tmp_path / "c", 4, seed=7, target_chars=1500)
    assert digest(other) != digest(a)
    text = a[0].read_text(encoding="utf-8")
    assert len(text) >= 1500 and "Synthetic Study 00000" in text.splitlines()[0]
    # regenerating over existing identical files leaves them alone (a re-run re-ingests nothing new)
    mtime = a[0].stat().st_mtime_ns
    generate(CORPUS, tmp_path / "a", 4, target_chars=1500)
    assert a[0].stat().st_mtime_ns == mtime


def test_pooled_vectors_are_unit_and_follow_the_text() -> None:
    import numpy as np
    from bench.pooled import HashEmbedding, PooledEmbedding

    paragraphs = [
        "Armenia and Azerbaijan signed a truce. Russia sent peacekeepers.",
        "Iran watches the border.",
    ]
    vectors = np.eye(3, dtype=np.float32)[:2]
    emb = PooledEmbedding(None, "m", paragraphs, vectors)
    got = emb.encode(["Russia sent peacekeepers. Iran watches the border.", "no known sentence here"])
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0)
    assert np.allclose(got[0], np.array([1, 1, 0]) / np.sqrt(2))
    assert emb.stats["matched"] == 1 and emb.stats["chunks"] == 2
    h = HashEmbedding()
    assert np.allclose(h.encode(["a"]), h.encode(["a"])) and not np.allclose(h.encode(["a"]), h.encode(["b"]))


@pytest.mark.integration
@pytest.mark.timeout(1200)
def test_bench_smoke_runs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "bench/run.py", "--smoke", "--out", str(out), "--work", str(tmp_path / "work")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1100,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    smoke = results["tiers"]["smoke"]
    assert smoke["ingest"]["chunks"] > 0
    assert smoke["ingest"]["reingest_embedded"] == 0 and not smoke["ingest"]["reingest_model_loaded"]
    assert smoke["serve"]["n"] == 3
    assert "| figure |" in (out / "RESULTS.md").read_text()
