"""A real `chroma run` server shared by separate processes: one ingests, others query and re-ingest.

Starts the server from the installed chromadb package on a free loopback port, waits for its heartbeat,
and always stops it (fixture teardown). Everything else goes through the real CLI in subprocesses, as
separate users or machines would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CORPUS, REPO, free_port

pytestmark = [pytest.mark.server, pytest.mark.timeout(1800)]

CHROMA = Path(sys.executable).parent / "chroma"
MINI = ("000_58fd850d681a9b3e", "004_2e4681bc52934605")


def _heartbeat(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


@pytest.fixture()
def chroma_url(tmp_path: Path) -> Iterator[str]:
    if not CHROMA.exists():
        pytest.skip(f"no chroma CLI at {CHROMA}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "chroma.log").open("w")
    cmd = [str(CHROMA), "run", "--path", str(tmp_path / "server"), "--port", str(port), "--host", "127.0.0.1"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not _heartbeat(url):
            if proc.poll() is not None:
                pytest.fail(
                    f"chroma server exited ({proc.returncode}): {(tmp_path / 'chroma.log').read_text()}"
                )
            if time.monotonic() > deadline:
                pytest.fail("chroma server: no heartbeat within 120 s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)
        log.close()


def _cli(*args: str) -> dict | list:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    env.pop("CAUCASUS_QA_STORE__CHROMA_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "caucasus_qa.cli", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def _server_ids(url: str) -> set[str]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    port = int(url.rsplit(":", 1)[1])
    client = chromadb.HttpClient(
        host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False)
    )
    return set(client.get_collection("caucasus_qa").get(include=[])["ids"])


def _manifest_ids(store: Path) -> set[str]:
    data = json.loads((store / "manifest.json").read_text(encoding="utf-8"))
    return {cid for entry in data["docs"].values() for cid in entry["chunk_ids"]}


def test_ingest_in_one_process_query_from_others(chroma_url: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in (*(f"{d}.txt" for d in MINI), "catalog.toml"):
        shutil.copy(CORPUS / name, corpus / name)
    store_a, store_b = tmp_path / "machine-a", tmp_path / "machine-b"
    common = ["--corpus-dir", str(corpus), "--chroma-url", chroma_url]

    report = _cli("ingest", *common, "--store-dir", str(store_a), "--json", "--no-progress")
    assert isinstance(report, dict)
    assert report["added_docs"] == 2 and report["embedded_chunks"] > 0
    expected = _manifest_ids(store_a)
    assert len(expected) == report["embedded_chunks"]
    assert _server_ids(chroma_url) == expected  # the server holds exactly what was ingested
    assert not (store_a / "chroma").exists()  # nothing went into an embedded store

    question = "Why would an Azerbaijani victory be a gain for Israel?"
    for store in (store_a, store_b):  # the ingesting machine, and one that has no local manifest
        answer = _cli("ask", *common, "--store-dir", str(store), "--json", question)
        assert isinstance(answer, dict)
        sources = answer["sources"]
        assert sources, answer
        assert {s["doc_id"] for s in sources} <= set(MINI)
        assert {s["chunk_id"] for s in sources} <= expected
        assert any(s["doc_id"] == MINI[1] for s in sources[:3])

    # A second machine ingesting the same corpus re-verifies against the server: it reuses every
    # stored vector (nothing embedded) and leaves exactly the same chunks behind.
    again = _cli("ingest", *common, "--store-dir", str(store_b), "--json", "--no-progress")
    assert isinstance(again, dict)
    assert again["embedded_chunks"] == 0
    assert _manifest_ids(store_b) == expected
    assert _server_ids(chroma_url) == expected


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    url = f"http://127.0.0.1:{free_port()}"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "caucasus_qa.cli",
            "ask",
            "--store-dir",
            str(tmp_path),
            "--chroma-url",
            url,
            "x y",
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0
    assert "cannot reach the Chroma server" in proc.stderr
