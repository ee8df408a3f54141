"""Faults: an ingest killed at any point, damaged or foreign stores, a full disk, a failing rebuild.

SIGKILL tests run the ingest in a child process whose functions are wrapped (by the small runner
below, not by any hook in the library) to ``os.kill(os.getpid(), SIGKILL)`` at a named point; the
next ``ingest`` (in this process) must leave the store exactly as a clean ingest of the same corpus
does: same chunk ids, same texts, same ``chunks.jsonl``, no duplicates, no orphans.

What is simulated and how: a full disk is an ``OSError(ENOSPC)`` raised from ``os.replace`` /
``Store.add`` in-process (tests run as root, where a read-only ``chmod`` does not stop writes); a
dead Chroma server is a port nobody listens on, or a server process we stop between two questions.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from caucasus_qa import Assistant
from caucasus_qa.cli import main
from caucasus_qa.errors import StoreError
from caucasus_qa.sentvec import SentenceStore, sentence_dir
from caucasus_qa.settings import Settings
from caucasus_qa.store import Store

from .conftest import REPO

pytestmark = pytest.mark.integration

DOC_A = "000_58fd850d681a9b3e"
DOC_B = "004_2e4681bc52934605"
EXTRA = "zz_extra_note"
LONG = {"001", "002", "003"}  # the three long articles, left out to keep these tests fast

# The child: wraps one function so that the process SIGKILLs itself at the named point, then ingests.
RUNNER = r"""
import json, os, signal, sys
from caucasus_qa import Assistant, bm25, ingest, manifest, sentvec, store
from caucasus_qa.embed import SentenceTransformerEmbedding

corpus, store_dir, point, rebuild = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
calls = {"n": 0}

def die():
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)

def wrap(owner, name, before=None, after=None):
    real = getattr(owner, name)
    def inner(*args, **kwargs):
        calls["n"] += 1
        if before and before(calls["n"], args):
            die()
        out = real(*args, **kwargs)
        if after and after(calls["n"], args):
            die()
        return out
    setattr(owner, name, inner)

if point == "parse":  # the second document is being parsed
    wrap(ingest, "parse_document", before=lambda n, a: n == 2)
elif point == "embed":  # vectors computed, nothing written yet
    wrap(SentenceTransformerEmbedding, "encode_with_sentences", after=lambda n, a: True)
elif point == "after-sentences":  # a document's sentence vectors written, its chunks not yet added
    wrap(sentvec.SentenceStore, "write", after=lambda n, a: True)
elif point == "after-delete":  # a changed document's old chunks deleted, new ones not yet added
    wrap(store.Store, "delete_doc", after=lambda n, a: a[1] == DOC_B)
elif point == "between-adds":  # the first document written, the next one not
    wrap(store.Store, "add", after=lambda n, a: n == 1)
elif point == "between-manifest-files":  # chunks.jsonl replaced, manifest.json still the old one
    wrap(manifest, "_atomic_write", before=lambda n, a: n == 2)
elif point == "before-bm25":  # manifest saved, keyword index not rebuilt
    wrap(bm25, "rebuild", before=lambda n, a: True)
else:
    raise SystemExit("unknown point " + point)
Assistant(corpus_dir=corpus, store_dir=store_dir).ingest(rebuild=rebuild)
print("NOT KILLED")
""".replace("DOC_B", repr(DOC_B))


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO / "src")}


def run_killed(corpus: Path, store: Path, point: str, rebuild: bool = False) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(corpus), str(store), point, "1" if rebuild else "0"],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, (point, proc.returncode, proc.stdout, proc.stderr[-2000:])


def ingest(corpus: Path, store_dir: Path, **kwargs: object):
    """One ingest as a separate CLI run would do it: the embedded client is closed afterwards.

    (Embedded Chroma caches one client per directory per process; a process that keeps it open
    does not see what another process wrote meanwhile. The CLI never keeps one across runs.)
    """
    qa = Assistant(corpus_dir=corpus, store_dir=store_dir)
    try:
        return qa.ingest(**kwargs)  # type: ignore[arg-type]
    finally:
        if qa._store is not None:
            qa._store.client.close()


def snapshot(store_dir: Path) -> dict[str, object]:
    """Everything that must match a clean ingest: store ids and texts, chunks.jsonl, manifest chunk ids."""
    qa = Assistant(store_dir=store_dir)
    sentences = SentenceStore(sentence_dir(qa.settings))
    got = qa.store.collection.get(include=["documents", "metadatas"])
    qa.store.client.close()
    ids = list(got["ids"])
    manifest = json.loads((store_dir / "manifest.json").read_text(encoding="utf-8"))
    return {
        "ids": sorted(ids),
        "unique": len(ids) == len(set(ids)),
        "texts": {i: d for i, d in zip(got["ids"], got["documents"], strict=True)},
        "doc_ids": {i: m["doc_id"] for i, m in zip(got["ids"], got["metadatas"], strict=True)},
        "chunks_jsonl": (store_dir / "chunks.jsonl").read_text(encoding="utf-8"),
        "manifest_ids": {k: v["chunk_ids"] for k, v in manifest["docs"].items()},
        "bm25_ok": (store_dir / "bm25" / "stamp.json").exists(),
        "sentences": {d: sorted(sentences.read(d)) for d in manifest["docs"]},
        "sentence_files": sorted(p.name for p in sentences.dir.iterdir()),
    }


def change_corpus(corpus: Path) -> None:
    """The change the killed ingest was applying: one document edited, one added."""
    path = corpus / f"{DOC_B}.txt"
    anchor = "Some 2,000 Russian peacekeepers entered the region"
    text = path.read_text(encoding="utf-8")
    assert anchor in text
    path.write_text(text.replace(anchor, "A ceasefire on lake trout was signed. " + anchor), "utf-8")
    (corpus / f"{EXTRA}.md").write_text(
        "# Extra Note\n\nThe Lachin corridor was the only road linking Armenia to Karabakh. "
        "Its blockade in 2023 caused shortages of food and medicine.\n",
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A clean ingest of the changed corpus."""
    root = tmp_path_factory.mktemp("reference")
    corpus = root / "corpus"
    shutil.copytree(REPO / "corpus", corpus, ignore=lambda d, names: [n for n in names if n[:3] in LONG])
    change_corpus(corpus)
    ingest(corpus, root / "store")
    return snapshot(root / "store")


@pytest.fixture(scope="module")
def base_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean ingest of the two-document corpus before the change (copied by each test)."""
    root = tmp_path_factory.mktemp("base")
    corpus = root / "corpus"
    corpus.mkdir()
    for name in (f"{DOC_A}.txt", f"{DOC_B}.txt", "catalog.toml"):
        shutil.copy(REPO / "corpus" / name, corpus / name)
    ingest(corpus, root / "store")
    return root / "store"


@pytest.mark.parametrize(
    ("point", "rebuild"),
    [
        ("parse", False),
        ("embed", False),
        ("after-sentences", False),
        ("after-delete", False),
        ("between-adds", False),
        ("between-manifest-files", False),
        ("before-bm25", False),
        ("between-adds", True),
    ],
)
def test_killed_ingest_is_completed_exactly_by_the_next_one(
    mini_corpus, tmp_path, base_store, reference, point, rebuild
):
    store = tmp_path / "store"
    shutil.copytree(base_store, store)  # the index before the change
    change_corpus(mini_corpus)
    run_killed(mini_corpus, store, point, rebuild)
    report = ingest(mini_corpus, store)
    assert report.embedded_chunks <= len(reference["ids"])  # type: ignore[arg-type]
    after = snapshot(store)
    assert after["unique"]
    assert after["ids"] == reference["ids"]
    assert after["texts"] == reference["texts"]
    assert after["doc_ids"] == reference["doc_ids"]
    assert after["manifest_ids"] == reference["manifest_ids"]
    assert after["chunks_jsonl"] == reference["chunks_jsonl"]
    assert after["bm25_ok"]
    assert after["sentences"] == {d: sorted(ids) for d, ids in reference["manifest_ids"].items()}  # type: ignore[union-attr]
    assert after["sentence_files"] == reference["sentence_files"]
    again = ingest(mini_corpus, store)
    assert not again.changed and again.embedded_chunks == 0  # and it is settled


# -- damaged, foreign and old stores ---------------------------------------------------------------


def _garbage_sqlite(store: Path) -> None:
    (store / "chroma" / "chroma.sqlite3").write_bytes(os.urandom(64 * 1024))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _other_model(store: Path) -> None:
    shutil.rmtree(store / "chroma")
    Store(Settings(store={"store_dir": store}), "some/other-model", 768).client.close()


def _old_schema(store: Path) -> None:
    s = Settings(store={"store_dir": store})
    st = Store(s, s.embed.model_name, 384)
    meta = {**st.expected_metadata, "schema_version": 0}
    st.client.delete_collection(s.store.collection)
    st.client.create_collection(s.store.collection, metadata=meta)
    st.client.close()


DAMAGE = {
    "garbage-sqlite": (_garbage_sqlite, "chroma"),
    "truncated-sqlite": (lambda st: _truncate(st / "chroma" / "chroma.sqlite3"), "chroma"),
    "truncated-manifest": (lambda st: _truncate(st / "manifest.json"), "manifest.json"),
    "truncated-chunks": (lambda st: _truncate(st / "chunks.jsonl"), "chunks.jsonl"),
    "old-manifest-layout": (
        lambda st: (st / "manifest.json").write_text('{"version": 0, "docs": {}}', encoding="utf-8"),
        "manifest.json",
    ),
    "other-model": (_other_model, "some/other-model"),
    "old-schema": (_old_schema, "schema version"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_or_foreign_store_says_so_and_rebuild_recovers(
    damage, base_store, tmp_path, capsys, reference
):
    store = tmp_path / "store"
    shutil.copytree(base_store, store)
    break_it, names = DAMAGE[damage]
    break_it(store)
    corpus = Path(json.loads((base_store / "manifest.json").read_text())["docs"][DOC_A]["path"]).parent
    where = ["--store-dir", str(store), "--corpus-dir", str(corpus)]

    code = main(["ask", "What did Russia do in Ukraine?", *where])
    err = capsys.readouterr().err
    assert code == 3, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert names in err and "ingest --rebuild" in err

    code = main(["ingest", "--rebuild", "--no-progress", *where])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["ask", "--json", "What did Russia do in Ukraine?", *where]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sources"]
    after = snapshot(store)
    base = snapshot(base_store)
    assert after["ids"] == base["ids"] and after["chunks_jsonl"] == base["chunks_jsonl"]
    left = [p.name for p in store.iterdir() if p.name.startswith("chroma")]
    assert left == ["chroma"]  # nothing set aside is left behind


# -- full disk, failing rebuild ----------------------------------------------------------------------


def _enospc(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_disk_full_while_saving_the_manifest_is_one_line_and_the_next_ingest_completes(
    mini_corpus, tmp_path, base_store, reference, monkeypatch
):
    """Simulated: ``os.replace`` (the atomic rename of manifest.json / chunks.jsonl) fails with ENOSPC."""
    store = tmp_path / "store"
    shutil.copytree(base_store, store)
    manifest_before = (store / "manifest.json").read_bytes()
    change_corpus(mini_corpus)
    with monkeypatch.context() as m:
        m.setattr(os, "replace", _enospc)
        with pytest.raises(StoreError) as err:
            ingest(mini_corpus, store)
    msg = str(err.value)
    assert "No space left" in msg and "\n" not in msg and "ingest" in msg
    assert (store / "manifest.json").read_bytes() == manifest_before  # old manifest, no temp files left
    assert not [p for p in store.iterdir() if p.name.endswith(".tmp")]
    ingest(mini_corpus, store)
    after = snapshot(store)
    assert after["ids"] == reference["ids"] and after["chunks_jsonl"] == reference["chunks_jsonl"]


@pytest.mark.parametrize("fault", ["disk-full-in-store", "embedding-crash"])
def test_failed_rebuild_keeps_the_old_index(mini_corpus, tmp_path, base_store, monkeypatch, fault):
    from caucasus_qa.embed import SentenceTransformerEmbedding

    store = tmp_path / "store"
    shutil.copytree(base_store, store)
    before = snapshot(store)
    manifest_before = (store / "manifest.json").read_bytes()
    with monkeypatch.context() as m:
        if fault == "disk-full-in-store":
            m.setattr(Store, "add", _enospc)
        else:

            def boom(*args: object, **kwargs: object) -> None:
                raise RuntimeError("CUDA out of memory (simulated)")

            m.setattr(SentenceTransformerEmbedding, "encode_with_sentences", boom)
        with pytest.raises((StoreError, RuntimeError)):
            ingest(mini_corpus, store, rebuild=True)
    after = snapshot(store)
    assert after["ids"] == before["ids"] and after["texts"] == before["texts"]
    assert (store / "manifest.json").read_bytes() == manifest_before
    assert after["sentences"] == before["sentences"] and after["sentence_files"] == before["sentence_files"]
    assert not (store / "sentences__rebuild").exists()
    qa = Assistant(corpus_dir=mini_corpus, store_dir=store)
    assert qa.ask("What did Russia do in Ukraine?").sources
    qa.store.client.close()
    # and a rebuild that succeeds afterwards gives the same ids, with no staging collection left
    ingest(mini_corpus, store, rebuild=True)
    assert snapshot(store)["ids"] == before["ids"]
    client = Store(Settings(store={"store_dir": store}), Settings().embed.model_name, 384).client
    names = [c.name for c in client.list_collections()]
    assert names == ["caucasus_qa"]


# -- Chroma server down, or gone between two questions -----------------------------------------------


@pytest.mark.server
def test_chroma_server_down_or_gone_is_one_clear_line(mini_corpus, tmp_path, capsys):
    import socket
    import time
    import urllib.request

    chroma = Path(sys.executable).parent / "chroma"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    where = ["--store-dir", str(tmp_path / "store"), "--corpus-dir", str(mini_corpus), "--chroma-url", url]

    assert main(["ask", "What did Russia do?", *where]) == 3  # nobody listening yet
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and url in err and "chroma run" in err

    cmd = [str(chroma), "run", "--path", str(tmp_path / "srv"), "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(400):
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        qa = Assistant(corpus_dir=mini_corpus, store_dir=tmp_path / "store", store={"chroma_url": url})
        assert qa.ask("What did Russia do in Ukraine?").sources
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    with pytest.raises(StoreError) as gone:  # the same assistant, its server gone
        qa.ask("What did Israel buy from Azerbaijan?")
    assert url in str(gone.value) and "\n" not in str(gone.value) and "chroma run" in str(gone.value)


def test_a_new_collection_searches_its_hnsw_graph_wide_enough_to_be_exact(tmp_path: Path) -> None:
    # a fresh store's dense top 40 used to differ by a chunk from process to process (graph built on
    # several threads, 100 neighbours explored); 200 makes a corpus of a few hundred chunks exact
    from caucasus_qa.store import SEARCH_EF

    s = Settings(store={"store_dir": tmp_path})
    st = Store(s, s.embed.model_name, 384)
    try:
        assert st.collection.configuration["hnsw"]["ef_search"] == SEARCH_EF >= 200
    finally:
        st.client.close()
